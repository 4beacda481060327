"""lossbook.regression against torch.nn.functional, scikit-learn and hand calculations: values,
gradients, reductions, the seams of Smooth L1 and Huber, bad input, graders."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_pinball_loss, root_mean_squared_error

import lossbook.regression as reg
from lossbook.data.regression import collinear_design, line_with_outliers, sparse_regression
from lossbook.grading.regression import grade_huber_loss, grade_quantile_loss
from tests.reference import assert_matches, generator

REDUCTIONS = ["none", "mean", "sum"]


def pair(dtype=torch.float64, device="cpu", shape=(6, 5), scale=2.0, seed=0):
    """Prediction and truth with residuals spread over both sides of 1 (the default seam)."""
    g = generator(seed)
    x = scale * torch.randn(*shape, generator=g, dtype=dtype)
    y = torch.randn(*shape, generator=g, dtype=dtype)
    x[0, 0] = y[0, 0]  # one perfect prediction: the kink of |d| at 0
    return x.to(device), y.to(device)


def grad(fn, *tensors):
    leaves = [t.detach().clone().requires_grad_() for t in tensors]
    return torch.autograd.grad(fn(*leaves), leaves)


# --------------------------------------------------------------------------- against torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["l1_loss", "mse_loss"])
def test_l1_and_mse_match_torch(device, dtype, reduction, name):
    x, y = pair(dtype, device)
    assert_matches(getattr(reg, name), getattr(F, name), x, y, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss"])
def test_weighted_losses_match_torch(device, dtype, reduction, name):
    x, y = pair(dtype, device)
    w = torch.rand(6, 5, generator=generator(5), dtype=dtype).to(device) + 0.1
    assert_matches(getattr(reg, name), getattr(F, name), x, y, reduction=reduction, weight=w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0, 2.5])
def test_smooth_l1_matches_torch(device, dtype, reduction, beta):
    x, y = pair(dtype, device)
    assert_matches(reg.smooth_l1_loss, F.smooth_l1_loss, x, y, reduction=reduction, beta=beta)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_matches_torch(device, dtype, reduction, delta):
    x, y = pair(dtype, device)
    assert_matches(reg.huber_loss, F.huber_loss, x, y, reduction=reduction, delta=delta)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_seam_abs_d_equal_to_beta_matches_torch_in_value_and_gradient(beta):
    d = torch.tensor([-beta, beta, -2 * beta, 0.0, beta / 2], dtype=torch.float64)
    y = torch.zeros(5, dtype=torch.float64)
    for fn, ref, kw in ((reg.smooth_l1_loss, F.smooth_l1_loss, {"beta": beta}),
                        (reg.huber_loss, F.huber_loss, {"delta": beta})):
        assert_matches(fn, ref, d, y, reduction="none", **kw)
    # value beta/2 and slope +-1 on the seam, from either formula
    assert reg.smooth_l1_loss(d[:2], y[:2], "none", beta).tolist() == [beta / 2, beta / 2]
    (g,) = grad(lambda t: reg.smooth_l1_loss(t, y[:2], "sum", beta), d[:2])
    assert g.tolist() == [-1.0, 1.0]


@pytest.mark.parametrize("beta", [0.25, 1.0, 3.0])
def test_smooth_l1_is_huber_divided_by_beta(beta):
    x, y = pair()
    for reduction in REDUCTIONS:
        torch.testing.assert_close(reg.smooth_l1_loss(x, y, reduction, beta),
                                   reg.huber_loss(x, y, reduction, delta=beta) / beta)
    torch.testing.assert_close(reg.smooth_l1_loss(x, y, beta=1.0), reg.huber_loss(x, y))


def test_beta_zero_is_l1_with_l1_gradient():
    x, y = pair()
    torch.testing.assert_close(reg.smooth_l1_loss(x, y, beta=0.0), F.l1_loss(x, y))
    g_ours = grad(lambda a: reg.smooth_l1_loss(a, y, beta=0.0), x)[0]
    g_l1 = grad(lambda a: F.l1_loss(a, y), x)[0]
    torch.testing.assert_close(g_ours, g_l1)


# --------------------------------------------------------------------------- seed numbers
def test_the_seed_numbers_l1_075_mse_125_and_l2_norm_2236():
    x = torch.tensor([[3.0, 1.0], [1.0, 0.0]])
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert reg.l1_loss(x, y).item() == 0.75  # (2 + 1 + 0 + 0) / 4
    assert reg.mse_loss(x, y).item() == 1.25  # (4 + 1 + 0 + 0) / 4
    assert reg.l1_loss(x, y, "sum").item() == 3.0 and reg.mse_loss(x, y, "sum").item() == 5.0
    assert torch.linalg.vector_norm(x - y).item() == pytest.approx(math.sqrt(5))


# --------------------------------------------------------------------------- derived gradients
def test_derived_gradients():
    x, y = pair()
    d, n = x - y, x.numel()
    cases = [
        (reg.l1_loss, {}, d.sign() / n),
        (reg.mse_loss, {}, 2 * d / n),
        (reg.huber_loss, {"delta": 0.7}, d.clamp(-0.7, 0.7) / n),
        (reg.smooth_l1_loss, {"beta": 0.7}, (d / 0.7).clamp(-1, 1) / n),
        (reg.log_cosh_loss, {}, torch.tanh(d) / n),
        (reg.quantile_loss, {"q": 0.8}, (0.2 * (d > 0) - 0.8 * (d < 0)).double() / n),
    ]
    for fn, kw, expected in cases:
        (g,) = grad(lambda a, fn=fn, kw=kw: fn(a, y, **kw), x)
        torch.testing.assert_close(g, expected, msg=fn.__name__)


# --------------------------------------------------------------------------- rmse
def test_rmse_matches_sklearn_overall_and_per_column():
    x, y = pair()
    assert reg.rmse_loss(x, y).item() == pytest.approx(
        root_mean_squared_error(y.flatten().numpy(), x.flatten().numpy()), rel=1e-12)
    per_column = root_mean_squared_error(y.numpy(), x.numpy(), multioutput="raw_values")
    np.testing.assert_allclose(reg.rmse_loss(x, y, dim=0).numpy(), per_column, rtol=1e-12)


def test_rmse_gradient_matches_sqrt_of_mse_away_from_a_perfect_fit(device, dtype):
    x, y = pair(dtype, device)
    assert_matches(reg.rmse_loss, lambda a, b: torch.sqrt(F.mse_loss(a, b)), x, y)


def test_rmse_gradient_at_a_perfect_fit_is_zero_where_naive_sqrt_gives_nan():
    y = torch.randn(5, generator=generator(2), dtype=torch.float64)
    (naive,) = grad(lambda a: torch.sqrt(F.mse_loss(a, y)), y)
    assert torch.isnan(naive).all()
    (ours,) = grad(lambda a: reg.rmse_loss(a, y), y)
    assert torch.equal(ours, torch.zeros(5, dtype=torch.float64))
    assert reg.rmse_loss(y, y).item() == 0.0


# --------------------------------------------------------------------------- log-cosh, quantile
def test_log_cosh_matches_the_literal_formula_and_stays_finite_far_out(dtype):
    x, y = pair(dtype)
    assert_matches(reg.log_cosh_loss, lambda a, b, reduction: torch.log(torch.cosh(a - b)).sum(),
                   x, y, reduction="sum")
    far = torch.tensor([100.0, -1000.0], dtype=dtype)
    assert torch.isinf(torch.log(torch.cosh(far))).any() or dtype == torch.float64
    value = reg.log_cosh_loss(far, torch.zeros_like(far), reduction="none")
    torch.testing.assert_close(value, far.abs() - math.log(2))


@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_quantile_matches_sklearn_mean_pinball_loss(q):
    x, y = pair()
    expected = mean_pinball_loss(y.flatten().numpy(), x.flatten().numpy(), alpha=q)
    assert reg.quantile_loss(x, y, q=q).item() == pytest.approx(expected, rel=1e-12)


def test_quantile_half_is_half_the_l1_loss():
    x, y = pair()
    torch.testing.assert_close(reg.quantile_loss(x, y, q=0.5, reduction="sum"),
                               reg.l1_loss(x, y, "sum") / 2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-100, 100), min_size=3, max_size=15),
       st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9]))
def test_constant_minimising_the_pinball_loss_is_a_q_quantile(values, q):
    y = torch.tensor(values, dtype=torch.float64)
    candidates = y.unique()  # the minimum is attained at a data point
    losses = torch.stack([reg.quantile_loss(c.expand_as(y), y, q=q) for c in candidates])
    best = candidates[losses.argmin()]
    below, above = (y < best).double().mean().item(), (y > best).double().mean().item()
    assert below <= q + 1e-12 and above <= 1 - q + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=10),
       st.floats(0.05, 5))
def test_huber_lies_between_zero_and_half_squared_error(values, delta):
    d = torch.tensor(values, dtype=torch.float64)
    zero = torch.zeros_like(d)
    h = reg.huber_loss(d, zero, "none", delta)
    assert (h >= 0).all() and (h <= 0.5 * d * d + 1e-9).all()
    assert (h <= delta * d.abs() + 1e-9).all()


# --------------------------------------------------------------------------- bad input
ALL = [reg.l1_loss, reg.mse_loss, reg.smooth_l1_loss, reg.huber_loss, reg.log_cosh_loss,
       reg.quantile_loss, reg.rmse_loss]


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
def test_bad_input_is_rejected(fn):
    with pytest.raises(TypeError, match="^input: expected a floating-point tensor"):
        fn(torch.tensor([1, 2]), torch.zeros(2))
    with pytest.raises(TypeError, match="^target: expected a torch.Tensor"):
        fn(torch.zeros(2), [0.0, 1.0])
    with pytest.raises(ValueError, match=r"^target: expected shape \(3, 1\)"):
        fn(torch.zeros(3, 1), torch.zeros(3))  # torch would broadcast to (3, 3)


@pytest.mark.parametrize("fn", ALL[:-1], ids=lambda f: f.__name__)
def test_unknown_reduction_is_rejected(fn):
    with pytest.raises(ValueError, match="^reduction"):
        fn(torch.zeros(2), torch.zeros(2), reduction="average")


def test_bad_hyper_parameters_are_rejected():
    x = torch.zeros(2)
    with pytest.raises(ValueError, match="^beta: expected a value >= 0"):
        reg.smooth_l1_loss(x, x, beta=-1.0)
    for delta in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="^delta: expected a value > 0"):
            reg.huber_loss(x, x, delta=delta)
    for q in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"^q: expected a quantile level in \[0, 1\]"):
            reg.quantile_loss(x, x, q=q)
    with pytest.raises(ValueError, match=r"^weight: expected shape \(2,\)"):
        reg.mse_loss(x, x, weight=torch.ones(3))


# --------------------------------------------------------------------------- data
def test_generated_data_are_reproducible_and_shaped():
    X, y, w = sparse_regression(seed=1)
    assert X.shape == (100, 50) and y.shape == (100,) and int((w != 0).sum()) == 5
    assert torch.equal(X, sparse_regression(seed=1)[0])
    assert collinear_design().shape == (50, 2)
    x, y, out = line_with_outliers()
    assert x.shape == y.shape == out.shape and int(out.sum()) == 4
    assert x[out].min() > x[~out].max()


# --------------------------------------------------------------------------- graders
def test_huber_grader():
    def right(x, y, delta):
        d = (x - y).abs()
        return torch.where(d <= delta, 0.5 * d**2, delta * (d - 0.5 * delta))

    def smooth_l1_instead(x, y, delta):  # a common confusion: off by a factor delta
        return right(x, y, delta) / delta

    def unfinished(x, y, delta):
        raise NotImplementedError

    assert grade_huber_loss(right).score == 1.0
    assert grade_huber_loss(smooth_l1_instead).score < 1.0
    assert grade_huber_loss(unfinished).score == 0.0


def test_quantile_grader():
    def right(x, y, q):
        d = y - x
        return torch.maximum(q * d, (q - 1) * d)

    def swapped(x, y, q):  # q on the wrong side
        d = x - y
        return torch.maximum(q * d, (q - 1) * d)

    assert grade_quantile_loss(right).score == 1.0
    assert 0 < grade_quantile_loss(swapped).score < 1.0
