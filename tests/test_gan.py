"""lossbook.gan against torch compositions and the papers' formulas: values, gradients,
reductions, the optimal-discriminator identity, penalties, bad input, graders."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook
import lossbook.gan as gan
from lossbook.data import gan as gan_data
from lossbook.grading.gan import grade_d_loss_hinge, grade_d_loss_minimax
from tests.reference import assert_matches, generator, randn

REDUCTIONS = ["none", "mean", "sum"]


def _reduce(x, reduction):
    return {"none": lambda t: t, "mean": torch.mean, "sum": torch.sum}[reduction](x)


def _bce(x, target, reduction):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target), reduction=reduction)


# --------------------------------------------------------------------------- references
# Written from the papers' definitions with torch.nn.functional's BCE / MSE / L1 (or plain ops).
def ref_d_minimax(real, fake, reduction="mean"):  # Goodfellow et al. (2014), eq. 1
    return _bce(real, 1.0, reduction) + _bce(fake, 0.0, reduction)


def ref_g_minimax(fake, reduction="mean"):  # log(1 - D) = -BCE(fake, 0)
    return -_bce(fake, 0.0, reduction)


def ref_g_nonsaturating(fake, reduction="mean"):  # -log D = BCE(fake, 1)
    return _bce(fake, 1.0, reduction)


def ref_d_lsgan(real, fake, a=0.0, b=1.0, reduction="mean"):  # Mao et al. (2017), eq. 2
    return 0.5 * (F.mse_loss(real, torch.full_like(real, b), reduction=reduction)
                  + F.mse_loss(fake, torch.full_like(fake, a), reduction=reduction))


def ref_g_lsgan(fake, c=1.0, reduction="mean"):
    return 0.5 * F.mse_loss(fake, torch.full_like(fake, c), reduction=reduction)


def ref_d_wasserstein(real, fake, reduction="mean"):  # Arjovsky et al. (2017)
    return _reduce(fake, reduction) - _reduce(real, reduction)


def ref_g_wasserstein(fake, reduction="mean"):
    return -_reduce(fake, reduction)


def ref_d_hinge(real, fake, reduction="mean"):  # Miyato et al. (2018), eq. 16
    return (_reduce(F.relu(1 - real), reduction)
            + _reduce(F.relu(1 + fake), reduction))


def ref_cycle(input, target, weight=10.0, reduction="mean"):  # Zhu et al. (2017), eq. 2
    return weight * F.l1_loss(input, target, reduction=reduction)


D_LOSSES = [(gan.d_loss_minimax, ref_d_minimax), (gan.d_loss_lsgan, ref_d_lsgan),
            (gan.d_loss_wasserstein, ref_d_wasserstein), (gan.d_loss_hinge, ref_d_hinge)]
G_LOSSES = [(gan.g_loss_minimax, ref_g_minimax), (gan.g_loss_nonsaturating, ref_g_nonsaturating),
            (gan.g_loss_lsgan, ref_g_lsgan), (gan.g_loss_wasserstein, ref_g_wasserstein),
            (gan.g_loss_hinge, ref_g_wasserstein)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ours,ref", D_LOSSES, ids=lambda f: getattr(f, "__name__", ""))
def test_discriminator_losses_match_references(ours, ref, reduction, device, dtype):
    real = randn(16, 1, seed=1, dtype=dtype, device=device, scale=3)
    fake = randn(16, 1, seed=2, dtype=dtype, device=device, scale=3)
    assert_matches(ours, ref, real, fake, reduction=reduction)


@pytest.mark.parametrize("ours,ref", D_LOSSES, ids=lambda f: getattr(f, "__name__", ""))
def test_discriminator_losses_take_batches_of_different_sizes(ours, ref):
    real, fake = randn(5, seed=1, scale=2), randn(9, seed=2, scale=2)
    assert_matches(ours, ref, real, fake)
    assert_matches(ours, ref, real, fake, reduction="sum")
    with pytest.raises(ValueError, match="^fake: expected shape"):
        ours(real, fake, reduction="none")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ours,ref", G_LOSSES, ids=lambda f: getattr(f, "__name__", ""))
def test_generator_losses_match_references(ours, ref, reduction, device, dtype):
    fake = randn(4, 3, seed=3, dtype=dtype, device=device, scale=3)
    assert_matches(ours, ref, fake, reduction=reduction)


def test_lsgan_targets_are_used():
    real, fake = randn(6, seed=1), randn(6, seed=2)
    assert_matches(gan.d_loss_lsgan, ref_d_lsgan, real, fake, a=-1.0, b=1.0)
    assert_matches(gan.g_loss_lsgan, ref_g_lsgan, fake, c=0.0)


def test_logit_losses_are_stable_at_extreme_logits(dtype):
    x = torch.tensor([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype)
    assert_matches(gan.d_loss_minimax, ref_d_minimax, x, x.flip(0), reduction="none")
    assert_matches(gan.g_loss_minimax, ref_g_minimax, x, reduction="none")
    assert_matches(gan.g_loss_nonsaturating, ref_g_nonsaturating, x, reduction="none")
    assert torch.isfinite(gan.d_loss_minimax(x, x)).all()


@settings(max_examples=40, deadline=None)
@given(st.floats(-30, 30))
def test_generator_logit_gradients_are_minus_d_and_minus_one_minus_d(logit):
    """Saturating: d/dl log(1 - sigma(l)) = -sigma(l); non-saturating: -(1 - sigma(l))."""
    x = torch.tensor(logit, dtype=torch.float64, requires_grad=True)
    (g_sat,) = torch.autograd.grad(gan.g_loss_minimax(x), x)
    (g_ns,) = torch.autograd.grad(gan.g_loss_nonsaturating(x), x)
    d = 1 / (1 + math.exp(-logit))
    assert g_sat.item() == pytest.approx(-d, rel=1e-12, abs=1e-300)
    one_minus_d = 1 / (1 + math.exp(logit))  # 1 - sigma(l) = sigma(-l), without cancellation
    assert g_ns.item() == pytest.approx(-one_minus_d, rel=1e-12, abs=1e-300)


def test_optimal_discriminator_is_density_ratio_and_value_is_js():
    """Goodfellow et al. (2014), prop. 1 and thm. 1, on two discrete distributions.

    Minimising sum_x p(x) softplus(-l(x)) + q(x) softplus(l(x)) over the logits l gives
    l* = log p/q, i.e. D* = p/(p + q), and the minimum is log 4 - 2 JS(p, q).
    """
    p = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    q = torch.tensor([0.4, 0.3, 0.2, 0.1], dtype=torch.float64)

    def expected_loss(logits):  # sum_x p(x) [-log D(x)] + q(x) [-log(1 - D(x))]
        return (p * gan.g_loss_nonsaturating(logits, reduction="none")
                - q * gan.g_loss_minimax(logits, reduction="none")).sum()

    logits = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([logits], max_iter=500, tolerance_grad=1e-14,
                                  tolerance_change=0, line_search_fn="strong_wolfe")

    def closure():
        optimiser.zero_grad()
        loss = expected_loss(logits)
        loss.backward()
        return loss

    optimiser.step(closure)
    torch.testing.assert_close(torch.sigmoid(logits.detach()), p / (p + q), atol=1e-7, rtol=0)
    m = (p + q) / 2
    js = 0.5 * (p * (p / m).log()).sum() + 0.5 * (q * (q / m).log()).sum()
    torch.testing.assert_close(expected_loss(logits.detach()), math.log(4) - 2 * js)


# --------------------------------------------------------------------------- penalties
def test_gradient_penalty_is_zero_for_a_unit_norm_linear_critic(device, dtype):
    critic = torch.nn.Linear(3, 1).to(device=device, dtype=dtype)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.0, -0.8]]))
    real, fake = randn(8, 3, seed=1, dtype=dtype, device=device), randn(8, 3, seed=2,
                                                                         dtype=dtype, device=device)
    penalty = gan.gradient_penalty(critic, real, fake)
    assert penalty.item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        critic.weight.mul_(3.0)  # norm 3: penalty 10 (3 - 1)^2 = 40
    assert gan.gradient_penalty(critic, real, fake).item() == pytest.approx(40.0, rel=1e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradient_penalty_matches_hand_formula(reduction, device, dtype):
    """Critic D(x) = 1/2 ||x||^2 has gradient x, so the penalty is lambda (||x_hat|| - 1)^2."""
    real = randn(6, 2, 2, seed=1, dtype=dtype, device=device)
    fake = randn(6, 2, 2, seed=2, dtype=dtype, device=device)
    eps = torch.rand(6, generator=generator(3), dtype=dtype).to(device)

    def critic(x):
        return 0.5 * (x ** 2).flatten(1).sum(1)

    def reference(real, fake, eps):
        mixed = eps.view(-1, 1, 1) * real + (1 - eps.view(-1, 1, 1)) * fake
        return 10.0 * _reduce((mixed.flatten(1).norm(dim=1) - 1) ** 2, reduction)

    ours = gan.gradient_penalty(critic, real, fake, epsilon=eps, reduction=reduction)
    torch.testing.assert_close(ours, reference(real, fake, eps))


def test_gradient_penalty_trains_the_critic_and_draws_epsilon_reproducibly():
    critic = torch.nn.Linear(2, 1, dtype=torch.float64)
    real, fake = randn(5, 2, seed=1), randn(5, 2, seed=2)
    a = gan.gradient_penalty(critic, real, fake, generator=generator(7))
    b = gan.gradient_penalty(critic, real, fake, generator=generator(7))
    assert torch.equal(a, b)
    a.backward()
    w = critic.weight.detach()
    # d/dw 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w||: the double-backward path
    expected = 20 * (w.norm() - 1) * w / w.norm()
    torch.testing.assert_close(critic.weight.grad, expected)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_r1_penalty_matches_hand_formula(reduction, device, dtype):
    """D(x) = sum(w * x^2) has gradient 2 w x; R1 = gamma/2 ||2 w x||^2 (Mescheder 2018)."""
    real = randn(7, 3, seed=4, dtype=dtype, device=device)
    w = torch.tensor([0.5, -1.0, 2.0], dtype=dtype, device=device)

    def critic(x):
        return (w * x ** 2).sum(1, keepdim=True)

    expected = 5.0 / 2 * _reduce(((2 * w * real) ** 2).sum(1), reduction)
    torch.testing.assert_close(gan.r1_penalty(critic, real, gamma=5.0, reduction=reduction),
                               expected)


def test_penalties_take_one_dimensional_samples_as_scalars():
    """(N,) samples are N one-feature samples: D(x) = x^2 has gradient 2x per sample."""
    real, fake = randn(5, seed=1), randn(5, seed=2)
    eps = torch.rand(5, generator=generator(3), dtype=torch.float64)
    mixed = eps * real + (1 - eps) * fake
    torch.testing.assert_close(gan.gradient_penalty(lambda x: x**2, real, fake, epsilon=eps),
                               10.0 * ((2 * mixed.abs() - 1) ** 2).mean())
    torch.testing.assert_close(gan.r1_penalty(lambda x: x**2, real, gamma=2.0),
                               ((2 * real) ** 2).mean())


def test_a_critic_that_ignores_its_input_has_gradient_zero():
    """The derivative of a constant is 0: GP = lambda (0 - 1)^2, R1 = 0 (decided: no error)."""
    real, fake = randn(4, 2, seed=1), randn(4, 2, seed=2)
    bias = torch.nn.Parameter(torch.tensor(0.3, dtype=torch.float64))
    critics = {"scores without a graph": lambda x: torch.zeros(len(x), dtype=x.dtype),
               "a graph that misses x": lambda x: bias.expand(len(x))}
    for name, critic in critics.items():
        assert gan.gradient_penalty(critic, real, fake, weight=3.0).item() == 3.0, name
        assert gan.r1_penalty(critic, real).item() == 0.0, name


def test_penalties_need_a_batch_dimension():
    with pytest.raises(ValueError, match="^real: expected a batch of samples"):
        gan.gradient_penalty(lambda x: x, torch.tensor(1.0), torch.tensor(2.0))
    with pytest.raises(ValueError, match="^real: expected a batch of samples"):
        gan.r1_penalty(lambda x: x, torch.tensor(1.0))


# --------------------------------------------------------------------------- cycle consistency
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cycle_consistency_matches_weighted_l1(reduction, device, dtype):
    x = randn(5, 2, seed=1, dtype=dtype, device=device)
    y = randn(5, 2, seed=2, dtype=dtype, device=device)
    assert_matches(gan.cycle_consistency_loss, ref_cycle, x, y, reduction=reduction)
    assert_matches(gan.cycle_consistency_loss, ref_cycle, x, y, weight=2.5, reduction=reduction)


def test_cycle_consistency_is_zero_for_a_perfect_round_trip():
    x = randn(4, 3, seed=1)
    assert gan.cycle_consistency_loss(x.clone(), x).item() == 0.0


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_rejected_with_the_argument_name():
    x = randn(4)
    with pytest.raises(TypeError, match="^real: expected a floating-point tensor"):
        gan.d_loss_minimax(torch.ones(4, dtype=torch.long), x)
    with pytest.raises(TypeError, match="^fake: expected a torch.Tensor"):
        gan.g_loss_nonsaturating([0.0, 1.0])
    with pytest.raises(ValueError, match="^reduction: expected one of"):
        gan.d_loss_hinge(x, x, reduction="batchmean")
    with pytest.raises(ValueError, match="^target: expected shape"):
        gan.cycle_consistency_loss(x, randn(5))
    with pytest.raises(ValueError, match="^fake: expected shape"):
        gan.gradient_penalty(torch.nn.Linear(2, 1), randn(3, 2), randn(4, 2))
    with pytest.raises(ValueError, match="^epsilon: expected shape"):
        gan.gradient_penalty(torch.nn.Linear(2, 1, dtype=torch.float64), randn(3, 2),
                             randn(3, 2), epsilon=randn(4))


def test_public_losses_are_exported_at_the_top_level():
    for entry in gan.CATALOG:
        assert getattr(lossbook, entry.name) is entry.function


# --------------------------------------------------------------------------- data
def test_ring_data_and_blobs():
    centres = gan_data.ring_centres()
    assert centres.shape == (8, 2)
    torch.testing.assert_close(centres.norm(dim=1), torch.full((8,), 2.0))
    samples = gan_data.ring_of_gaussians(800, seed=0)
    assert torch.equal(samples, gan_data.ring_of_gaussians(800, seed=0))
    a, b = gan_data.two_blobs(500, seed=0)
    assert a.mean(0).sub(torch.tensor([-2.0, 0.0])).abs().max() < 0.1
    assert b.mean(0).sub(torch.tensor([2.0, 1.0])).abs().max() < 0.2


# --------------------------------------------------------------------------- mode coverage
# Three centres, s.d. 0.1, so "high quality" means within 0.3 of the nearest centre.
_CENTRES = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]
_SAMPLES = [[0.1, 0.1],     # 0.141 from centre 0: high quality
            [0.2, -0.25],   # 0.320 from centre 0: not
            [10.29, 0.0],   # 0.290 from centre 1: high quality
            [5.0, 5.0],     # far from all
            [0.0, 0.25],    # 0.250 from centre 0: high quality
            [0.05, 0.0],    # 0.050 from centre 0: high quality
            [math.nan, 0.0],  # NaN: never high quality
            [0.0, 10.5]]    # 0.500 from centre 2: not


def test_mode_coverage_by_hand():
    samples, centres = torch.tensor(_SAMPLES), torch.tensor(_CENTRES)
    result = gan.mode_coverage(samples, centres, 0.1)
    assert result.counts.tolist() == [3, 1, 0]
    assert result.high_quality == 4 / 8
    assert result.modes_hit == 2  # 1 % of 8 samples: one sample suffices
    assert gan.mode_coverage(samples, centres, 0.1, min_share=0.25).modes_hit == 1  # >= 2
    assert gan.mode_coverage(samples, centres, 0.1, min_share=0.4).modes_hit == 0  # >= 4
    wider = gan.mode_coverage(samples, centres, 0.1, within=6.0)  # within 0.6
    assert wider.counts.tolist() == [4, 1, 1] and wider.high_quality == 6 / 8
    in_float64 = gan.mode_coverage(samples.double(), centres.double(), 0.1)
    assert in_float64[:2] == result[:2] and torch.equal(in_float64.counts, result.counts)


def test_mode_coverage_min_count_is_a_floor_under_the_share():
    samples, centres = torch.tensor(_SAMPLES), torch.tensor(_CENTRES)  # counts [3, 1, 0]
    hit = [gan.mode_coverage(samples, centres, 0.1, min_count=k).modes_hit for k in (2, 3, 4)]
    assert hit == [1, 1, 0]
    # needed = max(ceil(share * 8), min_count): the larger of the two rules
    assert gan.mode_coverage(samples, centres, 0.1, min_share=0.5, min_count=1).modes_hit == 0
    assert gan.mode_coverage(samples, centres, 0.1, min_share=0.0, min_count=1).modes_hit == 2
    assert gan.mode_coverage(samples, centres, 0.1, min_share=0.1, min_count=3).modes_hit == 1
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="^min_count: expected a positive integer"):
            gan.mode_coverage(samples, centres, 0.1, min_count=bad)
    assert lossbook.generative.mode_coverage is gan.mode_coverage  # one implementation


def test_mode_coverage_share_is_exact_at_whole_counts():
    centres = torch.zeros(1, 2)
    for n, share, needed in [(100, 0.07, 7), (300, 0.07, 21), (100, 0.29, 29)]:
        near = torch.zeros(needed, 2)  # exactly the share at the centre ...
        far = torch.full((n - needed, 2), 5.0)  # ... the rest far away
        samples = torch.cat([near, far])
        assert gan.mode_coverage(samples, centres, 0.1, min_share=share).modes_hit == 1
        assert gan.mode_coverage(samples[1:], centres, 0.1, min_share=share).modes_hit == 0


def test_mode_coverage_of_data_collapse_and_smear_on_the_ring():
    centres = gan_data.ring_centres()
    data = gan.mode_coverage(gan_data.ring_of_gaussians(2000, seed=0), centres, 0.05)
    # P(|x - c| <= 3 sigma) for a 2-D Gaussian is 1 - exp(-9/2) = 0.989; 2000 draws: sd 0.0023
    assert data.modes_hit == 8 and abs(data.high_quality - (1 - math.exp(-4.5))) < 0.01
    collapsed = gan.mode_coverage(centres[:3].repeat(100, 1), centres, 0.05)
    assert (collapsed.modes_hit, collapsed.high_quality) == (3, 1.0)
    angle = torch.linspace(0, 2 * math.pi, 4001)[:-1]  # uniform on the circle of radius 2
    smear = 2 * torch.stack([angle.cos(), angle.sin()], dim=1)
    # a chord of 0.15 on a circle of radius 2 spans 2 asin(0.15 / 4): each centre covers twice
    # that angle, eight centres 16 asin(0.0375) of the circle's 2 pi (0.191)
    arc = 8 * 4 * math.asin(0.15 / 4) / (2 * math.pi)
    smeared = gan.mode_coverage(smear, centres, 0.05)
    assert abs(smeared.high_quality - arc) < 2e-3 and smeared.modes_hit == 8
    assert gan.mode_coverage(smear, centres, 0.05, min_share=0.03).modes_hit == 0


def test_mode_coverage_rejects_bad_arguments():
    samples, centres = torch.tensor(_SAMPLES), torch.tensor(_CENTRES)
    with pytest.raises(ValueError, match="^samples: expected shape"):
        gan.mode_coverage(samples[:, :1], centres, 0.1)
    with pytest.raises(ValueError, match="^std: expected a positive"):
        gan.mode_coverage(samples, centres, 0.0)
    with pytest.raises(ValueError, match="^within: expected a positive"):
        gan.mode_coverage(samples, centres, 0.1, within=-1.0)
    with pytest.raises(ValueError, match="^min_share: expected a share"):
        gan.mode_coverage(samples, centres, 0.1, min_share=1.5)
    with pytest.raises(TypeError, match="^samples"):
        gan.mode_coverage(samples.long(), centres, 0.1)


# --------------------------------------------------------------------------- graders
def test_d_loss_minimax_grader():
    def right(real, fake):
        return F.softplus(-real).mean() + F.softplus(fake).mean()

    def naive(real, fake):  # logs of rounded sigmoids: fails at extreme logits
        return (-torch.log(torch.sigmoid(real)).mean()
                - torch.log(1 - torch.sigmoid(fake)).mean())

    def todo(real, fake):
        raise NotImplementedError

    assert grade_d_loss_minimax(right).score == 1.0
    assert 0 < grade_d_loss_minimax(naive).score < 1.0
    assert grade_d_loss_minimax(todo).score == 0.0


def test_d_loss_hinge_grader():
    def right(real, fake):
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()

    def no_margin(real, fake):
        return F.relu(-real).mean() + F.relu(fake).mean()

    def todo(real, fake):
        raise NotImplementedError

    assert grade_d_loss_hinge(right).score == 1.0
    assert grade_d_loss_hinge(no_margin).score < 0.5
    assert grade_d_loss_hinge(todo).score == 0.0
