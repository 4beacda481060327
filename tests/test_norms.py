"""lossbook.norms against torch.linalg.vector_norm, scikit-learn and hand calculations: values,
gradients (including where the derivative does not exist), penalties, bad input, graders."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Lasso, Ridge

import lossbook
import lossbook.norms as norms
from lossbook.grading.norms import grade_l2_norm, grade_soft_threshold
from tests.reference import assert_matches, generator

INF = math.inf
NAMED = [(0, norms.l0_norm), (1, norms.l1_norm), (2, norms.l2_norm), (INF, norms.linf_norm)]
DIMS = [None, 0, -1, (0, 2), (1,)]


def with_zeros(dtype=torch.float64, device="cpu", seed=0):
    """A (3, 4, 5) tensor with a zero entry here and there and one all-zero (4, 5) slice and
    (5,) row, so that every gradient convention at zero is exercised."""
    x = torch.randn(3, 4, 5, generator=generator(seed), dtype=dtype)
    x[0, 0, :2] = 0.0
    x[1, 2] = 0.0
    x[2] = 0.0
    return x.to(device)


def vector_norm(ord):
    def reference(x, dim=None, keepdim=False):
        return torch.linalg.vector_norm(x, ord, dim=dim, keepdim=keepdim)

    return reference


# --------------------------------------------------------------------------- against torch
@pytest.mark.parametrize("ord, fn", NAMED, ids=["l0", "l1", "l2", "linf"])
@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_named_norms_match_vector_norm(device, dtype, ord, fn, dim, keepdim):
    x = with_zeros(dtype, device)
    assert_matches(fn, vector_norm(ord), x, dim=dim, keepdim=keepdim)


@pytest.mark.parametrize("p", [0, 0.5, 1, 1.5, 2, 3, 7.5, INF])
@pytest.mark.parametrize("dim", [None, -1, (0, 2)], ids=str)
def test_lp_norm_matches_vector_norm(device, dtype, p, dim):
    x = with_zeros(dtype, device, seed=1)
    assert_matches(lambda t, dim: norms.lp_norm(t, p, dim=dim), vector_norm(p), x, dim=dim)


def test_norms_of_a_scalar_and_of_an_empty_tensor_match_torch():
    for p in (0, 1, 2, 3):
        for x in (torch.tensor(-2.0), torch.zeros(0)):
            assert_matches(lambda t, p=p: norms.lp_norm(t, p), vector_norm(p), x)


def test_lp_norm_dispatches_to_the_special_cases():
    x = with_zeros()
    assert torch.equal(norms.lp_norm(x, 0), norms.l0_norm(x))
    assert torch.equal(norms.lp_norm(x, INF), norms.linf_norm(x))
    torch.testing.assert_close(norms.lp_norm(x, 2), norms.l2_norm(x))
    torch.testing.assert_close(norms.lp_norm(x, 1), norms.l1_norm(x))


# --------------------------------------------------------------------------- gradients at kinks
def grad(fn, x):
    x = x.detach().clone().requires_grad_()
    (g,) = torch.autograd.grad(fn(x), x, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


@pytest.mark.parametrize("p", [0.5, 1, 1.5, 2, 3, INF])
def test_gradient_at_the_zero_vector_is_zero_not_nan(p):
    zero = torch.zeros(4, dtype=torch.float64)
    assert torch.equal(grad(lambda t: norms.lp_norm(t, p), zero), zero)
    assert torch.equal(grad(lambda t: torch.linalg.vector_norm(t, p), zero), zero)


def test_naive_l2_norm_has_nan_gradient_at_zero():
    zero = torch.zeros(3, dtype=torch.float64)
    assert torch.isnan(grad(lambda t: torch.sqrt((t * t).sum()), zero)).all()
    assert torch.equal(grad(norms.l2_norm, zero), zero)


def test_l2_gradient_is_x_over_norm():
    x = torch.tensor([3.0, -4.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(grad(norms.l2_norm, x), x / 5)


def test_l1_gradient_is_sign_with_zero_at_zero():
    x = torch.tensor([2.0, -0.5, 0.0], dtype=torch.float64)
    assert grad(norms.l1_norm, x).tolist() == [1.0, -1.0, 0.0]


def test_lp_below_one_gives_zero_gradient_at_zero_entries():
    x = torch.tensor([0.0, 3.0, -3.0], dtype=torch.float64)
    g = grad(lambda t: norms.lp_norm(t, 0.5), x)
    assert g[0].item() == 0.0 and torch.isfinite(g).all()
    # d/dx_i (sum |x|^p)^(1/p) = sign(x_i) |x_i|^(p-1) ||x||^(1-p); here 12^0.5 / 3^0.5 = 2
    assert g[1:].tolist() == pytest.approx([2.0, -2.0])


def test_l0_counts_non_zeros_and_has_zero_gradient():
    x = torch.tensor([0.0, -2.0, 1e-30, 0.0, 5.0], requires_grad=True)
    count = norms.l0_norm(x)
    assert count.item() == 3 and count.dtype == x.dtype
    (g,) = torch.autograd.grad(count, x)
    assert torch.equal(g, torch.zeros(5))
    assert norms.l0_norm(x * 1000).item() == 3  # not homogeneous: not a norm


def test_linf_shares_the_gradient_between_tied_maxima_like_torch():
    x = torch.tensor([3.0, -3.0, 1.0], dtype=torch.float64)
    assert grad(norms.linf_norm, x).tolist() == [0.5, -0.5, 0.0]
    assert_matches(norms.linf_norm, vector_norm(INF), x)


def test_l2_is_right_in_float32_where_torchs_sum_of_squares_overflows_or_underflows():
    big, tiny = torch.full((2,), 1e20), torch.full((2,), 1e-30)
    assert torch.linalg.vector_norm(big).item() == INF  # torch squares first…
    assert torch.linalg.vector_norm(tiny).item() == 0.0
    for x in (big, tiny):  # …lossbook divides by the largest entry first
        expected = torch.linalg.vector_norm(x.double()).float()
        torch.testing.assert_close(norms.l2_norm(x), expected, rtol=1e-6, atol=0)
        torch.testing.assert_close(norms.lp_norm(x, 3), torch.linalg.vector_norm(
            x.double(), 3).float(), rtol=1e-6, atol=0)


# --------------------------------------------------------------------------- properties
vectors = st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
                   min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(vectors, vectors, st.sampled_from([1, 1.5, 2, 3, INF]))
def test_triangle_inequality_and_homogeneity_for_p_at_least_one(a, b, p):
    n = min(len(a), len(b))
    x = torch.tensor(a[:n], dtype=torch.float64)
    y = torch.tensor(b[:n], dtype=torch.float64)
    norm = lambda t: norms.lp_norm(t, p).item()  # noqa: E731
    assert norm(x + y) <= norm(x) + norm(y) + 1e-9 * (1 + norm(x) + norm(y))
    assert norm(-2.5 * x) == pytest.approx(2.5 * norm(x), rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(vectors)
def test_norms_are_ordered_linf_l2_l1(a):
    x = torch.tensor(a, dtype=torch.float64)
    linf, l2, l1 = (norms.lp_norm(x, p).item() for p in (INF, 2, 1))
    slack = 1e-9 * (1 + l1)
    assert linf <= l2 + slack and l2 <= l1 + slack and l1 <= len(a) * linf + slack


def test_p_below_one_breaks_the_triangle_inequality():
    e1 = torch.tensor([1.0, 0.0])
    e2 = torch.tensor([0.0, 1.0])
    assert norms.lp_norm(e1 + e2, 0.5).item() == pytest.approx(4.0)  # > 1 + 1


def test_lp_tends_to_linf_as_p_grows():
    x = torch.tensor([1.0, -4.0, 2.0], dtype=torch.float64)
    assert norms.lp_norm(x, 200).item() == pytest.approx(4.0, rel=1e-2)


# --------------------------------------------------------------------------- penalties
def test_penalties_over_model_parameters():
    model = torch.nn.Linear(3, 2).double()
    tensors = list(model.parameters())
    l1 = sum(t.abs().sum() for t in tensors)
    l2 = sum((t**2).sum() for t in tensors)
    torch.testing.assert_close(norms.l1_penalty(model.parameters(), lam=0.3), 0.3 * l1)
    torch.testing.assert_close(norms.l2_penalty(model.parameters(), lam=0.3), 0.15 * l2)
    single = model.weight
    torch.testing.assert_close(norms.l2_penalty(single, lam=2.0), (single**2).sum())


def test_l2_penalty_is_sgd_weight_decay():
    torch.manual_seed(0)
    decayed, penalised = torch.nn.Linear(4, 3).double(), torch.nn.Linear(4, 3).double()
    penalised.load_state_dict(decayed.state_dict())
    x, y = torch.randn(8, 4, dtype=torch.float64), torch.randn(8, 3, dtype=torch.float64)
    sgd_decay = torch.optim.SGD(decayed.parameters(), lr=0.1, weight_decay=0.05)
    sgd_plain = torch.optim.SGD(penalised.parameters(), lr=0.1)
    for _ in range(3):
        sgd_decay.zero_grad()
        sgd_plain.zero_grad()
        lossbook.mse_loss(decayed(x), y).backward()
        penalty = norms.l2_penalty(penalised.parameters(), lam=0.05)
        loss = lossbook.mse_loss(penalised(x), y) + penalty
        loss.backward()
        sgd_decay.step()
        sgd_plain.step()
    for a, b in zip(decayed.parameters(), penalised.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def small_problem(seed=3):
    g = generator(seed)
    X = torch.randn(40, 8, generator=g, dtype=torch.float64)
    w = torch.tensor([2.0, 0, 0, -1.5, 0, 0, 0.5, 0], dtype=torch.float64)
    return X, X @ w + 0.3 * torch.randn(40, generator=g, dtype=torch.float64)


def objective_gradient(X, y, w, loss):
    w = w.clone().requires_grad_()
    (g,) = torch.autograd.grad(loss(X, y, w), w)
    return g


def test_sklearn_lasso_solves_half_mse_plus_l1_penalty():
    """KKT conditions of mse/2 + l1_penalty(alpha) at scikit-learn's Lasso(alpha) solution."""
    X, y = small_problem()
    alpha = 0.2
    fit = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000)
    w = torch.from_numpy(fit.fit(X.numpy(), y.numpy()).coef_)
    g = objective_gradient(X, y, w, lambda X, y, w: lossbook.mse_loss(X @ w, y) / 2)
    active = w != 0
    assert 0 < int(active.sum()) < 8
    torch.testing.assert_close(g[active], -alpha * w[active].sign(), atol=1e-8, rtol=0)
    assert (g[~active].abs() <= alpha + 1e-8).all()
    total = lambda w: lossbook.mse_loss(X @ w, y) / 2 + norms.l1_penalty(w, lam=alpha)  # noqa: E731
    assert total(w) <= total(w + 1e-3 * torch.randn(8, generator=generator(1), dtype=w.dtype))


def test_sklearn_ridge_solves_sum_squared_error_plus_l2_penalty_of_two_alpha():
    X, y = small_problem()
    alpha = 3.0
    w = torch.from_numpy(Ridge(alpha=alpha, fit_intercept=False).fit(X.numpy(), y.numpy()).coef_)
    g = objective_gradient(X, y, w, lambda X, y, w: lossbook.mse_loss(X @ w, y, reduction="sum")
                           + norms.l2_penalty(w, lam=2 * alpha))
    torch.testing.assert_close(g, torch.zeros(8, dtype=torch.float64), atol=1e-9, rtol=0)


# --------------------------------------------------------------------------- soft-thresholding
def test_soft_threshold_is_the_minimiser_of_the_l1_proximal_problem():
    z = torch.tensor([-2.0, -0.3, 0.0, 0.25, 0.7, 3.0], dtype=torch.float64)
    tau = 0.5
    grid = torch.linspace(-4, 4, 80_001, dtype=torch.float64)
    objective = 0.5 * (grid[:, None] - z) ** 2 + tau * grid[:, None].abs()
    brute = grid[objective.argmin(dim=0)]
    torch.testing.assert_close(norms.soft_threshold(z, tau), brute, atol=1e-4, rtol=0)
    assert norms.soft_threshold(z, tau).tolist() == pytest.approx([-1.5, 0, 0, 0, 0.2, 2.5])


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [norms.l0_norm, norms.l1_norm, norms.l2_norm, norms.linf_norm,
                                norms.lp_norm, norms.soft_threshold])
def test_non_float_input_is_rejected(fn):
    args = (1.0,) if fn is norms.soft_threshold else ()
    with pytest.raises(TypeError, match="^x: expected a floating-point tensor"):
        fn(torch.tensor([1, 2]), *args)
    with pytest.raises(TypeError, match="^x: expected a torch.Tensor, got list"):
        fn([1.0, 2.0], *args)


@pytest.mark.parametrize("p", [-1, -INF, math.nan])
def test_negative_or_nan_p_is_rejected(p):
    with pytest.raises(ValueError, match="^p: expected p >= 0"):
        norms.lp_norm(torch.ones(3), p)


def test_penalty_arguments_are_checked():
    with pytest.raises(ValueError, match="^parameters: expected at least one tensor"):
        norms.l1_penalty([])
    with pytest.raises(TypeError, match=r"^parameters\[1\]: expected a floating-point tensor"):
        norms.l2_penalty([torch.ones(2), torch.ones(2, dtype=torch.long)])
    with pytest.raises(ValueError, match="^threshold: expected a value >= 0"):
        norms.soft_threshold(torch.ones(2), -0.1)


# --------------------------------------------------------------------------- graders
def test_soft_threshold_grader():
    right = grade_soft_threshold(lambda x, t: x.sign() * torch.relu(x.abs() - t))
    assert right.score == 1.0
    one_sided = grade_soft_threshold(lambda x, t: torch.relu(x - t))  # forgets negative x
    assert 0 < one_sided.score < 1
    shrink_all = grade_soft_threshold(lambda x, t: x - t * x.sign())  # never reaches 0
    assert shrink_all.score < 1

    def unfinished(x, t):
        raise NotImplementedError

    assert grade_soft_threshold(unfinished).score == 0.0


def test_l2_norm_grader():
    def safe(x):  # the square root's gradient is infinite at 0: keep 0 out of it
        squared = (x * x).sum(-1)
        positive = squared > 0
        root = torch.where(positive, squared, torch.ones_like(squared)).sqrt()
        return torch.where(positive, root, torch.zeros_like(squared))

    assert grade_l2_norm(safe).score == 1.0
    own = grade_l2_norm(lambda x: norms.l2_norm(x, dim=-1))
    assert own.score == 0.0 and "implement it yourself" in str(own)
    naive = grade_l2_norm(lambda x: torch.sqrt((x * x).sum(-1)))
    failed = [text for ok, text in naive.checks if not ok]
    assert failed and all("zero row" in text for text in failed)
    assert np.isclose(naive.score, 5 / 6)
