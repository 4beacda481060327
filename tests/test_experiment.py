"""lossbook.experiment: the seeded training loop, its progress line and the seed summary."""

import numpy as np
import pytest
import torch

from lossbook import display, experiment


def line_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5]])


def test_train_is_reproducible_and_learns(capsys):
    x, y = line_data()

    def fit(seed):
        return experiment.train(lambda: torch.nn.Linear(3, 1), torch.nn.functional.mse_loss, x, y,
                                epochs=40, lr=0.1, seed=seed, batch_size=16, label=f"seed {seed}",
                                metrics={"weight norm": lambda m: float(m.weight.norm())})

    model_a, history_a = fit(0)
    model_b, history_b = fit(0)
    assert torch.equal(model_a.weight, model_b.weight)
    assert history_a.values == history_b.values
    assert history_a.values["loss"][-1] < 1e-2 * history_a.values["loss"][0]
    assert len(history_a.epochs) == 40 and set(history_a.last()) == {"loss", "weight norm"}
    assert capsys.readouterr().out == ("seed 0 " + "." * 20 + " 40 epochs\n") * 2


def test_minibatches_cover_every_row_once_in_a_seeded_order():
    batches = experiment.minibatches(10, 3, seed=1, epoch=2)
    assert sorted(torch.cat(batches).tolist()) == list(range(10))
    assert [b.tolist() for b in batches] == [
        b.tolist() for b in experiment.minibatches(10, 3, seed=1, epoch=2)]
    assert [b.tolist() for b in batches] != [
        b.tolist() for b in experiment.minibatches(10, 3, seed=1, epoch=3)]
    assert len(experiment.minibatches(10, None, seed=0, epoch=1)) == 1


def test_over_seeds_collects_one_value_per_seed_and_mean_std_formats_it():
    results = experiment.over_seeds(lambda seed: {"x": seed * 0.1}, seeds=range(3))
    np.testing.assert_allclose(results["x"], [0.0, 0.1, 0.2])
    assert display.mean_std(results["x"], 2) == "0.10 ± 0.10"
    with pytest.raises(AssertionError, match="rounding boundary"):
        display.mean_std([0.1249, 0.1251], 2)
    assert display.mean_std([0.1249, 0.1252], 2, tolerance=1e-6) == "0.13 ± 0.00"
    with pytest.raises(ValueError, match="at least 2"):
        display.mean_std([0.5], 2)


def test_accuracy_counts_arg_max_hits():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert experiment.accuracy(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)


def test_stacked_mlp_copies_are_independent_linear_networks():
    sizes, seeds = (2, 5, 4, 1), [3, 7, 11]
    net = experiment.StackedMLP(sizes, seeds, dtype=torch.float64)
    x = torch.randn(3, 6, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = net(x)
    assert out.shape == (3, 6, 1)
    for c, seed in enumerate(seeds):
        # the same copy, alone, and torch.nn.Linear layers holding its parameters
        alone = experiment.StackedMLP(sizes, [seed], dtype=torch.float64)
        torch.testing.assert_close(alone(x[c:c + 1])[0], out[c])
        layers = []
        for w, b in zip(net.weights, net.biases):
            linear = torch.nn.Linear(*w.shape[1:], dtype=torch.float64)
            linear.weight.data, linear.bias.data = w[c].T.detach(), b[c, 0].detach()
            layers += [linear, torch.nn.ReLU()]
        torch.testing.assert_close(torch.nn.Sequential(*layers[:-1])(x[c]), out[c])
        bound = 1 / 2 ** 0.5  # first layer's fan-in is 2: nn.Linear's uniform bound
        assert 0 < net.weights[0][c].abs().max() <= bound
    out[0].sum().backward()  # copy 0's output depends on copy 0's parameters only
    assert all(w.grad[1:].abs().max() == 0 and w.grad[0].abs().max() > 0 for w in net.weights)


def test_stacked_mlp_draws_the_same_start_in_every_dtype_and_checks_its_input():
    single = experiment.StackedMLP((2, 3, 1), [5, 6])
    double = experiment.StackedMLP((2, 3, 1), [5, 6], dtype=torch.float64)
    assert single.weights[0].dtype == torch.float32
    torch.testing.assert_close(single.weights[1].double(), double.weights[1], rtol=1e-7, atol=0)
    assert not torch.equal(double.weights[0][0], double.weights[0][1])  # seeds differ
    with pytest.raises(ValueError, match=r"^x: expected shape \(2, batch, 2\)"):
        single(torch.zeros(3, 4, 2))

def test_mean_std_passes_a_smaller_tolerance_to_settled():
    near_a_boundary = [0.1249, 0.1251]  # mean 0.1250, std 0.0001
    with pytest.raises(AssertionError, match="rounding boundary"):
        display.mean_std([0.1239, 0.1241], 2)
    assert display.mean_std([0.1239, 0.1241], 2, tolerance=1e-6) == "0.12 ± 0.00"
    with pytest.raises(AssertionError, match="rounding boundary"):
        display.mean_std(near_a_boundary, 2, tolerance=1e-6)
