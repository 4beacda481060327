"""lossbook.likelihood against torch.nn.functional, torch.distributions and scipy: values,
gradients, torch's edge conventions (var clamped at eps, the Stirling term only where the
count exceeds 1), bad input, the MLE fitter, the chapter's data and graders."""

import math

import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook.likelihood as lik
from lossbook.data import likelihood as lik_data
from lossbook.grading import likelihood as lik_grading
from tests.reference import assert_matches, generator, rand, randn

REDUCTIONS = ["none", "mean", "sum"]


# --------------------------------------------------------------------------- the coin
def test_binomial_pmf_matches_scipy(device, dtype):
    theta = torch.tensor([0.0, 0.1, 0.5, 0.6, 0.99, 1.0], dtype=dtype, device=device)
    for n, k in [(10, 6), (10, 0), (10, 10), (2000, 1200)]:
        expected = scipy.stats.binom.pmf(k, n, theta.cpu().double().numpy())
        ours = lik.binomial_pmf(k, n, theta)
        tol = dict(atol=1e-12, rtol=1e-9) if dtype == torch.float64 else dict(atol=1e-6, rtol=2e-3)
        torch.testing.assert_close(ours.cpu().double(), torch.from_numpy(expected), **tol)


def test_binomial_pmf_note_numbers():
    # seed errata 37: P(6 heads in 10 | 0.6) = 0.2508, the note's "P(6; 0.5)" would be 0.2051
    theta = torch.tensor([0.6, 0.5], dtype=torch.float64)
    p = lik.binomial_pmf(6, 10, theta)
    assert round(p[0].item(), 4) == 0.2508 and round(p[1].item(), 4) == 0.2051
    assert math.isclose(p[0].item(), math.comb(10, 6) * 0.6**6 * 0.4**4, rel_tol=1e-12)


def test_binomial_pmf_sums_to_one_and_has_gradient():
    theta = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    pmf = lik.binomial_pmf(torch.arange(11), 10, theta)
    torch.testing.assert_close(pmf.sum(), torch.tensor(1.0, dtype=torch.float64))
    (g,) = torch.autograd.grad(pmf[3], theta)
    expected = torch.autograd.functional.jacobian(
        lambda t: torch.distributions.Binomial(10, probs=t).log_prob(torch.tensor(3.0)).exp(),
        theta.detach(),
    )
    torch.testing.assert_close(g, expected)


@pytest.mark.parametrize(
    "args, match",
    [((3, 10, torch.tensor(1.5)), "theta"), ((11, 10, torch.tensor(0.5)), "k"),
     ((2.5, 10, torch.tensor(0.5)), "k"), ((1, -1, torch.tensor(0.5)), "n"),
     ((1, 10, torch.tensor(1)), "theta")],
)
def test_binomial_pmf_rejects_bad_input(args, match):
    with pytest.raises((ValueError, TypeError), match=f"^{match}"):
        lik.binomial_pmf(*args)


def test_bernoulli_log_likelihood_matches_torch_distributions(device, dtype):
    outcomes = (rand(10, seed=1, device=device) < 0.6).to(dtype)
    theta = torch.linspace(0.01, 0.99, 7, dtype=dtype, device=device).unsqueeze(1)

    def reference(theta, outcomes):
        return torch.distributions.Bernoulli(probs=theta).log_prob(outcomes).sum(-1)

    assert_matches(lik.bernoulli_log_likelihood, reference, theta, outcomes)


def test_bernoulli_log_likelihood_at_the_edges():
    heads = torch.ones(4, dtype=torch.float64)
    mixed = torch.tensor([1.0, 0.0], dtype=torch.float64)
    zero_one = torch.tensor([0.0, 1.0], dtype=torch.float64)
    assert torch.equal(lik.bernoulli_log_likelihood(zero_one[1:], heads), torch.tensor(0.0,
                       dtype=torch.float64))
    assert lik.bernoulli_log_likelihood(zero_one[:1], mixed).item() == -math.inf
    with pytest.raises(ValueError, match="^outcomes"):
        lik.bernoulli_log_likelihood(torch.tensor(0.5), torch.tensor([2.0]))


# --------------------------------------------------------------------------- gaussian
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_matches_torch(device, dtype, reduction, full):
    mu, y = randn(6, 3, seed=1, dtype=dtype, device=device), randn(6, 3, seed=2, dtype=dtype,
                                                                    device=device)
    var = rand(6, 3, seed=3, dtype=dtype, device=device) + 0.05
    for v in (var, var[:, 0], var[:, :1]):  # element-wise, one per row (N,), one per row (N, 1)
        assert_matches(lik.gaussian_nll_loss, F.gaussian_nll_loss, mu, y, v, full=full,
                       reduction=reduction)
    assert_matches(lik.gaussian_nll_loss, F.gaussian_nll_loss, mu, y, 0.7, full=full,
                   reduction=reduction)


def test_gaussian_nll_clamps_var_in_value_only_like_torch(device, dtype):
    mu, y = randn(5, seed=4, dtype=dtype, device=device), randn(5, seed=5, dtype=dtype,
                                                               device=device)
    var = torch.tensor([0.0, 1e-9, 1e-6, 1e-3, 1.0], dtype=dtype, device=device)
    for eps in (1e-6, 1e-2):
        assert_matches(lik.gaussian_nll_loss, F.gaussian_nll_loss, mu, y, var, eps=eps,
                       reduction="none", rtol=1e-6 if dtype == torch.float64 else 1e-4)
    v = var.clone().requires_grad_()
    lik.gaussian_nll_loss(mu, y, v, reduction="sum").backward()
    assert torch.isfinite(v.grad).all() and v.grad[0] != 0  # a zero variance is pushed back


def test_gaussian_nll_rejects_bad_input():
    x = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="^var: expected non-negative"):
        lik.gaussian_nll_loss(x, x, torch.tensor([[1.0, -1.0, 1.0]] * 4))
    with pytest.raises(ValueError, match="^var: expected non-negative"):
        lik.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match="^var: expected shape"):
        lik.gaussian_nll_loss(x, x, torch.ones(2))
    with pytest.raises(ValueError, match="^target: shape"):
        lik.gaussian_nll_loss(x, torch.zeros(5), torch.ones(4, 3))
    with pytest.raises(ValueError, match="^reduction"):
        lik.gaussian_nll_loss(x, x, torch.ones(4, 3), reduction="avg")
    with pytest.raises(TypeError, match="^input"):
        lik.gaussian_nll_loss(torch.zeros(4, 3, dtype=torch.long), x, torch.ones(4, 3))


@settings(max_examples=30, deadline=None)
@given(st.floats(-5, 5), st.floats(-5, 5), st.floats(1e-3, 1e3))
def test_gaussian_nll_full_is_minus_scipy_logpdf(mu, y, var):
    ours = lik.gaussian_nll_loss(torch.tensor([mu], dtype=torch.float64),
                                 torch.tensor([y], dtype=torch.float64),
                                 torch.tensor([var], dtype=torch.float64), full=True)
    expected = -scipy.stats.norm.logpdf(y, loc=mu, scale=math.sqrt(var))
    assert math.isclose(ours.item(), expected, rel_tol=1e-10, abs_tol=1e-10)


# --------------------------------------------------------------------------- poisson
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_matches_torch(device, dtype, reduction, log_input, full):
    x = randn(4, 5, seed=6, dtype=dtype, device=device)
    if not log_input:
        x = x.exp()
    y = torch.poisson(torch.full((4, 5), 2.5, dtype=torch.float64), generator=generator(7))
    y[0, :3] = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)  # around the Stirling cut
    y = y.to(dtype=dtype, device=device)
    # target as a keyword: not differentiated (torch's target gradient is NaN at y = 0, full)
    assert_matches(lik.poisson_nll_loss, F.poisson_nll_loss, x, target=y, log_input=log_input,
                   full=full, reduction=reduction)
    positive = y.clamp(min=0.5)  # the target gradient too, where torch's is finite
    assert_matches(lik.poisson_nll_loss, F.poisson_nll_loss, x, positive, log_input=log_input,
                   full=full, reduction=reduction)


def test_poisson_full_adds_stirling_only_above_one():
    x = torch.zeros(5, dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 2.0, 10.0, 100.0], dtype=torch.float64)
    extra = (lik.poisson_nll_loss(x, y, full=True, reduction="none")
             - lik.poisson_nll_loss(x, y, reduction="none"))
    stirling = [0.0, 0.0] + [v * math.log(v) - v + 0.5 * math.log(2 * math.pi * v)
                             for v in (2.0, 10.0, 100.0)]
    torch.testing.assert_close(extra, torch.tensor(stirling, dtype=torch.float64))
    # Stirling approximates log y!; the exact NLL at log-rate 0 is 1 + lgamma(y + 1)
    exact = -scipy.stats.poisson.logpmf(y.numpy(), 1.0)
    full = lik.poisson_nll_loss(x, y, full=True, reduction="none")
    torch.testing.assert_close(full, torch.from_numpy(exact), atol=0.05, rtol=0)


def test_poisson_gradient_is_rate_minus_count_and_target_gradient_is_finite():
    eta = randn(6, seed=8).requires_grad_()
    y = torch.tensor([0.0, 0.0, 1.0, 2.0, 3.0, 9.0], dtype=torch.float64, requires_grad=True)
    lik.poisson_nll_loss(eta, y, full=True, reduction="sum").backward()
    torch.testing.assert_close(eta.grad, eta.detach().exp() - y.detach())
    assert torch.isfinite(y.grad).all()  # torch's is NaN at y = 0 with full=True


def test_poisson_nll_checks_no_values_like_torch():
    x, counts = torch.zeros(3), torch.tensor([1.0, -1.0, 0.0])
    for kwargs in ({}, dict(full=True)):  # a negative count: a number, as torch gives
        torch.testing.assert_close(lik.poisson_nll_loss(x, counts, **kwargs),
                                   F.poisson_nll_loss(x, counts, **kwargs))
    rates = torch.tensor([-1.0, 1.0, 1.0])  # a negative rate: NaN, as torch gives
    assert lik.poisson_nll_loss(rates, counts.abs(), log_input=False).isnan()
    assert F.poisson_nll_loss(rates, counts.abs(), log_input=False).isnan()
    with pytest.raises(ValueError, match="^reduction"):
        lik.poisson_nll_loss(x, x, reduction="total")


# --------------------------------------------------------------------------- laplace
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_laplace_nll_matches_torch_distributions(device, dtype, reduction):
    mu, y = randn(5, 2, seed=9, dtype=dtype, device=device), randn(5, 2, seed=10, dtype=dtype,
                                                                    device=device)
    b = rand(5, 2, seed=11, dtype=dtype, device=device) + 0.1

    def reference(mu, y, b, full, reduction):
        loss = -torch.distributions.Laplace(mu, b).log_prob(y)
        loss = loss if full else loss - math.log(2)
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]

    for full in (False, True):
        assert_matches(lik.laplace_nll, reference, mu, y, b, full=full, reduction=reduction)


def test_laplace_nll_scalar_scale_and_bad_input():
    mu, y = randn(4, seed=12), randn(4, seed=13)
    torch.testing.assert_close(lik.laplace_nll(mu, y, 2.0, reduction="none"),
                               math.log(2.0) + (mu - y).abs() / 2)
    with pytest.raises(ValueError, match="^scale: expected non-negative"):
        lik.laplace_nll(mu, y, -1.0)
    with pytest.raises(ValueError, match="^scale: expected non-negative"):
        lik.laplace_nll(mu, y, torch.tensor([1.0, -1.0, 1.0, 1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="^scale: shape"):
        lik.laplace_nll(mu, y, torch.ones(3, dtype=torch.float64))


# --------------------------------------------------------------------------- fit_mle
def test_fit_mle_finds_the_coin_mle():
    flips = lik_data.flips()

    def nll(logit):
        return -lik.bernoulli_log_likelihood(torch.sigmoid(logit), flips)

    init = torch.tensor(0.0, dtype=torch.float64)
    fit = lik.fit_mle(nll, init, steps=30)
    assert math.isclose(torch.sigmoid(fit.estimate).item(), 0.6, abs_tol=1e-8)
    assert fit.trace.shape == (31,) and fit.trace[-1] < fit.trace[0]
    assert init.item() == 0.0  # init is copied, never modified


def test_fit_mle_gaussian_mean_and_log_variance_with_adam():
    x = randn(200, seed=14, scale=2.0) + 3

    def nll(mu, log_var):
        return lik.gaussian_nll_loss(mu.expand_as(x), x, log_var.exp().expand_as(x))

    init = (torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64))
    mu, log_var = lik.fit_mle(nll, init, steps=50).estimate
    assert math.isclose(mu.item(), x.mean().item(), abs_tol=1e-6)
    assert math.isclose(log_var.exp().item(), x.var(correction=0).item(), rel_tol=1e-5)
    zero = (torch.zeros(1, dtype=torch.float64),)
    (mu_adam,) = lik.fit_mle(lambda m: ((x - m) ** 2).mean(), zero, steps=400, optimizer="adam",
                             lr=0.1).estimate
    assert math.isclose(mu_adam.item(), x.mean().item(), abs_tol=1e-2)


def test_fit_mle_rejects_bad_input():
    with pytest.raises(ValueError, match="^optimizer"):
        lik.fit_mle(lambda t: t**2, torch.zeros(1), optimizer="sgd")
    with pytest.raises(TypeError, match="^init"):
        lik.fit_mle(lambda t: t**2, torch.zeros(1, dtype=torch.long))


# --------------------------------------------------------------------------- data
def test_data_generators():
    assert lik_data.flips().tolist() == [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]
    with pytest.raises(ValueError, match="^sequence"):
        lik_data.flips("HX")
    c = lik_data.coin(2000, 0.3, seed=0)
    assert torch.equal(c, lik_data.coin(2000, 0.3, seed=0)) and abs(c.mean().item() - 0.3) < 0.04
    g = lik_data.tails_before_heads(4000, 0.25, seed=1)
    assert g.dtype == torch.long and g.min() >= 0 and abs(g.double().mean().item() - 3) < 0.2
    x, y = lik_data.counts(500, 0.5, 1.0, seed=2)
    assert x.shape == y.shape == (500,) and torch.equal(y, y.round()) and y.min() >= 0
    x, y = lik_data.heteroscedastic(300, seed=3)
    assert x.shape == y.shape == (300, 1) and x.abs().max() <= 3
    resid = (y - torch.sin(x)) / lik_data.noise_std(x)
    assert abs(resid.std().item() - 1) < 0.15


# --------------------------------------------------------------------------- graders
def _right_gaussian(mean, target, var):
    return 0.5 * (torch.log(2 * math.pi * var) + (target - mean) ** 2 / var)


def _right_poisson(log_rate, target):
    y = torch.where(target > 1, target, torch.full_like(target, 2.0))
    stirling = torch.where(target > 1, y * torch.log(y) - y + 0.5 * torch.log(2 * math.pi * y),
                           torch.zeros_like(y))
    return torch.exp(log_rate) - target * log_rate + stirling


def _not_implemented(*args):
    raise NotImplementedError


def test_gaussian_grader():
    assert lik_grading.grade_gaussian_nll(_right_gaussian).score == 1.0
    # forgetting the constant log(2 pi) / 2 is the classic slip
    assert lik_grading.grade_gaussian_nll(
        lambda m, t, v: 0.5 * (torch.log(v) + (t - m) ** 2 / v)).score < 0.5
    assert lik_grading.grade_gaussian_nll(_not_implemented).score == 0.0


def test_poisson_grader():
    assert lik_grading.grade_poisson_nll(_right_poisson).score == 1.0
    # Stirling everywhere: log 0 at count 0 gives NaN, at count 1 a wrong value
    wrong = lambda x, y: torch.exp(x) - y * x + y * torch.log(y) - y + 0.5 * torch.log(  # noqa: E731
        2 * math.pi * y)
    assert lik_grading.grade_poisson_nll(wrong).score < 1.0
    assert lik_grading.grade_poisson_nll(_not_implemented).score == 0.0
