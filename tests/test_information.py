"""lossbook.information against torch.nn.functional and scipy: values, gradients, edge cases,
bad input."""

import math

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook._numerics as numerics
import lossbook.information as info
from tests.reference import assert_matches, classes, rand, randn

REDUCTIONS = ["none", "mean", "sum"]


# --------------------------------------------------------------------------- softmax family
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_matches_torch(device, dtype, dim):
    x = randn(4, 5, 3, dtype=dtype, device=device, scale=5)
    assert_matches(numerics.softmax, F.softmax, x, dim=dim)
    assert_matches(numerics.log_softmax, F.log_softmax, x, dim=dim)
    assert_matches(numerics.logsumexp, torch.logsumexp, x, dim=dim)
    assert_matches(numerics.logsumexp, torch.logsumexp, x, dim=dim, keepdim=True)


def test_softmax_is_stable_at_extreme_logits(device, dtype):
    x = torch.tensor([[1e4, -1e4, 0.0], [1000.0, 1001.0, 1002.0]], dtype=dtype, device=device)
    assert_matches(numerics.log_softmax, F.log_softmax, x, dim=1)
    assert_matches(numerics.softmax, F.softmax, x, dim=1)
    naive = torch.exp(x) / torch.exp(x).sum(1, keepdim=True)
    assert torch.isnan(naive).any()  # the reason for the trick


def test_logsumexp_of_all_minus_infinity_is_minus_infinity():
    x = torch.full((2, 3), -math.inf)
    assert torch.equal(numerics.logsumexp(x, dim=1), torch.logsumexp(x, dim=1))


def test_softplus_matches_torch_including_zero_and_extremes(device, dtype):
    x = torch.tensor([-1e4, -30.0, -1.0, 0.0, 1.0, 30.0, 1e4], dtype=dtype, device=device)
    assert_matches(numerics.softplus, F.softplus, x)


@pytest.mark.parametrize("beta, threshold", [(1, 20), (3, 0.2), (0.5, 5), (-2, 1)])
def test_softplus_beta_and_threshold_like_torch(device, dtype, beta, threshold):
    x = torch.tensor([-30.0, -1.0, 0.0, 0.05, 0.1, 1.0, 2.0, 9.9, 10.1, 19.9, 20.5, 1e4],
                     dtype=dtype, device=device)
    assert_matches(numerics.softplus, F.softplus, x, beta=beta, threshold=threshold)


def test_softplus_switches_to_x_above_the_threshold_and_the_losses_do_not():
    x = torch.tensor([20.5], dtype=torch.float64, requires_grad=True)
    assert numerics.softplus(x).item() == 20.5  # torch's shortcut: x itself, gradient 1
    exact = numerics.log1p_exp(x)
    assert exact.item() == 20.5 + math.log1p(math.exp(-20.5)) != 20.5
    (gradient,) = torch.autograd.grad(exact.sum(), x)
    assert gradient.item() == pytest.approx(1 / (1 + math.exp(-20.5)), rel=1e-15)
    # BCE with logits, exact in torch, stays exact in lossbook (log1p_exp, not softplus)
    y = torch.zeros(1, dtype=torch.float64)
    assert_matches(info.binary_cross_entropy_with_logits,
                   F.binary_cross_entropy_with_logits, x.detach(), y, atol=0, rtol=1e-15)


def test_softmax_family_dtype_and_implicit_dim_like_torch():
    x = randn(2, 3, 4, dtype=torch.float32)
    for ours, theirs in ((numerics.softmax, F.softmax), (numerics.log_softmax, F.log_softmax)):
        assert_matches(ours, theirs, x, 1, dtype=torch.float64)
        assert ours(x, 1, dtype=torch.float64).dtype == torch.float64
        for shape in ((4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)):  # dim 0 for 1-D and 3-D, else 1
            y = randn(*shape)
            with pytest.warns(UserWarning, match="Implicit dimension choice"):
                ours_implicit = ours(y)
            with pytest.warns(UserWarning, match="Implicit dimension choice"):
                torch.testing.assert_close(ours_implicit, theirs(y))


def test_softmax_family_over_an_empty_dim_like_torch():
    x = torch.zeros(5, 0, 3, dtype=torch.float64)
    for dim in (1, -2):
        assert numerics.softmax(x, dim).shape == numerics.log_softmax(x, dim).shape == x.shape
    assert numerics.logsumexp(x, 1).tolist() == [[-math.inf] * 3] * 5  # log of an empty sum
    assert numerics.logsumexp(torch.zeros(0), 0).item() == -math.inf
    assert_matches(numerics.logsumexp, torch.logsumexp, randn(3, 4, 5), (0, 2))


# --------------------------------------------------------------------------- entropy
def test_entropy_matches_scipy():
    p = torch.softmax(randn(6, 5), dim=1)
    p[0] = torch.tensor([0.0, 0.5, 0.5, 0.0, 0.0], dtype=torch.float64)  # 0 log 0 = 0
    for base in (None, 2):
        expected = scipy.stats.entropy(p.numpy(), axis=1, base=base)
        np.testing.assert_allclose(info.entropy(p, base=base).numpy(), expected, rtol=1e-12)


def test_entropy_of_fair_coin_is_one_bit():
    assert info.entropy(torch.tensor([0.5, 0.5]), base=2).item() == pytest.approx(1.0)


# --------------------------------------------------------------------------- nll / cross-entropy
CE_SHAPES = {
    "unbatched": ((5,), ()),
    "batch": ((7, 5), (7,)),
    "spatial": ((3, 5, 2, 4), (3, 2, 4)),
    "empty batch": ((0, 5), (0,)),
}


@pytest.mark.parametrize("shape", CE_SHAPES.values(), ids=CE_SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
def test_cross_entropy_class_indices_match_torch(
    device, dtype, shape, reduction, weighted, label_smoothing
):
    input_shape, target_shape = shape
    x = randn(*input_shape, dtype=dtype, device=device, scale=3)
    y = classes(*target_shape, num_classes=5, seed=1, device=device)
    weight = rand(5, seed=2, dtype=dtype, device=device) + 0.5 if weighted else None
    assert_matches(info.cross_entropy, F.cross_entropy, x, y, weight=weight,
                   reduction=reduction, label_smoothing=label_smoothing)
    assert_matches(info.nll_loss, F.nll_loss, F.log_softmax(x, dim=min(1, x.dim() - 1)), y,
                   weight=weight, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_cross_entropy_ignore_index_matches_torch(device, reduction, ignore_index, label_smoothing):
    x = randn(8, 4, device=device)
    y = classes(8, num_classes=4, seed=3, device=device)
    y[::3] = ignore_index
    weight = rand(4, seed=4, device=device) + 0.5
    for w in (None, weight):
        assert_matches(info.cross_entropy, F.cross_entropy, x, y, weight=w,
                       ignore_index=ignore_index, reduction=reduction,
                       label_smoothing=label_smoothing)


# nll_loss skips masking when the targets' bounds prove no entry is ignored: every case of
# that shortcut (and of its refusal) must give torch's value and gradient.
MASKING_CASES = {
    "below": ([1, 3, 2, 1], 0),  # ignore_index a class, but below every target: no mask
    "inside-span": ([0, 3, 2, 0], 1),  # inside the targets' span though absent: masked
    "absent": ([0, 3, 2, 1], -100),  # the default, absent
    "present": ([0, -100, 2, 1], -100),
    "all": ([3, 3, 3, 3], 3),  # every entry ignored: 'mean' is 0/0
}
MASKING_PARAMS = [pytest.param(targets, ignore_index, index_dtype, id=f"{name}-{index_dtype}")
                  for name, (targets, ignore_index) in MASKING_CASES.items()
                  for index_dtype in (torch.long, torch.uint8)
                  if index_dtype == torch.long or min(targets) >= 0]  # uint8 has no -100


@pytest.mark.parametrize("targets, ignore_index, index_dtype", MASKING_PARAMS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_with_and_without_entries_to_mask_matches_torch(
    targets, ignore_index, index_dtype, reduction
):
    x = F.log_softmax(randn(4, 4, dtype=torch.float64), dim=1)
    y = torch.tensor(targets).to(index_dtype)
    weight = rand(4, seed=5, dtype=torch.float64) + 0.5
    for w in (None, weight):
        assert_matches(info.nll_loss, F.nll_loss, x, y, weight=w, ignore_index=ignore_index,
                       reduction=reduction)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_all_ignored_mean_is_nan_like_torch(label_smoothing):
    x, y = randn(3, 4), torch.full((3,), -100)
    ours = info.cross_entropy(x, y, label_smoothing=label_smoothing)
    theirs = F.cross_entropy(x, y, label_smoothing=label_smoothing)
    assert torch.isnan(ours) and torch.isnan(theirs)
    assert info.cross_entropy(x, y, reduction="sum").item() == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets_match_torch(
    device, dtype, reduction, weighted, label_smoothing
):
    x = randn(6, 4, 3, dtype=dtype, device=device)
    target = torch.softmax(randn(6, 4, 3, seed=5, dtype=dtype, device=device), dim=1)
    weight = rand(4, seed=6, dtype=dtype, device=device) + 0.5 if weighted else None
    assert_matches(info.cross_entropy, F.cross_entropy, x, target, weight=weight,
                   reduction=reduction, label_smoothing=label_smoothing)


def test_cross_entropy_extreme_logits_are_finite_and_match_torch(device, dtype):
    x = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype, device=device)
    y = torch.tensor([1, 0], device=device)
    x_ = x.clone().requires_grad_()
    loss = info.cross_entropy(x_, y, label_smoothing=0.1)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x_.grad).all()
    assert_matches(info.cross_entropy, F.cross_entropy, x, y, label_smoothing=0.1)


def test_cross_entropy_is_nll_of_log_softmax():
    x, y = randn(5, 3), classes(5, num_classes=3)
    expected = info.nll_loss(numerics.log_softmax(x, 1), y)
    torch.testing.assert_close(info.cross_entropy(x, y), expected)


def test_label_smoothing_in_cross_entropy_equals_smoothed_probability_targets():
    x, y = randn(5, 4), classes(5, num_classes=4)
    smoothed = info.label_smoothing(y, num_classes=4, epsilon=0.1).double()
    torch.testing.assert_close(info.cross_entropy(x, y, label_smoothing=0.1),
                               info.cross_entropy(x, smoothed))


def test_label_smoothing_from_indices_and_from_one_hot():
    y = torch.tensor([1, 2, 0])
    expected = torch.full((3, 3), 0.1 / 3) + 0.9 * F.one_hot(y, 3)
    torch.testing.assert_close(info.label_smoothing(y, num_classes=3), expected)
    torch.testing.assert_close(info.label_smoothing(F.one_hot(y, 3).float()), expected)


# --------------------------------------------------------------------------- binary
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (4, 3), (3,)], ids=["", "weight", "weight-bcast"])
def test_binary_cross_entropy_matches_torch(device, dtype, reduction, weight_shape):
    p = rand(4, 3, dtype=dtype, device=device).clamp(0.01, 0.99)
    y = rand(4, 3, seed=1, dtype=dtype, device=device)
    weight = rand(*weight_shape, seed=2, dtype=dtype, device=device) if weight_shape else None
    assert_matches(info.binary_cross_entropy, F.binary_cross_entropy, p, y,
                   weight=weight, reduction=reduction)


def test_binary_cross_entropy_at_zero_and_one_matches_torch_value_with_finite_gradient(device):
    p = torch.tensor([0.0, 1.0, 0.0, 1.0], device=device, requires_grad=True)
    y = torch.tensor([0.0, 0.0, 1.0, 1.0], device=device)
    loss = info.binary_cross_entropy(p, y, reduction="none")
    torch.testing.assert_close(loss, F.binary_cross_entropy(p, y, reduction="none"))
    assert loss.tolist() == [0.0, 100.0, 100.0, 0.0]
    loss.sum().backward()
    assert torch.isfinite(p.grad).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
@pytest.mark.parametrize("pos_weighted", [False, True], ids=["", "pos_weight"])
def test_binary_cross_entropy_with_logits_matches_torch(
    device, dtype, reduction, weighted, pos_weighted
):
    x = randn(5, 3, dtype=dtype, device=device, scale=4)
    y = rand(5, 3, seed=1, dtype=dtype, device=device)
    weight = rand(5, 3, seed=2, dtype=dtype, device=device) if weighted else None
    pos_weight = rand(3, seed=3, dtype=dtype, device=device) * 3 if pos_weighted else None
    assert_matches(info.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits,
                   x, y, weight=weight, reduction=reduction, pos_weight=pos_weight)


def test_binary_cross_entropy_with_logits_extreme_logits(device, dtype):
    x = torch.tensor([-1e4, -1e4, 1e4, 1e4, 0.0], dtype=dtype, device=device)
    y = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5], dtype=dtype, device=device)
    assert_matches(info.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits,
                   x, y, reduction="none", pos_weight=torch.full((5,), 2.0, dtype=dtype,
                                                                  device=device))


def test_bce_with_logits_is_bce_of_sigmoid_for_moderate_logits():
    x, y = randn(10, scale=3), rand(10, seed=1)
    torch.testing.assert_close(info.binary_cross_entropy_with_logits(x, y),
                               info.binary_cross_entropy(torch.sigmoid(x), y))


# --------------------------------------------------------------------------- divergences
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(device, dtype, reduction, log_target):
    log_q = F.log_softmax(randn(4, 5, dtype=dtype, device=device), dim=1)
    p = torch.softmax(randn(4, 5, seed=1, dtype=dtype, device=device), dim=1)
    target = p.log() if log_target else p
    kwargs = dict(reduction=reduction, log_target=log_target)
    with pytest.warns(UserWarning) if reduction == "mean" else _no_warning():
        assert_matches(info.kl_div, F.kl_div, log_q, target, **kwargs)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_kl_div_with_zero_target_probabilities_matches_torch():
    log_q = F.log_softmax(randn(2, 4), dim=1)
    p = torch.tensor([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    assert_matches(info.kl_div, F.kl_div, log_q, p, reduction="sum", grad=False)
    torch.testing.assert_close(info.kl_div(log_q, p, reduction="sum"),
                               F.kl_div(log_q, p, reduction="sum"))


def test_kl_div_sum_is_kl_of_target_from_input_like_scipy():
    p = torch.tensor([0.1, 0.2, 0.7], dtype=torch.float64)
    q = torch.tensor([0.5, 0.2, 0.3], dtype=torch.float64)
    kl = info.kl_div(q.log(), p, reduction="sum")  # KL(p || q)
    assert kl.item() == pytest.approx(scipy.stats.entropy(p.numpy(), q.numpy()), rel=1e-12)


def test_js_divergence_matches_scipy_squared_distance():
    p = torch.softmax(randn(5, 6), dim=1)
    q = torch.softmax(randn(5, 6, seed=1), dim=1)
    q[0] = torch.tensor([1.0, 0, 0, 0, 0, 0], dtype=torch.float64)
    for base in (None, 2):
        expected = scipy.spatial.distance.jensenshannon(p.numpy(), q.numpy(), axis=1, base=base)
        np.testing.assert_allclose(info.js_divergence(p, q, base=base).numpy(), expected**2,
                                   rtol=1e-10)


def test_js_divergence_of_disjoint_supports_is_log_2():
    p, q = torch.tensor([0.5, 0.5, 0.0, 0.0]), torch.tensor([0.0, 0.0, 0.3, 0.7])
    assert info.js_divergence(p, q).item() == pytest.approx(math.log(2))
    assert info.js_divergence(p, q, base=2).item() == pytest.approx(1.0)


# --------------------------------------------------------------------------- 0-1 loss
def test_zero_one_loss_multiclass_and_margin():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0]])
    assert info.zero_one_loss(logits, torch.tensor([0, 0, 0])).item() == pytest.approx(1 / 3)
    scores, labels = torch.tensor([2.0, -0.5, 0.0, -3.0]), torch.tensor([1, 1, 1, -1])
    assert info.zero_one_loss(scores, labels, reduction="none").tolist() == [0, 1, 1, 0]
    assert not info.zero_one_loss(scores.requires_grad_(), labels).requires_grad


# --------------------------------------------------------------------------- properties
probability_rows = st.integers(min_value=0, max_value=10_000).map(
    lambda seed: torch.softmax(randn(3, 6, seed=seed, scale=3), dim=1)
)


@settings(max_examples=60, deadline=None)
@given(p=probability_rows, q=probability_rows)
def test_cross_entropy_is_entropy_plus_kl(p, q):
    cross = info.cross_entropy(q.log(), p, reduction="none")  # H(p, q) per row
    kl = info.kl_div(q.log(), p, reduction="none").sum(1)
    torch.testing.assert_close(cross, info.entropy(p) + kl)
    assert (kl >= -1e-12).all()  # Gibbs' inequality


@settings(max_examples=60, deadline=None)
@given(p=probability_rows, q=probability_rows)
def test_js_is_symmetric_and_bounded(p, q):
    torch.testing.assert_close(info.js_divergence(p, q), info.js_divergence(q, p))
    assert (info.js_divergence(p, q) <= math.log(2) + 1e-12).all()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.floats(-1e3, 1e3))
def test_softmax_is_shift_invariant(seed, shift):
    x = randn(4, 5, seed=seed)
    torch.testing.assert_close(numerics.softmax(x + shift, dim=1), numerics.softmax(x, dim=1))


# --------------------------------------------------------------------------- bad input
BAD_INPUT = [
    ("float class indices", lambda: info.cross_entropy(randn(2, 3), torch.tensor([0.0, 1.0])),
     TypeError, r"target: expected integer class indices \(e.g. torch.long\), got torch.float32"),
    ("float indices, right shape", lambda: info.nll_loss(randn(2, 3), torch.tensor([0.0, 1.0])),
     TypeError, "target: expected integer class indices"),
    ("index out of range", lambda: info.cross_entropy(randn(2, 3), torch.tensor([7, 1])),
     ValueError, r"target: class indices must be in \[0, 3\), got 7"),
    ("negative index", lambda: info.nll_loss(randn(2, 3), torch.tensor([0, -1])),
     ValueError, r"target: class indices must be in \[0, 3\), got -1"),
    ("mismatched target shape", lambda: info.cross_entropy(randn(4, 3), torch.tensor([0, 1])),
     ValueError, r"target: expected shape \(4,\)"),
    ("unknown reduction", lambda: info.cross_entropy(randn(2, 3), torch.tensor([0, 1]),
                                                     reduction="avg"),
     ValueError, "reduction: expected one of 'none', 'mean', 'sum', got 'avg'"),
    ("batchmean outside kl_div", lambda: info.binary_cross_entropy(rand(3), rand(3),
                                                                   reduction="batchmean"),
     ValueError, "reduction: expected one of"),
    ("weight of wrong length", lambda: info.cross_entropy(randn(2, 3), torch.tensor([0, 1]),
                                                          weight=torch.ones(4)),
     ValueError, r"weight: expected shape \(3,\)"),
    ("probability above 1", lambda: info.binary_cross_entropy(torch.tensor([0.5, 1.5]),
                                                              torch.tensor([0.0, 1.0])),
     ValueError, r"input: expected probabilities in \[0, 1\], got 1.5"),
    ("target below 0", lambda: info.binary_cross_entropy(torch.tensor([0.5]),
                                                         torch.tensor([-0.2])),
     ValueError, r"target: expected probabilities in \[0, 1\], got -0.2"),
    ("BCE shapes", lambda: info.binary_cross_entropy(rand(3), rand(2)),
     ValueError, r"target: expected shape \(3,\)"),
    ("BCE weight of batch length", lambda: info.binary_cross_entropy(rand(4, 3), rand(4, 3),
                                                                     weight=torch.ones(4).double()),
     ValueError, r"weight: shape \(4,\) does not broadcast"),
    ("integer logits", lambda: info.cross_entropy(torch.tensor([[1, 2]]), torch.tensor([0])),
     TypeError, "input: expected a floating-point tensor, got torch.int64"),
    ("not a tensor", lambda: info.cross_entropy([[1.0, 2.0]], torch.tensor([0])),
     TypeError, "input: expected a torch.Tensor, got list"),
    ("smoothing above 1", lambda: info.cross_entropy(randn(2, 3), torch.tensor([0, 1]),
                                                     label_smoothing=1.5),
     ValueError, r"label_smoothing: expected a value in \[0, 1\], got 1.5"),
    ("negative smoothing", lambda: info.cross_entropy(randn(2, 3), torch.tensor([0, 1]),
                                                      label_smoothing=-0.1),
     ValueError, r"label_smoothing: expected a value in \[0, 1\], got -0.1"),
    ("ignore_index with probabilities", lambda: info.cross_entropy(
        randn(2, 3), torch.softmax(randn(2, 3), 1), ignore_index=1),
     ValueError, "ignore_index: not supported with class-probability targets"),
    ("weight of another dtype", lambda: info.cross_entropy(
        randn(2, 3), torch.tensor([0, 1]), weight=torch.ones(3, dtype=torch.float32)),
     RuntimeError, r"weight: expected dtype torch.float64 \(the dtype of input\)"),
    ("int32 class indices", lambda: info.nll_loss(randn(2, 3), torch.tensor([0, 1]).int()),
     RuntimeError, r"target: expected class indices of dtype torch.int64 or torch.uint8"),
    ("BCE target of another dtype", lambda: info.binary_cross_entropy(rand(3), rand(3).float()),
     RuntimeError, r"target: expected dtype torch.float64"),
    ("0-1 class index out of range", lambda: info.zero_one_loss(randn(2, 3),
                                                               torch.tensor([0, 3])),
     IndexError, r"target: class indices must be in \[0, 3\), got 3"),
    ("0-1 labels not ±1", lambda: info.zero_one_loss(randn(3), torch.tensor([0.0, 1.0, 1.0])),
     ValueError, r"target: expected values in \{-1, 1\}, got 0"),
    ("0-d logits", lambda: info.cross_entropy(torch.tensor(1.0), torch.tensor(0)),
     ValueError, r"input: expected class scores of shape \(C,\), \(N, C\)"),
    ("0-d log-probabilities", lambda: info.nll_loss(torch.tensor(-1.0), torch.tensor(0)),
     ValueError, r"input: expected class scores of shape \(C,\)"),
    ("smoothing indices without C", lambda: info.label_smoothing(torch.tensor([0, 1])),
     ValueError, "num_classes: required"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_checks_torch_lacks_are_not_added():
    """What torch accepts, lossbook accepts, with torch's value (NaN where torch's is NaN)."""
    x, y = randn(4, 3), torch.tensor([0, 2, 1, 2])
    log_p = torch.log(rand(3))  # log-probabilities where probabilities belong: NaN, no error
    for ours, theirs, args, kwargs in (
        (info.kl_div, F.kl_div, (torch.zeros(3), log_p), dict(reduction="sum")),
        (info.cross_entropy, F.cross_entropy, (x, randn(4, 3, seed=1)), {}),  # not a distribution
        (info.cross_entropy, F.cross_entropy, (x, y.to(torch.uint8)), dict(label_smoothing=0.2)),
    ):
        torch.testing.assert_close(ours(*args, **kwargs), theirs(*args, **kwargs),
                                   equal_nan=True)
    assert info.kl_div(torch.zeros(3), log_p, reduction="sum").isnan()


def test_out_of_range_indices_raise_what_torch_raises_on_the_cpu():
    with pytest.raises(IndexError, match="out of bounds"):
        F.nll_loss(randn(2, 3), torch.tensor([0, 3]))
    with pytest.raises(IndexError, match=r"^target: class indices must be in \[0, 3\), got 3"):
        info.nll_loss(randn(2, 3), torch.tensor([0, 3]))
