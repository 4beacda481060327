"""lossbook.margin against torch.nn.functional and scikit-learn: values, gradients, edge cases,
bad input."""

import numpy as np
import pytest
import sklearn.metrics
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook
import lossbook.margin as margin
from lossbook.grading.margin import grade_multi_margin_loss
from tests.reference import assert_matches, classes, generator, randn

REDUCTIONS = ["none", "mean", "sum"]


def signs(*shape, seed=0, dtype=torch.float64, device="cpu"):
    return (torch.randint(0, 2, shape, generator=generator(seed)) * 2 - 1).to(device, dtype)


def constant_target(fn):
    """``fn`` with its float target detached: torch refuses gradients for targets, and
    ``assert_matches`` would otherwise differentiate both sides with respect to them."""
    def wrapped(*args, **kwargs):
        *inputs, target = args
        return fn(*inputs, target.detach(), **kwargs)
    return wrapped


# --------------------------------------------------------------------------- binary hinge
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_loss_matches_the_formula_and_sklearn(device, dtype, reduction):
    f = randn(40, dtype=dtype, device=device, scale=2)
    y = signs(40, seed=1, dtype=dtype, device=device)
    expected = torch.maximum(torch.zeros_like(f), 1 - y * f)  # Cortes & Vapnik (1995)
    expected = {"none": expected, "mean": expected.mean(), "sum": expected.sum()}[reduction]
    torch.testing.assert_close(margin.hinge_loss(f, y, reduction=reduction), expected)
    sklearn_mean = sklearn.metrics.hinge_loss(y.cpu().numpy(), f.cpu().numpy())
    assert margin.hinge_loss(f, y).item() == pytest.approx(sklearn_mean)


def test_hinge_loss_subgradient_and_margin():
    f = torch.tensor([-2.0, 0.5, 1.0, 3.0], requires_grad=True)
    y = torch.tensor([1.0, 1.0, 1.0, 1.0])
    loss = margin.hinge_loss(f, y, reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(3.0 + 0.5)
    assert f.grad.tolist() == [-1.0, -1.0, 0.0, 0.0]  # the zero branch at the kink y f = 1
    assert margin.hinge_loss(f, y, margin=2.0, reduction="none").tolist() == [4.0, 1.5, 1.0, 0.0]


def test_hinge_is_max_of_zero_and_one_minus_y_yhat_not_one_minus_yhat():
    # Seed 001 writes the loss of a mistake as 1 - ŷ; for y = -1, ŷ = 0.5 that is 0.5, not 1.5.
    loss = margin.hinge_loss(torch.tensor([0.5]), torch.tensor([-1]))
    assert loss.item() == 1.5


def test_squared_hinge_matches_the_formula_and_is_smooth(device, dtype):
    f = randn(30, dtype=dtype, device=device, scale=2)
    y = signs(30, seed=1, dtype=dtype, device=device)

    def formula(f, y, reduction="mean"):
        return (torch.clamp(1 - y * f, min=0) ** 2).mean()

    assert_matches(margin.squared_hinge_loss, formula, f, y)
    at_margin = torch.tensor([1.0], dtype=dtype, requires_grad=True)
    margin.squared_hinge_loss(at_margin, torch.tensor([1.0])).backward()
    assert at_margin.grad.item() == 0.0


@pytest.mark.parametrize("fn", [margin.hinge_loss, margin.squared_hinge_loss])
def test_binary_hinges_reject_labels_outside_plus_minus_one(fn):
    with pytest.raises(ValueError, match=r"^target: expected values in \{-1, 1\}, got 0"):
        fn(torch.zeros(3), torch.tensor([1, 0, -1]))
    with pytest.raises(ValueError, match=r"^target: expected shape \(3,\)"):
        fn(torch.zeros(3), torch.ones(2))
    with pytest.raises(TypeError, match="^input: expected a floating-point tensor"):
        fn(torch.zeros(3, dtype=torch.long), torch.ones(3))


# --------------------------------------------------------------------------- soft margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss_matches_torch(device, dtype, reduction):
    x = randn(5, 7, dtype=dtype, device=device, scale=3)
    y = signs(5, 7, seed=1, dtype=dtype, device=device)
    assert_matches(constant_target(margin.soft_margin_loss),
                   constant_target(F.soft_margin_loss), x, y, reduction=reduction)


def test_soft_margin_loss_zero_target_is_log_two_like_torch():
    x = randn(6)
    ours = margin.soft_margin_loss(x, torch.zeros(6, dtype=torch.float64), reduction="none")
    theirs = F.soft_margin_loss(x, torch.zeros(6, dtype=torch.float64), reduction="none")
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(ours, torch.full_like(x, np.log(2)))


def test_soft_margin_loss_is_bce_with_logits_of_zero_one_targets(dtype):
    x = randn(20, dtype=dtype, scale=3)
    y = signs(20, seed=2, dtype=dtype)
    torch.testing.assert_close(margin.soft_margin_loss(x, y),
                               F.binary_cross_entropy_with_logits(x, (1 + y) / 2))


def test_soft_margin_loss_is_finite_where_torch_overflows():
    x = torch.tensor([-1e4, 1e4], requires_grad=True)
    y = torch.tensor([1.0, -1.0])
    loss = margin.soft_margin_loss(x, y, reduction="sum")
    loss.backward()
    assert loss.item() == 2e4 and x.grad.tolist() == [-1.0, 1.0]
    assert torch.isinf(F.soft_margin_loss(x.detach(), y))  # torch's log1p(exp(.)) overflows


# --------------------------------------------------------------------------- ranking
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin_value", [0, 0.5])
def test_margin_ranking_loss_matches_torch(device, dtype, reduction, margin_value):
    x1, x2 = randn(12, dtype=dtype, device=device), randn(12, seed=1, dtype=dtype, device=device)
    y = signs(12, seed=2, dtype=dtype, device=device)
    assert_matches(constant_target(margin.margin_ranking_loss),
                   constant_target(F.margin_ranking_loss), x1, x2, y,
                   margin=margin_value, reduction=reduction)


def test_margin_ranking_loss_broadcasts_and_ignores_target_values_like_torch():
    x1, x2 = randn(4, 3), randn(1, 3, seed=1)
    y = torch.tensor([[1.0, -1.0, 0.0]])
    assert_matches(constant_target(margin.margin_ranking_loss),
                   constant_target(F.margin_ranking_loss), x1, x2, y, margin=0.3,
                   reduction="none")


@given(st.lists(st.floats(-5, 5), min_size=3, max_size=3),
       st.lists(st.floats(-5, 5), min_size=3, max_size=3),
       st.lists(st.sampled_from([-1.0, 1.0]), min_size=3, max_size=3),
       st.floats(0, 2))
@settings(max_examples=50, deadline=None)
def test_margin_ranking_loss_is_symmetric_under_swapping_the_pair(x1, x2, y, m):
    x1, x2, y = torch.tensor(x1), torch.tensor(x2), torch.tensor(y)
    forward = margin.margin_ranking_loss(x1, x2, y, margin=m, reduction="none")
    swapped = margin.margin_ranking_loss(x2, x1, -y, margin=m, reduction="none")
    assert torch.equal(forward, swapped)


def test_margin_ranking_loss_rejects_inputs_of_different_rank():
    with pytest.raises(ValueError, match="^input2: expected 2 dimensions"):
        margin.margin_ranking_loss(torch.zeros(3, 1), torch.zeros(3), torch.ones(3, 1))
    with pytest.raises(ValueError, match="^target: expected 1 dimensions"):
        margin.margin_ranking_loss(torch.zeros(3), torch.zeros(3), torch.ones(3, 1))


# --------------------------------------------------------------------------- hinge embedding
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin_value", [1.0, 2.5])
def test_hinge_embedding_loss_matches_torch(device, dtype, reduction, margin_value):
    distance = randn(6, 5, dtype=dtype, device=device).abs() * 2
    y = signs(6, 5, seed=1, dtype=dtype, device=device)
    assert_matches(constant_target(margin.hinge_embedding_loss),
                   constant_target(F.hinge_embedding_loss), distance, y,
                   margin=margin_value, reduction=reduction)


def test_hinge_embedding_loss_targets_outside_plus_minus_one_add_both_terms_like_torch(device):
    x = torch.tensor([0.3, 2.0, 0.7, 1.5], dtype=torch.float64, device=device)
    y = torch.tensor([0.0, 0.0, 2.0, 0.5], dtype=torch.float64, device=device)
    assert_matches(constant_target(margin.hinge_embedding_loss),
                   constant_target(F.hinge_embedding_loss), x, y, reduction="none")
    both = x + torch.clamp(1 - x, min=0)
    torch.testing.assert_close(margin.hinge_embedding_loss(x, y, reduction="none"), both)
    assert_matches(constant_target(margin.hinge_embedding_loss),
                   constant_target(F.hinge_embedding_loss), x,
                   torch.tensor([0, 1, -1, 3], device=device), reduction="sum")


# --------------------------------------------------------------------------- multi-margin
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
@pytest.mark.parametrize("margin_value", [1.0, 0.3])
def test_multi_margin_loss_matches_torch(device, dtype, reduction, p, weighted, margin_value):
    x = randn(8, 5, dtype=dtype, device=device)
    y = classes(8, num_classes=5, seed=1, device=device)
    w = torch.rand(5, generator=generator(2), dtype=dtype).to(device) + 0.5 if weighted else None
    assert_matches(margin.multi_margin_loss, F.multi_margin_loss, x, y, p=p,
                   margin=margin_value, weight=w, reduction=reduction)


def test_multi_margin_loss_unbatched_matches_torch(device, dtype):
    x = randn(6, dtype=dtype, device=device)
    y = torch.tensor(2, device=device)
    for reduction in REDUCTIONS:
        assert_matches(margin.multi_margin_loss, F.multi_margin_loss, x, y, reduction=reduction)


def test_multi_margin_loss_sums_over_all_wrong_classes_by_hand():
    x = torch.tensor([[0.1, 0.2, 0.4, 0.8]])
    y = torch.tensor([3])
    # (1 - 0.8 + 0.1) + (1 - 0.8 + 0.2) + (1 - 0.8 + 0.4) = 1.3, over C = 4
    assert margin.multi_margin_loss(x, y).item() == pytest.approx(1.3 / 4)


def test_multi_margin_loss_weight_multiplies_after_the_power_like_torch():
    x, y = randn(5, 4), classes(5, num_classes=4, seed=3)
    w = torch.tensor([0.5, 2.0, 3.0, 1.5], dtype=torch.float64)
    ours = margin.multi_margin_loss(x, y, p=2, weight=w, reduction="none")
    unweighted = margin.multi_margin_loss(x, y, p=2, reduction="none")
    torch.testing.assert_close(ours, w[y] * unweighted)
    torch.testing.assert_close(ours, F.multi_margin_loss(x, y, p=2, weight=w, reduction="none"))


def test_multi_margin_loss_rejects_p_three_like_torch_and_bad_input():
    x, y = torch.zeros(2, 3), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, y, p=3)
    with pytest.raises(ValueError, match="^p: only 1 and 2 are supported"):
        margin.multi_margin_loss(x, y, p=3)
    with pytest.raises(ValueError, match=r"^target: class indices must be in \[0, 3\), got 3"):
        margin.multi_margin_loss(x, torch.tensor([0, 3]))
    with pytest.raises(TypeError, match="^target: expected integer class indices"):
        margin.multi_margin_loss(x, torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"^weight: expected shape \(3,\)"):
        margin.multi_margin_loss(x, y, weight=torch.ones(2))
    with pytest.raises(ValueError, match=r"^input: expected shape \(C,\) or \(N, C\)"):
        margin.multi_margin_loss(torch.zeros(2, 3, 4), y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss_takes_torchs_unbatched_shapes(reduction):
    """A 0-d score is one class; an unbatched target may be () or (1,), and 'none' keeps it."""
    cases = [(randn(()), torch.tensor(0), None), (randn(()), torch.tensor([0]), None),
             (randn(5), torch.tensor([3]), None), (randn(()), torch.tensor(0), torch.ones(1))]
    for x, y, w in cases:
        w = None if w is None else w.double()
        for m in (1.0, 7.0, -3.0):
            assert_matches(margin.multi_margin_loss, F.multi_margin_loss, x, y,
                           margin=m, weight=w, reduction=reduction)
        ours = margin.multi_margin_loss(x, y, reduction=reduction)
        assert ours.shape == F.multi_margin_loss(x, y, reduction=reduction).shape


def test_multi_margin_loss_refuses_what_torch_refuses():
    x = randn(3, 4)
    for bad in (dict(target=torch.tensor([0, 1, 2]).int()),  # torch: Long only
                dict(weight=torch.ones(4, dtype=torch.float32))):  # another dtype
        kwargs = dict(dict(target=torch.tensor([0, 1, 2])), **bad)
        with pytest.raises(RuntimeError):
            F.multi_margin_loss(x, **kwargs)
        with pytest.raises(RuntimeError, match=f"^{next(iter(bad))}: expected"):
            margin.multi_margin_loss(x, **kwargs)
    with pytest.raises(ValueError, match=r"^target: expected shape \(\) or \(1,\)"):
        margin.multi_margin_loss(randn(5), torch.tensor([1, 2]))


# --------------------------------------------------------------------------- multi-label margin
def padded_targets(num_samples, num_classes, seed):
    """Random index targets: a random number of distinct classes, then -1, then junk."""
    g = generator(seed)
    rows = []
    for _ in range(num_samples):
        k = int(torch.randint(0, num_classes + 1, (1,), generator=g))
        row = torch.randperm(num_classes, generator=g)[:k].tolist()
        if k < num_classes:  # after the first -1 anything in [-1, C) is ignored
            tail = torch.randint(-1, num_classes, (num_classes - k - 1,), generator=g).tolist()
            row += [-1] + tail
        rows.append(row)
    return torch.tensor(rows)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss_matches_torch(device, dtype, reduction):
    x = randn(10, 6, dtype=dtype, device=device)
    y = padded_targets(10, 6, seed=1).to(device)
    assert_matches(margin.multilabel_margin_loss, F.multilabel_margin_loss, x, y,
                   reduction=reduction)
    assert_matches(margin.multilabel_margin_loss, F.multilabel_margin_loss, x[0], y[0],
                   reduction=reduction)


def test_multilabel_margin_loss_reproduces_the_torch_docs_example():
    x = torch.tensor([[0.1, 0.2, 0.4, 0.8]])
    y = torch.tensor([[3, 0, -1, 1]])  # classes {3, 0}; the 1 after -1 is not read
    assert margin.multilabel_margin_loss(x, y).item() == pytest.approx(0.85)
    by_hand = ((1 - (0.1 - 0.2)) + (1 - (0.1 - 0.4)) + (1 - (0.8 - 0.2)) + (1 - (0.8 - 0.4))) / 4
    assert by_hand == pytest.approx(0.85)


def test_multilabel_margin_loss_reading_stops_at_the_first_minus_one():
    x = randn(1, 5)
    stops = margin.multilabel_margin_loss(x, torch.tensor([[2, -1, 0, 1, 4]]))
    only_two = margin.multilabel_margin_loss(x, torch.tensor([[2, -1, -1, -1, -1]]))
    assert stops.item() == only_two.item()
    assert margin.multilabel_margin_loss(x, torch.full((1, 5), -1)).item() == 0.0


def test_multilabel_margin_loss_counts_repeated_targets_twice_like_torch():
    x = torch.tensor([[0.1, 0.2, 0.4, 0.8]])
    y = torch.tensor([[3, 3, -1, 1]])
    assert_matches(margin.multilabel_margin_loss, F.multilabel_margin_loss, x, y)
    assert margin.multilabel_margin_loss(x, y).item() == pytest.approx(0.65)


def test_multilabel_margin_loss_rejects_out_of_range_and_multi_hot_targets():
    x = torch.zeros(1, 4)
    for bad in ([[3, 0, -1, 7]], [[3, -2, 0, 1]]):
        with pytest.raises(RuntimeError, match="out of range"):
            F.multilabel_margin_loss(x, torch.tensor(bad))
        with pytest.raises(ValueError, match=r"^target: class indices must be in \[0, 4\) or -1"):
            margin.multilabel_margin_loss(x, torch.tensor(bad))
    with pytest.raises(TypeError, match="^target: expected integer class indices"):
        margin.multilabel_margin_loss(x, torch.tensor([[1.0, 0.0, 1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"^target: expected shape \(1, 4\)"):
        margin.multilabel_margin_loss(x, torch.tensor([[1, 0]]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss_takes_torchs_unbatched_shapes(reduction):
    for x, y in ((randn(()), torch.tensor(0)), (randn(()), torch.tensor(-1)),
                 (randn(()), torch.tensor([0])), (randn(1), torch.tensor(0)),
                 (randn(7), torch.tensor([2, 0, 6, -1, 4, -1, 6]))):
        assert_matches(margin.multilabel_margin_loss, F.multilabel_margin_loss, x, y,
                       reduction=reduction)
    with pytest.raises(RuntimeError):
        F.multilabel_margin_loss(randn(3), torch.tensor([0, -1]))
    with pytest.raises(RuntimeError, match="^target: expected 3 class indices"):
        margin.multilabel_margin_loss(randn(3), torch.tensor([0, -1]))


# --------------------------------------------------------------------------- multi-label soft
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
def test_multilabel_soft_margin_loss_matches_torch(device, dtype, reduction, weighted):
    x = randn(7, 4, dtype=dtype, device=device, scale=3)
    y = (torch.rand(7, 4, generator=generator(1)) > 0.5).to(device, dtype)
    w = torch.rand(4, generator=generator(2), dtype=dtype).to(device) + 0.5 if weighted else None
    assert_matches(constant_target(margin.multilabel_soft_margin_loss),
                   constant_target(F.multilabel_soft_margin_loss), x, y,
                   weight=w, reduction=reduction)


def test_multilabel_soft_margin_loss_is_mean_bce_with_logits():
    x = randn(5, 6, scale=2)
    y = (torch.rand(5, 6, generator=generator(3)) > 0.5).double()
    bce = lossbook.binary_cross_entropy_with_logits(x, y, reduction="none")
    torch.testing.assert_close(margin.multilabel_soft_margin_loss(x, y), bce.mean())
    torch.testing.assert_close(margin.multilabel_soft_margin_loss(x, y, reduction="none"),
                               bce.mean(dim=1))


# --------------------------------------------------------------------------- catalog, grader
def test_every_torch_named_margin_loss_is_exported_under_its_torch_name():
    for name in ("margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
                 "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss"):
        assert getattr(lossbook, name) is getattr(margin, name)
        assert hasattr(F, name)


def test_multi_margin_grader_scores_right_wrong_and_missing_answers():
    def right(x, y):
        x_y = x.gather(1, y[:, None])
        hinge = torch.clamp(1 - x_y + x, min=0)
        return (hinge.sum(1) - 1) / x.shape[1]  # the j = y term is exactly 1

    def only_the_worst_class(x, y):  # Crammer & Singer's max instead of the sum
        x_y = x.gather(1, y[:, None])
        hinge = torch.clamp(1 - x_y + x, min=0).scatter(1, y[:, None], 0.0)
        return hinge.max(1).values / x.shape[1]

    def missing(x, y):
        raise NotImplementedError

    assert grade_multi_margin_loss(right).score == 1.0
    assert grade_multi_margin_loss(only_the_worst_class).score < 1.0
    assert grade_multi_margin_loss(missing).score == 0.0


def test_multilabel_soft_margin_loss_takes_integer_multi_hot_targets_like_torch():
    x, y = randn(5, 4), (torch.rand(5, 4, generator=generator(3)) > 0.5).long()
    assert_matches(margin.multilabel_soft_margin_loss, F.multilabel_soft_margin_loss,
                   x, y)
    w = torch.rand(4, generator=generator(4), dtype=torch.float64)  # float64: promotes
    assert_matches(margin.multilabel_soft_margin_loss, F.multilabel_soft_margin_loss,
                   x.float(), y, weight=w, atol=1e-6, rtol=1e-6)  # computed in float32
    assert margin.multilabel_soft_margin_loss(x.float(), y, weight=w).dtype == torch.float64
    with pytest.raises(TypeError, match="^target: expected integer multi-hot labels"):
        margin.multilabel_soft_margin_loss(x, y.bool())
