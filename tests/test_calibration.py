"""lossbook.calibration against scikit-learn, scipy and the formulas evaluated by hand: proper
scoring rules (value, gradient, reductions, layouts), calibration error and reliability
curves (binning conventions, edge cases), temperature scaling, the plot helper, the graders."""

import math

import numpy as np
import pytest
import scipy.optimize
import sklearn.calibration
import sklearn.metrics
import torch
import torch.nn.functional as F

import lossbook
import lossbook.calibration as cal
from lossbook import catalog
from lossbook.grading import calibration as grading
from tests.reference import TOLERANCES, classes, generator, leaf, rand, randn

REDUCTIONS = ["none", "mean", "sum"]


def probabilities(*shape, seed=0, dtype=torch.float64, device="cpu", dim=1, scale=2.0):
    return torch.softmax(randn(*shape, seed=seed, dtype=dtype, scale=scale), dim=dim).to(device)


def reduced(per_sample, reduction):
    return {"none": per_sample, "mean": per_sample.mean(), "sum": per_sample.sum()}[reduction]


def close(actual, expected, dtype):
    expected = torch.as_tensor(np.asarray(expected), dtype=torch.float64)
    torch.testing.assert_close(actual.detach().cpu().double(), expected, equal_nan=True,
                               **TOLERANCES[dtype])


# --------------------------------------------------------------------------- Brier score
def sklearn_brier_rows(p, y, num_classes):
    """sklearn's multi-class Brier score of each row on its own (its [0, 2] scale)."""
    p, y = p.detach().cpu().double().numpy(), y.cpu().numpy()
    p = p / p.sum(1, keepdims=True)  # float32 rows off by 1e-7 make sklearn warn
    return np.array([sklearn.metrics.brier_score_loss(y[i:i + 1], p[i:i + 1],
                                                      labels=list(range(num_classes)),
                                                      scale_by_half=False)
                     for i in range(len(y))])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("num_classes", [2, 4])
def test_brier_score_matches_sklearn(device, dtype, reduction, num_classes):
    p = probabilities(9, num_classes, dtype=dtype, device=device)
    y = classes(9, num_classes=num_classes, seed=1, device=device)
    expected = reduced(torch.as_tensor(sklearn_brier_rows(p, y, num_classes)), reduction)
    close(lossbook.brier_score_loss(p, y, reduction=reduction), expected, dtype)


def test_brier_score_mean_is_sklearns_multiclass_score_and_twice_its_binary_one():
    p = probabilities(20, 5)
    y = classes(20, num_classes=5, seed=2)
    assert lossbook.brier_score_loss(p, y).item() == pytest.approx(
        sklearn.metrics.brier_score_loss(y.numpy(), p.numpy(), labels=list(range(5))))
    positive = rand(20, seed=3)
    labels = (rand(20, seed=4) < positive).long()
    two_class = torch.stack([1 - positive, positive], dim=1)
    binary = sklearn.metrics.brier_score_loss(labels.numpy(), positive.numpy())
    assert lossbook.brier_score_loss(two_class, labels).item() == pytest.approx(2 * binary)


def test_brier_score_gradient_is_twice_the_error(device, dtype):
    p = leaf(probabilities(6, 3, dtype=dtype, device=device))
    y = classes(6, num_classes=3, seed=5, device=device)
    lossbook.brier_score_loss(p, y, reduction="sum").backward()
    one_hot = F.one_hot(y, 3).to(dtype)
    torch.testing.assert_close(p.grad, 2 * (p.detach() - one_hot), **TOLERANCES[dtype])


@pytest.mark.parametrize("loss", [lossbook.brier_score_loss, lossbook.spherical_score_loss])
def test_probability_target_gives_the_expected_loss(device, dtype, loss):
    p = probabilities(7, 4, dtype=dtype, device=device)
    q = probabilities(7, 4, seed=6, dtype=dtype, device=device, scale=1.0)
    by_class = [loss(p, torch.full((7,), c, device=device), reduction="none") for c in range(4)]
    expected = sum(q[:, c] * by_class[c] for c in range(4))
    torch.testing.assert_close(loss(p, q, reduction="none"), expected, **TOLERANCES[dtype])
    one_hot = F.one_hot(classes(7, num_classes=4, seed=7), 4).to(device=device, dtype=dtype)
    torch.testing.assert_close(loss(p, one_hot, reduction="none"),
                               loss(p, one_hot.argmax(1), reduction="none"))


@pytest.mark.parametrize("loss", [lossbook.brier_score_loss, lossbook.spherical_score_loss])
def test_layouts_unbatched_and_spatial_agree_with_rows(loss):
    p = probabilities(2, 3, 4, 5)  # (N, C, H, W), classes on dim 1
    y = classes(2, 4, 5, num_classes=3, seed=8)
    rows = loss(p.movedim(1, -1).reshape(-1, 3), y.reshape(-1), reduction="none")
    torch.testing.assert_close(loss(p, y, reduction="none"), rows.reshape(2, 4, 5))
    torch.testing.assert_close(loss(p[0, :, 0, 0], y[0, 0, 0], reduction="none"), rows[0])


def test_brier_score_of_a_certain_right_answer_is_exactly_zero():
    p = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert lossbook.brier_score_loss(p, torch.tensor([0, 2]), reduction="sum").item() == 0.0
    assert lossbook.brier_score_loss(p, torch.tensor([1, 0]), reduction="none").tolist() == [
        2.0, 2.0]


# --------------------------------------------------------------------------- spherical score
def spherical_by_hand(p, y):
    p, y = p.detach().cpu().double().numpy(), y.cpu().numpy()
    return np.array([1 - p[i, y[i]] / math.sqrt(sum(v * v for v in p[i])) for i in range(len(y))])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_spherical_score_matches_the_formula(device, dtype, reduction):
    p = probabilities(8, 5, dtype=dtype, device=device)
    y = classes(8, num_classes=5, seed=9, device=device)
    expected = reduced(torch.as_tensor(spherical_by_hand(p, y)), reduction)
    close(lossbook.spherical_score_loss(p, y, reduction=reduction), expected, dtype)


def test_spherical_score_gradient_matches_the_derivative(device, dtype):
    p = leaf(probabilities(5, 4, dtype=dtype, device=device))
    y = classes(5, num_classes=4, seed=10, device=device)
    lossbook.spherical_score_loss(p, y, reduction="sum").backward()
    q, norm = p.detach(), p.detach().norm(dim=1, keepdim=True)
    one_hot = F.one_hot(y, 4).to(dtype)
    # d/dp_k (1 - p_y / |p|) = -delta_ky / |p| + p_y p_k / |p|^3
    expected = -one_hot / norm + q.gather(1, y[:, None]) * q / norm**3
    torch.testing.assert_close(p.grad, expected, **TOLERANCES[dtype])


def test_spherical_score_range():
    uniform = torch.full((1, 4), 0.25)
    assert lossbook.spherical_score_loss(uniform, torch.tensor([2])).item() == pytest.approx(0.5)
    certain = torch.tensor([[0.0, 1.0]])
    assert lossbook.spherical_score_loss(certain, torch.tensor([1])).item() == 0.0
    assert lossbook.spherical_score_loss(certain, torch.tensor([0])).item() == 1.0


# --------------------------------------------------------------------------- properness
def expected_log_loss(r, q, reduction="none"):
    return lossbook.cross_entropy(r.log(), q, reduction=reduction)


RULES = {"log": expected_log_loss, "brier": lossbook.brier_score_loss,
         "spherical": lossbook.spherical_score_loss}


@pytest.mark.parametrize("name", RULES)
def test_strictly_proper_rules_are_minimised_only_by_the_truth(name):
    rule = RULES[name]
    q = probabilities(1, 4, seed=11, scale=1.0)
    others = probabilities(500, 4, seed=12, scale=1.5)
    at_truth = rule(q, q, reduction="none")
    assert (rule(others, q.expand_as(others), reduction="none") > at_truth).all()
    z = torch.zeros(1, 4, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([z], max_iter=200, tolerance_grad=1e-12,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = rule(torch.softmax(z, dim=1), q, reduction="sum")
        loss.backward()
        return loss

    optimiser.step(closure)
    torch.testing.assert_close(torch.softmax(z, dim=1).detach(), q, atol=1e-5, rtol=0)


def test_zero_one_loss_is_not_strictly_proper():
    q = torch.tensor([[0.3, 0.7]], dtype=torch.float64)
    honest, exaggerated = q, torch.tensor([[0.01, 0.99]], dtype=torch.float64)

    def expected_zero_one(r):
        return sum(q[0, c] * lossbook.zero_one_loss(r, torch.tensor([c])) for c in range(2))

    assert expected_zero_one(honest) == expected_zero_one(exaggerated)
    assert (lossbook.brier_score_loss(exaggerated, q) > lossbook.brier_score_loss(honest, q))


# --------------------------------------------------------------------------- honest numbers
@pytest.mark.parametrize("loss", [lossbook.brier_score_loss, lossbook.spherical_score_loss])
def test_nan_in_nan_out_for_the_scores(loss):
    p = probabilities(3, 4)
    p[1, 2] = math.nan
    out = loss(p, torch.tensor([0, 1, 2]), reduction="none")
    assert torch.isnan(out[1]) and torch.isfinite(out[[0, 2]]).all()


@pytest.mark.parametrize("loss", [lossbook.brier_score_loss, lossbook.spherical_score_loss])
def test_half_precision_is_close_to_float32(loss):
    p = probabilities(50, 10, dtype=torch.float32, scale=4.0)
    y = classes(50, num_classes=10, seed=13)
    torch.testing.assert_close(loss(p.half(), y).float(), loss(p, y), atol=2e-3, rtol=2e-3)
    assert loss(p.half(), y).dtype == torch.float16


@pytest.mark.parametrize("loss", [lossbook.brier_score_loss, lossbook.spherical_score_loss])
def test_bad_input_names_the_argument(loss):
    p = probabilities(3, 4)
    with pytest.raises(ValueError, match=r"target: expected class indices in \[0, 4\), got 7"):
        loss(p, torch.tensor([0, 7, 1]))
    with pytest.raises(RuntimeError, match=r"input: expected probabilities in \[0, 1\], got"):
        loss(p * 2, torch.tensor([0, 1, 1]))
    with pytest.raises(TypeError, match="input: expected a floating-point tensor"):
        loss(torch.ones(3, 4, dtype=torch.long), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="target: expected shape"):
        loss(p, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="reduction"):
        loss(p, torch.tensor([0, 1, 1]), reduction="batchmean")


def test_catalog_samples_make_valid_calls(device, dtype):
    for name in ("brier_score_loss", "spherical_score_loss"):
        entry = catalog.find(name)
        sample = entry.inputs(generator(0), dtype, device)
        out = entry.function(*sample.args, **sample.kwargs)
        assert out.shape == () and torch.isfinite(out) and out.device.type == device.type


def test_spherical_score_is_not_convex_as_catalogued():
    y = torch.tensor([0])

    def loss(t):
        return lossbook.spherical_score_loss(torch.tensor([[t, 1 - t]], dtype=torch.float64), y)

    assert loss(0.25) > (loss(0.0) + loss(0.5)) / 2  # above the chord: not convex
    assert not catalog.find("spherical_score_loss").convex


# --------------------------------------------------------------------------- calibration
def top_label_reference(p, y, n_bins, binning):
    """ECE and MCE from sklearn's calibration_curve on (correct, confidence), with bin counts
    from numpy.searchsorted as sklearn bins them."""
    p, y = p.detach().cpu().double().numpy(), y.cpu().numpy()
    confidence, correct = p.max(1), (p.argmax(1) == y).astype(float)
    accuracy, mean_confidence = sklearn.calibration.calibration_curve(
        correct, confidence, n_bins=n_bins, strategy=binning)
    edges = (np.linspace(0, 1, n_bins + 1) if binning == "uniform"
             else np.percentile(confidence, np.linspace(0, 100, n_bins + 1)))
    counts = np.bincount(np.searchsorted(edges[1:-1], confidence), minlength=n_bins)
    weights = counts[counts > 0] / len(y)
    gaps = np.abs(accuracy - mean_confidence)
    return (weights * gaps).sum(), gaps.max()


@pytest.mark.parametrize("binning", cal.BINNINGS)
@pytest.mark.parametrize("n_bins", [1, 5, 15])
def test_top_label_ece_and_mce_match_sklearns_calibration_curve(device, dtype, binning, n_bins):
    p = probabilities(300, 6, dtype=dtype, device=device, scale=3.0)
    y = torch.where(rand(300, seed=14) < 0.6, p.argmax(1).cpu(), classes(300, num_classes=6))
    y = y.to(device)
    ece, mce = top_label_reference(p, y, n_bins, binning)
    kwargs = dict(n_bins=n_bins, binning=binning)
    close(lossbook.expected_calibration_error(p, y, **kwargs), ece, dtype)
    close(lossbook.maximum_calibration_error(p, y, **kwargs), mce, dtype)


@pytest.mark.parametrize("binning", cal.BINNINGS)
def test_binary_reliability_curve_matches_sklearn(device, binning):
    positive = rand(400, seed=15, device=device)
    labels = (rand(400, seed=16, device=device) < positive**2).long()
    curve = lossbook.reliability_curve(positive, labels, n_bins=8, binning=binning)
    fraction, predicted = sklearn.calibration.calibration_curve(
        labels.cpu().numpy(), positive.cpu().numpy(), n_bins=8, strategy=binning)
    filled = curve.count > 0
    close(curve.accuracy[filled], fraction, torch.float64)
    close(curve.confidence[filled], predicted, torch.float64)
    assert curve.count.sum().item() == 400 and curve.edges.shape == (9,)
    assert torch.isnan(curve.accuracy[~filled]).all()


def test_ece_by_hand():
    # Bins [0, 0.5] and (0.5, 1]: scores 0.4, 0.3 (labels 1, 0) -> gap |0.5 - 0.35| = 0.15,
    # weight 2/5; scores 0.9, 0.8, 0.6 (labels 1, 0, 1) -> gap |2/3 - 23/30| = 0.1, weight 3/5.
    scores = torch.tensor([0.9, 0.8, 0.6, 0.4, 0.3], dtype=torch.float64)
    labels = torch.tensor([1, 0, 1, 1, 0])
    ece = lossbook.expected_calibration_error(scores, labels, n_bins=2)
    assert ece.item() == pytest.approx(0.4 * 0.15 + 0.6 * 0.1)
    mce = lossbook.maximum_calibration_error(scores, labels, n_bins=2)
    assert mce.item() == pytest.approx(0.15)


def test_a_score_on_an_edge_belongs_to_the_bin_below_like_sklearn():
    scores = torch.tensor([0.5, 0.5, 0.75], dtype=torch.float64)
    curve = lossbook.reliability_curve(scores, torch.tensor([1, 0, 1]), n_bins=4)
    assert curve.count.tolist() == [0, 2, 1, 0]
    assert np.searchsorted([0.25, 0.5, 0.75], [0.5, 0.75]).tolist() == [1, 2]


def test_one_bin_measures_only_accuracy_minus_mean_confidence():
    p = probabilities(100, 3, seed=17, scale=3.0)
    y = classes(100, num_classes=3, seed=18)
    accuracy = (p.argmax(1) == y).double().mean()
    expected = (accuracy - p.max(1).values.mean()).abs()
    for binning in cal.BINNINGS:
        torch.testing.assert_close(
            lossbook.expected_calibration_error(p, y, n_bins=1, binning=binning), expected)


def test_perfectly_calibrated_ece_is_positive_and_near_its_predicted_bias():
    # Scores uniform on [0, 1], outcomes drawn with exactly those probabilities: the binned
    # ECE is pure sampling noise, about sqrt(2/pi) * (pi/8) * sqrt(B/N) ~ 0.31 sqrt(B/N).
    values = []
    for seed in range(40):
        s = rand(2000, seed=100 + seed)
        o = (rand(2000, seed=200 + seed) < s).long()
        values.append(lossbook.expected_calibration_error(s, o, n_bins=10).item())
    predicted = math.sqrt(2 / math.pi) * math.pi / 8 * math.sqrt(10 / 2000)
    assert min(values) > 0
    assert np.mean(values) == pytest.approx(predicted, rel=0.15)


def test_calibration_nan_and_empty_inputs():
    p = probabilities(10, 3)
    y = classes(10, num_classes=3)
    p[4, 0] = math.nan
    for binning in cal.BINNINGS:
        assert torch.isnan(lossbook.expected_calibration_error(p, y, binning=binning))
        assert torch.isnan(lossbook.maximum_calibration_error(p, y, binning=binning))
    empty, none = torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)
    for binning in cal.BINNINGS:
        assert torch.isnan(lossbook.expected_calibration_error(empty, none, binning=binning))
        assert torch.isnan(lossbook.maximum_calibration_error(empty, none, binning=binning))
        assert lossbook.reliability_curve(empty, none, binning=binning).count.sum() == 0


def test_calibration_half_precision_and_dtype():
    p = probabilities(200, 4, dtype=torch.float32, scale=3.0)
    y = classes(200, num_classes=4, seed=19)
    for binning in cal.BINNINGS:
        half = lossbook.expected_calibration_error(p.half(), y, binning=binning)
        assert half.dtype == torch.float16
        torch.testing.assert_close(
            half.float(), lossbook.expected_calibration_error(p, y, binning=binning),
            atol=2e-3, rtol=0)


def test_calibration_bad_input():
    p = probabilities(4, 3)
    with pytest.raises(ValueError, match="n_bins: expected a positive integer, got 0"):
        lossbook.expected_calibration_error(p, torch.tensor([0, 1, 2, 0]), n_bins=0)
    with pytest.raises(ValueError, match="binning: expected 'uniform' or 'quantile'"):
        lossbook.expected_calibration_error(p, torch.tensor([0, 1, 2, 0]), binning="equal")
    with pytest.raises(ValueError, match=r"target: expected class indices in \[0, 3\), got 3"):
        lossbook.reliability_curve(p, torch.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match=r"target: expected labels in \{0, 1\}, got 2"):
        lossbook.expected_calibration_error(p[:, 0], torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="probs: expected"):
        lossbook.expected_calibration_error(p[None], torch.tensor([[0, 1, 2, 0]]))
    with pytest.raises(TypeError, match="target: expected integer"):
        lossbook.expected_calibration_error(p, torch.zeros(4))


# --------------------------------------------------------------------------- temperature
def scipy_temperature(logits, target):
    x, y = logits.detach().cpu().double(), target.cpu()

    def nll(t):
        return F.cross_entropy(x / t, y).item()

    return scipy.optimize.minimize_scalar(nll, bounds=(0.05, 20), method="bounded",
                                          options={"xatol": 1e-10}).x


def over_confident(n, seed, factor):
    """Logits whose softmax is the true class distribution, multiplied by ``factor``."""
    logits = randn(n, 5, seed=seed, scale=1.5)
    target = torch.multinomial(torch.softmax(logits, 1), 1, generator=generator(seed + 1))
    return logits * factor, target.squeeze(1)


def test_fit_temperature_matches_scipy(device, dtype):
    logits, target = over_confident(500, 20, 2.5)
    logits, target = logits.to(device=device, dtype=dtype), target.to(device)
    t = lossbook.fit_temperature(logits, target)
    assert t.shape == () and t.dtype == dtype and not t.requires_grad
    assert t.item() == pytest.approx(scipy_temperature(logits, target), rel=1e-4)


def test_fit_temperature_undoes_a_known_over_confidence():
    logits, target = over_confident(5000, 21, 3.0)
    assert lossbook.fit_temperature(logits, target).item() == pytest.approx(3.0, rel=0.06)
    calibrated = lossbook.fit_temperature(logits / 3.0, target).item()
    assert calibrated == pytest.approx(1.0, rel=0.06)


def test_temperature_scaling_keeps_predictions_and_lowers_nll():
    logits, target = over_confident(1000, 22, 3.0)
    t = lossbook.fit_temperature(logits, target)
    scaled = lossbook.temperature_scale(logits, t)
    assert torch.equal(scaled.argmax(1), logits.argmax(1))
    assert F.cross_entropy(scaled, target) < F.cross_entropy(logits, target)
    ece = [lossbook.expected_calibration_error(torch.softmax(z, 1), target)
           for z in (logits, scaled)]
    assert ece[1] < ece[0] / 2


def test_temperature_must_be_positive():
    with pytest.raises(ValueError, match="temperature: expected a positive temperature, got 0"):
        lossbook.temperature_scale(torch.ones(2, 3), 0.0)
    with pytest.raises(ValueError, match="temperature: expected a positive temperature, got -1"):
        lossbook.temperature_scale(torch.ones(2, 3), torch.tensor(-1.0))
    with pytest.raises(ValueError, match="logits: expected shape"):
        lossbook.fit_temperature(torch.ones(3), torch.tensor(0))


# --------------------------------------------------------------------------- plot
def test_reliability_diagram_draws_labelled_axes_and_returns_the_curve():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lossbook.plot.calibration import reliability_diagram

    p = probabilities(100, 3, scale=3.0)
    y = classes(100, num_classes=3, seed=23)
    for probs in (p, p[:, 1]):
        target = y if probs.dim() == 2 else (y == 1).long()
        fig, ax = plt.subplots()
        curve = reliability_diagram(ax, probs, target, n_bins=5, title="T")
        expected = lossbook.reliability_curve(probs, target, n_bins=5)
        torch.testing.assert_close(curve.count, expected.count)
        assert ax.get_title() == "T" and ax.get_xlabel() and ax.get_ylabel()
        assert len(ax.patches) == 2 * int((curve.count > 0).sum())
        plt.close(fig)


# --------------------------------------------------------------------------- graders
def spherical_answer(probs, target):
    picked = probs.gather(1, target[:, None]).squeeze(1)
    return 1 - picked / probs.square().sum(1).sqrt()


def ece_answer(probs, target, n_bins):
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == target).to(probs.dtype)
    like = dict(dtype=probs.dtype, device=probs.device)
    edges = torch.linspace(0, 1, n_bins + 1, **like)
    bins = torch.bucketize(confidence, edges[1:-1])
    gaps = torch.zeros(n_bins, **like).index_add(0, bins, correct - confidence)
    return gaps.abs().sum() / len(probs)


def test_graders_give_full_marks_to_a_right_answer():
    assert grading.grade_spherical_score_loss(spherical_answer).score == 1.0
    assert grading.grade_expected_calibration_error(ece_answer).score == 1.0


def test_graders_refuse_lossbooks_own_function_and_wrappers_of_it():
    def wrapper(probs, target):
        return lossbook.spherical_score_loss(probs, target, reduction="none")

    for answer in (lossbook.spherical_score_loss, wrapper):
        report = grading.grade_spherical_score_loss(answer)
        assert report.score == 0.0 and "implement it yourself" in str(report)
    report = grading.grade_expected_calibration_error(
        lambda p, y, n: cal.expected_calibration_error(p, y, n_bins=n))
    assert report.score == 0.0 and "implement it yourself" in str(report)


def test_ece_grader_catches_left_closed_bins():
    def left_closed(probs, target, n_bins):
        confidence, predicted = probs.max(dim=1)
        correct = (predicted == target).to(probs.dtype)
        bins = (confidence * n_bins).long().clamp(max=n_bins - 1)  # [a, b) bins
        gaps = torch.zeros(n_bins, dtype=probs.dtype).index_add(0, bins, correct - confidence)
        return gaps.abs().sum() / len(probs)

    report = grading.grade_expected_calibration_error(left_closed)
    failed = [text for ok, text in report.checks if not ok]
    assert failed and all("bin edges" in text for text in failed)


def test_graders_report_unimplemented_and_wrong_answers():
    def unimplemented(*args):
        raise NotImplementedError

    assert grading.grade_spherical_score_loss(unimplemented).score == 0.0
    assert "not implemented yet" in str(grading.grade_expected_calibration_error(unimplemented))

    def no_norm(probs, target):  # forgets to divide by the norm
        return 1 - probs.gather(1, target[:, None]).squeeze(1)

    assert grading.grade_spherical_score_loss(no_norm).score < 0.5
