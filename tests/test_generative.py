"""lossbook.generative against independent references: torch.distributions for the Gaussian
KL, torch.nn.functional compositions for the ELBO and the noise-prediction loss, Ho et al.'s
and Kingma et al.'s formulas evaluated by hand for the noise schedule, Bayes' rule for the
diffusion posterior, scikit-learn for the optimal denoiser; values, gradients, reductions,
dtypes, devices, honest numbers, bad input and the graders."""

import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

import lossbook
from lossbook import catalog
from lossbook.generative import NoiseSchedule, diffusion_loss, elbo_loss, gaussian_kl_divergence
from lossbook.grading.generative import grade_elbo_loss, grade_gaussian_kl_divergence
from tests.reference import assert_matches, generator, rand, randn

REDUCTIONS = ["none", "mean", "sum"]


def _reduce(x, reduction):
    return {"none": lambda t: t, "mean": torch.mean, "sum": torch.sum}[reduction](x)


# --------------------------------------------------------------------------- references
def ref_kl(mu, logvar, prior_mu=None, prior_logvar=None, reduction="mean"):
    """torch.distributions' KL between Normals, summed over the last dimension."""
    prior_mu = torch.zeros_like(mu) if prior_mu is None else prior_mu
    prior_logvar = torch.zeros_like(mu) if prior_logvar is None else prior_logvar
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(prior_mu, torch.exp(0.5 * prior_logvar))
    return _reduce(kl_divergence(q, p).sum(dim=-1), reduction)


def ref_elbo(input, target, mu, logvar, beta=1.0, likelihood="bernoulli", var=1.0,
             reduction="mean"):
    """Kingma & Welling (2014): reconstruction NLL summed over the pixels + beta * KL."""
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(input, target, reduction="none")
    else:
        nll = F.gaussian_nll_loss(input, target, torch.full_like(input, var), full=True,
                                  reduction="none")
    reconstruction = nll.flatten(start_dim=mu.dim() - 1).sum(dim=-1)
    return _reduce(reconstruction + beta * ref_kl(mu, logvar, reduction="none"), reduction)


def ref_diffusion(eps_pred, eps, weights=None, reduction="mean"):
    """Ho et al. (2020), eq. 14: squared error summed over each sample's dimensions."""
    squared = F.mse_loss(eps_pred, eps, reduction="none").flatten(start_dim=1).sum(dim=1)
    return _reduce(squared if weights is None else weights * squared, reduction)


# --------------------------------------------------------------------------- KL
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_matches_torch_distributions(reduction, device, dtype):
    mu = randn(7, 5, seed=1, dtype=dtype, device=device, scale=2)
    logvar = randn(7, 5, seed=2, dtype=dtype, device=device)
    assert_matches(gaussian_kl_divergence, ref_kl, mu, logvar, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_against_a_general_prior_matches_torch_distributions(reduction, device, dtype):
    mu = randn(4, 3, 6, seed=3, dtype=dtype, device=device)
    logvar = randn(4, 3, 6, seed=4, dtype=dtype, device=device)
    prior_mu = randn(6, seed=5, dtype=dtype, device=device)  # broadcast over rows
    prior_logvar = randn(3, 6, seed=6, dtype=dtype, device=device)
    assert_matches(gaussian_kl_divergence, ref_kl, mu, logvar, prior_mu, prior_logvar,
                   reduction=reduction)


def test_kl_hand_values_and_derivatives():
    # 1-D: KL(N(mu, s^2) || N(0, 1)) = (s^2 + mu^2 - 1 - log s^2) / 2
    mu, s = 0.7, 1.6
    expected = 0.5 * (s**2 + mu**2 - 1 - math.log(s**2))
    value = gaussian_kl_divergence(torch.tensor([mu]), torch.tensor([math.log(s**2)]))
    assert value.item() == pytest.approx(expected, rel=1e-6)
    assert gaussian_kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0.0
    mu = randn(3, 4, seed=7).requires_grad_()
    logvar = randn(3, 4, seed=8).requires_grad_()
    gaussian_kl_divergence(mu, logvar, reduction="sum").backward()
    torch.testing.assert_close(mu.grad, mu.detach())
    torch.testing.assert_close(logvar.grad, 0.5 * (logvar.detach().exp() - 1))


def test_kl_is_honest_about_nan_and_infinity():
    mu = torch.tensor([[0.0, float("nan")], [0.0, 0.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, 0.0], [float("inf"), 0.0], [float("-inf"), 0.0]])
    out = gaussian_kl_divergence(mu, logvar, reduction="none")
    assert torch.isnan(out[0]) and out[1] == math.inf and out[2] == math.inf


def test_kl_half_precision_sums_in_float32():
    # 8 dims of mu = 100: the sum of mu^2 (80 000) overflows float16, the KL (40 000) does not
    mu = torch.full((2, 8), 100.0, dtype=torch.float16)
    out = gaussian_kl_divergence(mu, torch.zeros_like(mu), reduction="none")
    assert out.dtype == torch.float16 and torch.isfinite(out).all()
    torch.testing.assert_close(out.float(), torch.full((2,), 40000.0), rtol=1e-3, atol=0)


def test_kl_rejects_bad_input():
    with pytest.raises(TypeError, match="^mu:"):
        gaussian_kl_divergence(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="^logvar:"):
        gaussian_kl_divergence(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="^prior_mu:"):
        gaussian_kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(5, 2, 3))
    with pytest.raises(ValueError, match="^mu:"):
        gaussian_kl_divergence(torch.tensor(1.0), torch.tensor(0.0))
    with pytest.raises(ValueError, match="^reduction:"):
        gaussian_kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3), reduction="batchmean")


# --------------------------------------------------------------------------- ELBO
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_bernoulli_elbo_matches_composition(beta, reduction, device, dtype):
    logits = randn(6, 10, seed=9, dtype=dtype, device=device, scale=3)
    x = rand(6, 10, seed=10, dtype=dtype, device=device)
    mu = randn(6, 3, seed=11, dtype=dtype, device=device)
    logvar = randn(6, 3, seed=12, dtype=dtype, device=device)
    assert_matches(elbo_loss, ref_elbo, logits, x, mu, logvar, beta=beta, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gaussian_elbo_matches_composition_with_image_shaped_data(reduction, device, dtype):
    mean = randn(4, 1, 3, 3, seed=13, dtype=dtype, device=device)
    x = randn(4, 1, 3, 3, seed=14, dtype=dtype, device=device)
    mu = randn(4, 2, seed=15, dtype=dtype, device=device)
    logvar = randn(4, 2, seed=16, dtype=dtype, device=device)
    assert_matches(elbo_loss, ref_elbo, mean, x, mu, logvar, likelihood="gaussian", var=0.3,
                   reduction=reduction)


def test_elbo_bounds_the_log_evidence_of_a_linear_gaussian_model():
    """z ~ N(0, 1), x | z ~ N(w z + b, s^2): p(x) and the posterior are known in closed form.
    The mean of elbo_loss over many reparameterised draws is -ELBO >= -log p(x), with
    -ELBO = -log p(x) + KL(q || posterior) for any q, and equality at the posterior."""
    w, b, s, x = 1.5, -0.3, 0.6, 0.9
    log_px = Normal(b, math.sqrt(w**2 + s**2)).log_prob(torch.tensor(x, dtype=torch.float64))
    post_mean, post_var = w * (x - b) / (w**2 + s**2), s**2 / (w**2 + s**2)
    eps = randn(100_000, 1, seed=17)
    for m, v in ((0.2, 0.5), (post_mean, post_var)):
        m_t, lv = torch.full((len(eps), 1), m, dtype=torch.float64), math.log(v)
        z = m + math.sqrt(v) * eps
        draws = elbo_loss(w * z + b, torch.full_like(z, x), m_t, torch.full_like(z, lv),
                          likelihood="gaussian", var=s**2, reduction="none")
        gap = kl_divergence(Normal(torch.tensor(m), math.sqrt(v)),
                            Normal(torch.tensor(post_mean), math.sqrt(post_var)))
        standard_error = draws.std() / math.sqrt(len(draws))
        assert abs(draws.mean() - (-log_px + gap)) < 4 * standard_error


def test_elbo_stays_exact_at_extreme_logits_and_in_half_precision():
    logits = torch.tensor([[-1e4, 1e4, 0.0]])
    x = torch.tensor([[1.0, 0.0, 1.0]])
    out = elbo_loss(logits, x, torch.zeros(1, 2), torch.zeros(1, 2))
    assert out.item() == pytest.approx(2e4 + math.log(2), rel=1e-6)
    half = elbo_loss(logits.half(), x.half(), torch.zeros(1, 2).half(), torch.zeros(1, 2).half())
    assert half.dtype == torch.float16 and torch.isfinite(half)


def test_elbo_rejects_bad_input():
    x, mu = torch.rand(3, 4), torch.zeros(3, 2)
    with pytest.raises(ValueError, match="^target:"):
        elbo_loss(x, torch.rand(3, 5), mu, mu)
    with pytest.raises(ValueError, match="^logvar:"):
        elbo_loss(x, x, mu, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="^mu:"):
        elbo_loss(x, x, torch.zeros(2, 2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="^beta:"):
        elbo_loss(x, x, mu, mu, beta=-1.0)
    with pytest.raises(ValueError, match="^likelihood:"):
        elbo_loss(x, x, mu, mu, likelihood="poisson")
    with pytest.raises(TypeError, match="^input:"):
        elbo_loss(x.long(), x, mu, mu)


# --------------------------------------------------------------------------- diffusion loss
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_diffusion_loss_matches_mse_composition(weighted, reduction, device, dtype):
    eps_pred = randn(8, 2, 3, seed=18, dtype=dtype, device=device)
    eps = randn(8, 2, 3, seed=19, dtype=dtype, device=device)
    weights = rand(8, seed=20, dtype=dtype, device=device) if weighted else None
    assert_matches(diffusion_loss, ref_diffusion, eps_pred, eps, weights=weights,
                   reduction=reduction)


def test_diffusion_loss_of_1d_samples_is_the_mean_squared_error():
    a, b = randn(50, seed=21), randn(50, seed=22)
    torch.testing.assert_close(diffusion_loss(a, b), F.mse_loss(a, b))


def test_diffusion_loss_rejects_bad_input_and_keeps_nan():
    with pytest.raises(ValueError, match="^eps:"):
        diffusion_loss(torch.zeros(4, 2), torch.zeros(4, 3))
    with pytest.raises(ValueError, match="^weights:"):
        diffusion_loss(torch.zeros(4, 2), torch.zeros(4, 2), weights=torch.ones(3))
    with pytest.raises(ValueError, match="^eps:"):
        diffusion_loss(torch.tensor(0.0), torch.tensor(0.0))
    out = diffusion_loss(torch.tensor([[float("nan"), 0.0], [1.0, 0.0]]), torch.zeros(2, 2),
                         reduction="none")
    assert torch.isnan(out[0]) and out[1] == 1.0


# --------------------------------------------------------------------------- schedule
def test_linear_and_cosine_schedules_match_the_papers():
    ho = NoiseSchedule.linear(1000, 1e-4, 0.02)
    betas = np.linspace(1e-4, 0.02, 1000)
    np.testing.assert_allclose(ho.betas[1:].numpy(), betas, rtol=1e-12)
    np.testing.assert_allclose(ho.alphas_bar[1:].numpy(), np.cumprod(1 - betas), rtol=1e-12)
    assert ho.alphas_bar[0] == 1 and ho.steps == 1000
    # Nichol & Dhariwal (2021), eq. 17: alpha_bar_t = f(t) / f(0) where no beta is clipped
    cosine, T, s = NoiseSchedule.cosine(50), 50, 0.008
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * np.pi / 2) ** 2
    np.testing.assert_allclose(cosine.alphas_bar[:-1].numpy(), (f / f[0])[:-1], rtol=1e-10)
    assert cosine.betas.max() <= 0.999


def test_q_sample_has_the_marginal_of_the_step_by_step_chain():
    """Run the chain x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) z for 100 000 samples and
    compare its mean and variance at a few steps with q(x_t | x_0) (Ho et al., eq. 4)."""
    schedule = NoiseSchedule.cosine(20)
    x0 = torch.full((100_000,), 1.5, dtype=torch.float64)
    chain, g = x0.clone(), generator(23)
    for t in range(1, 21):
        beta = schedule.betas[t]
        chain = (1 - beta).sqrt() * chain + beta.sqrt() * torch.randn(len(x0), generator=g,
                                                                       dtype=torch.float64)
        if t in (1, 7, 20):
            direct = schedule.q_sample(x0, torch.full((len(x0),), t), randn(len(x0), seed=t))
            assert abs(chain.mean() - direct.mean()) < 0.01
            assert abs(chain.var() - direct.var()) < 0.01
            assert abs(direct.var() - (1 - schedule.alphas_bar[t])) < 0.01


def test_posterior_matches_bayes_rule(device):
    schedule = NoiseSchedule.linear(100, 1e-3, 0.1)
    x0 = randn(6, 3, seed=24, device=device)
    xt = randn(6, 3, seed=25, device=device)
    t = torch.tensor([1, 2, 10, 50, 99, 100], device=device)
    mean, variance = schedule.posterior(x0, xt, t)
    alpha = torch.tensor([1 - 1e-3 - (0.1 - 1e-3) * (k - 1) / 99 for k in t.tolist()],
                         dtype=torch.float64, device=device).unsqueeze(1)
    a_bar_prev = torch.ones_like(alpha)
    for row, k in enumerate(t.tolist()):  # alpha_bar_{t-1} by a plain product
        a_bar_prev[row] = math.prod(1 - 1e-3 - (0.1 - 1e-3) * (j - 1) / 99 for j in range(1, k))
    # q(x_{t-1} | x_t, x_0) ∝ N(x_t; sqrt(alpha) x_{t-1}, 1 - alpha) N(x_{t-1}; ..., 1 - a_bar_prev)
    precision = alpha / (1 - alpha) + 1 / (1 - a_bar_prev)
    bayes_mean = (alpha.sqrt() / (1 - alpha) * xt + a_bar_prev.sqrt() / (1 - a_bar_prev) * x0)
    torch.testing.assert_close(variance[1:], (1 / precision)[1:].expand_as(variance[1:]))
    torch.testing.assert_close(mean[1:], (bayes_mean / precision)[1:])
    torch.testing.assert_close(mean[0], x0[0])  # t = 1: the posterior is the point x_0
    assert (variance[0] == 0).all()
    with pytest.raises(ValueError, match="^t:"):
        schedule.posterior(x0, xt, torch.zeros(6, dtype=torch.long, device=device))


def test_weighted_noise_error_is_the_elbo_kl_term(device):
    """Ho et al. (2020), eq. 12: KL(q(x_{t-1} | x_t, x_0) || N(mu_theta, sigma_t^2)) equals
    w_t |eps - eps_theta|^2 plus a constant C_t, for both of their fixed variances."""
    schedule = NoiseSchedule.linear(1000)
    x0, eps, eps_pred = (randn(16, 2, seed=s, device=device) for s in (26, 27, 28))
    t = torch.randint(2, 1001, (16,), generator=generator(29)).to(device)
    xt = schedule.q_sample(x0, t, eps)
    mean, tilde = schedule.posterior(x0, xt, t)
    torch.testing.assert_close(schedule.mean_from_noise(xt, eps, t), mean)
    for name, var in (("beta", schedule.betas.to(device)[t].unsqueeze(1)), ("posterior", tilde)):
        kl = kl_divergence(Normal(mean, tilde.sqrt()),
                           Normal(schedule.mean_from_noise(xt, eps_pred, t), var.sqrt()))
        constant = (torch.log(var / tilde) + tilde / var - 1).squeeze(1)  # d/2 (...), d = 2
        weights = schedule.elbo_weights(name).to(device)[t]
        torch.testing.assert_close(diffusion_loss(eps_pred, eps, weights=weights,
                                                  reduction="none") + constant, kl.sum(dim=1))


def test_posterior_weights_are_the_snr_form_of_kingma_et_al():
    schedule = NoiseSchedule.cosine(200)
    a_bar = schedule.alphas_bar
    snr = a_bar / (1 - a_bar)  # Kingma et al. (2021), eq. 1 written by hand
    t = torch.arange(2, 201)
    torch.testing.assert_close(schedule.snr(), snr)
    torch.testing.assert_close(schedule.elbo_weights("posterior")[t],
                               0.5 * (snr[t - 1] / snr[t] - 1))
    assert schedule.elbo_weights("posterior")[1] == math.inf
    assert math.isnan(schedule.elbo_weights()[0])
    torch.testing.assert_close(schedule.elbo_weights("beta")[1], 1 / (2 * schedule.alphas[1]))
    with pytest.raises(ValueError, match="^variance:"):
        schedule.elbo_weights("learned")


def test_elbo_of_the_optimal_denoiser_is_exact_for_standard_normal_data():
    """For data N(0, 1) the reverse steps have variance beta_t exactly, so the negative ELBO
    of the optimal eps-predictor, sum of the KL terms, equals the entropy (1/2) log(2 pi e);
    for other scales it is an upper bound."""
    schedule = NoiseSchedule.linear(1000)
    a_bar, betas, t = schedule.alphas_bar, schedule.betas, torch.arange(1, 1001)
    for scale in (1.0, 0.3, 3.0):
        l_T = 0.5 * (a_bar[-1] * scale**2 + 1 - a_bar[-1] - 1 - torch.log(1 - a_bar[-1]))
        tilde = schedule.posterior_variance[t[1:]]
        constants = 0.5 * (torch.log(betas[t[1:]] / tilde) + tilde / betas[t[1:]] - 1).sum()
        minimum = a_bar[t] * scale**2 / (a_bar[t] * scale**2 + 1 - a_bar[t])
        errors = (schedule.elbo_weights("beta")[t] * minimum).sum()
        nelbo = l_T + constants + errors + 0.5 * math.log(2 * math.pi * betas[1])
        entropy = 0.5 * math.log(2 * math.pi * math.e * scale**2)
        if scale == 1.0:
            assert nelbo.item() == pytest.approx(entropy, abs=1e-9)
        else:
            assert nelbo.item() > entropy + 1e-4


def test_optimal_eps_predictor_is_the_least_squares_fit():
    """For data N(m, s^2) the minimiser of E(eps - a x_t - c)^2 is a = sqrt(1 - a_bar) / v,
    c = -a sqrt(a_bar) m with v = a_bar s^2 + 1 - a_bar; NumPy's least-squares line through
    samples finds it."""
    schedule, m, s = NoiseSchedule.linear(1000), 0.8, 0.4
    x0, eps = m + s * randn(100_000, seed=30), randn(100_000, seed=31)
    for t in (5, 200, 600):
        xt = schedule.q_sample(x0, torch.full((len(x0),), t), eps)
        slope, intercept = np.polyfit(xt.numpy(), eps.numpy(), deg=1)
        a_bar = schedule.alphas_bar[t].item()
        a = math.sqrt(1 - a_bar) / (a_bar * s**2 + 1 - a_bar)
        assert slope == pytest.approx(a, abs=0.01)
        assert intercept == pytest.approx(-a * math.sqrt(a_bar) * m, abs=0.01)


def test_schedule_rejects_bad_betas():
    with pytest.raises(ValueError, match="^betas:"):
        NoiseSchedule(torch.tensor([0.1, 1.0]))
    with pytest.raises(ValueError, match="^betas:"):
        NoiseSchedule(torch.zeros(0))
    with pytest.raises(ValueError, match="^steps:"):
        NoiseSchedule.linear(0)


# --------------------------------------------------------------------------- mode coverage
def test_mode_coverage_counts_by_hand():
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    samples = torch.tensor([[0.0, 0.0], [0.29, 0.0], [0.31, 0.0],  # 3 s.d. = 0.3
                            [10.0, 0.1], [5.0, 5.0]])
    result = lossbook.mode_coverage(samples, centres, 0.1)
    assert result.modes_hit == 2
    assert result.high_quality == pytest.approx(3 / 5)
    assert result.counts.tolist() == [2, 1, 0]
    assert lossbook.mode_coverage(samples, centres, 0.1, min_count=2).modes_hit == 1
    assert lossbook.mode_coverage(samples, centres, 0.1, within=4.0).counts.tolist() == [3, 1, 0]


def test_mode_coverage_of_the_ring_data_itself():
    from lossbook.data import gan as gan_data

    samples = gan_data.ring_of_gaussians(4000, seed=32)
    result = lossbook.mode_coverage(samples, gan_data.ring_centres(), 0.05)
    # a 2-D standard normal lies within radius 3 with probability 1 - exp(-9/2)
    assert result.modes_hit == 8
    assert result.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.005)
    with pytest.raises(ValueError, match="^samples:"):
        lossbook.mode_coverage(samples[:, :1], gan_data.ring_centres(), 0.05)


# --------------------------------------------------------------------------- catalog
@pytest.mark.parametrize("entry", [e for e in catalog.entries() if e.chapter == "14_vae_diffusion"],
                         ids=lambda e: e.name)
def test_catalog_samples_run_and_differentiate(entry, device, dtype):
    sample = entry.inputs(generator(33), dtype, device)
    prediction = sample.args[0].clone().requires_grad_()
    value = entry.function(prediction, *sample.args[1:], **sample.kwargs)
    assert value.dim() == 0 and torch.isfinite(value) and value.dtype == dtype
    (gradient,) = torch.autograd.grad(value, prediction)
    assert torch.isfinite(gradient).all() and gradient.device == prediction.device


# --------------------------------------------------------------------------- graders
def student_kl(mu, logvar):
    return 0.5 * (logvar.exp() + mu**2 - 1 - logvar).sum(dim=-1)


def student_elbo(logits, x, mu, logvar, beta):
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)
    return bce + beta * student_kl(mu, logvar)


def naive_elbo(logits, x, mu, logvar, beta):
    p = torch.sigmoid(logits)
    bce = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(dim=-1)
    return bce + beta * student_kl(mu, logvar)


def test_graders_give_full_marks_to_correct_answers():
    assert grade_gaussian_kl_divergence(student_kl).score == 1.0
    assert grade_elbo_loss(student_elbo).score == 1.0


def test_graders_fail_wrong_answers_where_they_are_wrong():
    forgot_half = grade_gaussian_kl_divergence(lambda mu, lv: 2 * student_kl(mu, lv))
    assert [ok for ok, text in forgot_half.checks if "KL = 0" in text] == [True, True]
    assert forgot_half.score < 1
    naive = grade_elbo_loss(naive_elbo)
    failed = [text for ok, text in naive.checks if not ok]
    assert failed and all("extreme logits" in text for text in failed)
    ignores_beta = grade_elbo_loss(lambda lo, x, mu, lv, beta: student_elbo(lo, x, mu, lv, 1.0))
    assert any("beta = 4" in text and not ok for ok, text in ignores_beta.checks)


def test_graders_refuse_lossbooks_own_implementation():
    for handed_in in (lossbook.gaussian_kl_divergence,
                      functools.partial(lossbook.gaussian_kl_divergence, reduction="none"),
                      lambda mu, lv: lossbook.gaussian_kl_divergence(mu, lv, reduction="none")):
        report = grade_gaussian_kl_divergence(handed_in)
        assert report.score == 0 and "implement it yourself" in str(report)
    report = grade_elbo_loss(lambda lo, x, mu, lv, beta: lossbook.elbo_loss(
        lo, x, mu, lv, beta=beta, reduction="none"))
    assert report.score == 0 and "implement it yourself" in str(report)
