"""lossbook.distillation against torch's kl_div and cross_entropy composed as Hinton et al.
write them, the paper's gradient formulas, and its high-temperature limit."""

import math

import pytest
import torch
import torch.nn.functional as F

import lossbook
import lossbook.distillation as kd
from lossbook import _checks as check
from tests.reference import assert_matches, classes, randn

REDUCTIONS = ["none", "mean", "sum"]


# --------------------------------------------------------------------------- references
def torch_soft_target(s, t, *, temperature, reduction="mean"):
    """T² KL(softmax(t/T) || softmax(s/T)) from torch's kl_div, classes on dim 1 (or 0)."""
    dim = 0 if s.dim() == 1 else 1
    T = temperature
    log_q, log_p = F.log_softmax(s / T, dim), F.log_softmax(t / T, dim)
    if reduction == "mean" and s.dim() == 2:  # the paper's per-sample KL
        kl = F.kl_div(log_q, log_p, log_target=True, reduction="batchmean")
        return T**2 * kl
    per_position = F.kl_div(log_q, log_p, log_target=True, reduction="none").sum(dim)
    if reduction == "none":
        return T**2 * per_position
    return T**2 * (per_position.sum() if reduction == "sum" else per_position.mean())


def torch_distillation(s, t, y, *, temperature, alpha, reduction="mean"):
    """alpha T² KL + (1 - alpha) CE, composed from torch.nn.functional."""
    soft = torch_soft_target(s, t, temperature=temperature, reduction=reduction)
    return alpha * soft + (1 - alpha) * F.cross_entropy(s, y, reduction=reduction)


def centred(x, dim=1):
    return x - x.mean(dim=dim, keepdim=True)


def torch_logit_matching(s, t, reduction="mean"):
    dim = 0 if s.dim() == 1 else 1
    per_position = 0.5 * F.mse_loss(centred(s, dim), centred(t, dim), reduction="none").mean(dim)
    if reduction == "none":
        return per_position
    if reduction == "mean" and s.dim() == 2:
        return 0.5 * F.mse_loss(centred(s), centred(t))  # the docstring's identity
    return per_position.sum() if reduction == "sum" else per_position.mean()


SHAPES = {
    "unbatched": ((5,), ()),
    "batch": ((7, 5), (7,)),
    "spatial": ((3, 4, 2, 3), (3, 2, 3)),
}


# --------------------------------------------------------------------------- values, gradients
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("temperature", [0.5, 4.0, 20.0])
def test_soft_target_loss_matches_torch_kl_div(device, dtype, shape, reduction, temperature):
    s = randn(*shape[0], dtype=dtype, device=device, scale=3)
    t = randn(*shape[0], seed=1, dtype=dtype, device=device, scale=3)
    # Both subtract two log-probabilities close to -log C: in float32 the KL's relative error
    # grows like T² eps, for torch's composition as for lossbook's.
    tolerance = dict(rtol=max(1e-5, 2e-7 * temperature**2)) if dtype == torch.float32 else {}
    assert_matches(kd.soft_target_loss, torch_soft_target, s, t, temperature=temperature,
                   reduction=reduction, **tolerance)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("alpha", "temperature"), [(0.0, 4.0), (0.3, 1.0), (0.3, 4.0),
                                                   (1.0, 4.0)])
def test_distillation_loss_matches_kl_div_and_cross_entropy(
    device, dtype, shape, reduction, alpha, temperature
):
    s = randn(*shape[0], dtype=dtype, device=device, scale=3)
    t = randn(*shape[0], seed=1, dtype=dtype, device=device, scale=3)
    y = classes(*shape[1], num_classes=shape[0][0 if len(shape[0]) == 1 else 1], seed=2,
                device=device)
    assert_matches(kd.distillation_loss, torch_distillation, s, t, y, temperature=temperature,
                   alpha=alpha, reduction=reduction)


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logit_matching_loss_matches_half_mse_of_centred_logits(device, dtype, shape, reduction):
    s = randn(*shape[0], dtype=dtype, device=device, scale=3)
    t = randn(*shape[0], seed=1, dtype=dtype, device=device, scale=3)
    assert_matches(kd.logit_matching_loss, torch_logit_matching, s, t, reduction=reduction)


def test_default_reduction_is_the_per_sample_kl_not_kl_divs_mean():
    s, t = randn(6, 10), randn(6, 10, seed=1)
    ours = kd.soft_target_loss(s, t, temperature=2.0)
    batchmean = F.kl_div(F.log_softmax(s / 2, 1), F.log_softmax(t / 2, 1), log_target=True,
                         reduction="batchmean")
    elementwise = F.kl_div(F.log_softmax(s / 2, 1), F.log_softmax(t / 2, 1), log_target=True,
                           reduction="none").mean()  # what kl_div's default 'mean' returns
    torch.testing.assert_close(ours, 4 * batchmean)
    torch.testing.assert_close(ours, 4 * 10 * elementwise)  # kl_div's 'mean' is C times less


def test_soft_term_has_the_gradient_of_the_papers_soft_cross_entropy():
    """The paper's C = -sum p log q differs from the KL by H(p): same gradient in s."""
    s, t, T = randn(5, 6, scale=3), randn(5, 6, seed=1, scale=3), 3.0
    p = torch.softmax(t / T, dim=1)
    s1, s2 = s.clone().requires_grad_(), s.clone().requires_grad_()
    (ours,) = torch.autograd.grad(kd.soft_target_loss(s1, t, temperature=T), s1)
    paper = T**2 * F.cross_entropy(s2 / T, p)  # cross-entropy with probability targets
    (theirs,) = torch.autograd.grad(paper, s2)
    torch.testing.assert_close(ours, theirs)
    entropy = -(p * p.log()).sum(1).mean()
    torch.testing.assert_close(kd.soft_target_loss(s, t, temperature=T),
                               paper.detach() - T**2 * entropy)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 4.0, 50.0])
def test_soft_target_gradient_is_T_times_q_minus_p(device, temperature):
    """Hinton et al. eq. 2, times the T² the loss carries: d/ds = T (q - p) per sample."""
    s = randn(4, 7, device=device, scale=3).requires_grad_()
    t = randn(4, 7, seed=1, device=device, scale=3)
    (grad,) = torch.autograd.grad(kd.soft_target_loss(s, t, temperature=temperature,
                                                      reduction="sum"), s)
    q, p = torch.softmax(s / temperature, 1), torch.softmax(t / temperature, 1)
    torch.testing.assert_close(grad, temperature * (q - p).detach())


def test_distillation_gradient_mixes_the_two_terms(device):
    s = randn(4, 7, device=device, scale=3).requires_grad_()
    t, y = randn(4, 7, seed=1, device=device, scale=3), classes(4, num_classes=7, seed=2,
                                                                  device=device)
    T, alpha = 5.0, 0.8
    loss = kd.distillation_loss(s, t, y, temperature=T, alpha=alpha, reduction="sum")
    (grad,) = torch.autograd.grad(loss, s)
    soft = T * (torch.softmax(s / T, 1) - torch.softmax(t / T, 1))
    hard = torch.softmax(s, 1) - F.one_hot(y, 7).double()
    torch.testing.assert_close(grad, (alpha * soft + (1 - alpha) * hard).detach())


def test_kl_gradient_fades_as_one_over_T_squared_and_T_squared_restores_it():
    s, t = randn(8, 10, scale=2), randn(8, 10, seed=1, scale=2)

    def gradient_norm(temperature, scaled):
        x = s.clone().requires_grad_()
        loss = kd.soft_target_loss(x, t, temperature=temperature)
        loss = loss if scaled else loss / temperature**2  # the bare KL
        return torch.autograd.grad(loss, x)[0].norm().item()

    for T in (20.0, 40.0, 80.0):
        assert gradient_norm(T, False) / gradient_norm(2 * T, False) == pytest.approx(4, rel=0.05)
        assert gradient_norm(T, True) / gradient_norm(2 * T, True) == pytest.approx(1, rel=0.05)


# --------------------------------------------------------------------------- high temperature
def test_high_temperature_limit_is_logit_matching():
    """T² KL -> (1/2C) |centred s - centred t|² with an O(1/T) error (Hinton et al. eq. 4)."""
    s, t = randn(6, 10, scale=2), randn(6, 10, seed=1, scale=2) + 5  # means differ on purpose
    by_hand = ((centred(s) - centred(t)) ** 2).sum(1).mean() / (2 * 10)
    errors = []
    for T in (1e2, 1e3, 1e4):
        errors.append((kd.soft_target_loss(s, t, temperature=T) - by_hand).abs().item())
    assert errors[2] < 1e-3 * by_hand.item()
    assert errors[0] / errors[1] == pytest.approx(10, rel=0.2)  # O(1/T)
    assert errors[1] / errors[2] == pytest.approx(10, rel=0.2)
    torch.testing.assert_close(kd.logit_matching_loss(s, t), by_hand)
    uncentred = ((s - t) ** 2).sum(1).mean() / 20
    assert (uncentred - by_hand).item() > 1  # without centring the limit is wrong


def test_high_temperature_gradient_is_centred_logit_difference():
    """d KL / ds -> (centred s - centred t) / (N C T²) for the per-sample mean (eq. 4)."""
    N, C, T = 6, 10, 1e4
    s, t = randn(N, C, scale=2).requires_grad_(), randn(N, C, seed=1, scale=2) + 5
    kl = kd.soft_target_loss(s, t, temperature=T) / T**2
    (grad,) = torch.autograd.grad(kl, s)
    limit = (centred(s) - centred(t)).detach() / (N * C * T**2)
    torch.testing.assert_close(grad, limit, rtol=0, atol=1e-3 * limit.abs().max().item())
    s2 = s.detach().clone().requires_grad_()
    (matching,) = torch.autograd.grad(kd.logit_matching_loss(s2, t), s2)
    torch.testing.assert_close(matching, limit * T**2)


def test_logit_matching_ignores_a_shift_of_each_samples_logits():
    s, t = randn(4, 6), randn(4, 6, seed=1)
    shift = randn(4, 1, seed=2) * 100
    torch.testing.assert_close(kd.logit_matching_loss(s + shift, t), kd.logit_matching_loss(s, t))
    torch.testing.assert_close(kd.soft_target_loss(s + shift, t - shift, temperature=3.0),
                               kd.soft_target_loss(s, t, temperature=3.0))


# --------------------------------------------------------------------------- edge cases
def test_identical_logits_cost_nothing_and_alpha_zero_is_cross_entropy():
    s, y = randn(5, 4, scale=3), classes(5, num_classes=4)
    assert kd.soft_target_loss(s, s.clone(), temperature=2.0).item() == pytest.approx(0, abs=1e-15)
    assert kd.logit_matching_loss(s, s + 3).item() == pytest.approx(0, abs=1e-15)
    t = randn(5, 4, seed=1)
    torch.testing.assert_close(kd.distillation_loss(s, t, y, alpha=0.0), F.cross_entropy(s, y))
    torch.testing.assert_close(kd.distillation_loss(s, t, y, alpha=1.0, temperature=2.0),
                               kd.soft_target_loss(s, t, temperature=2.0))


def test_extreme_logits_stay_finite_and_match_torch(device):
    s = torch.tensor([[1e4, -1e4, 0.0], [30.0, 0.0, -30.0]], device=device)
    t = torch.tensor([[-1e4, 1e4, 0.0], [0.0, 30.0, 0.0]], device=device)
    assert_matches(kd.soft_target_loss, torch_soft_target, s, t, temperature=1.0,
                   reduction="none", rtol=1e-5, atol=1e-3)
    assert torch.isfinite(kd.soft_target_loss(s, t, temperature=1.0)).all()


def test_a_class_the_teacher_rules_out_adds_nothing_and_no_nan_gradient():
    s = randn(3, 4).requires_grad_()
    t = randn(3, 4, seed=1)
    t[:, 3] = -math.inf  # a masked class: p = 0 there
    teacher = t.clone().requires_grad_()
    loss = kd.soft_target_loss(s, teacher, temperature=2.0, reduction="sum")
    # KL over the remaining classes, with the student normalised over all four
    log_q = F.log_softmax(s / 2, 1)[:, :3]
    p = torch.softmax(t[:, :3] / 2, 1)
    torch.testing.assert_close(loss, 4 * (p * (p.log() - log_q)).sum())
    grad, teacher_grad = torch.autograd.grad(loss, (s, teacher))
    assert torch.isfinite(grad).all() and torch.isfinite(teacher_grad).all()
    assert (teacher_grad[:, 3] == 0).all()


def test_student_ruling_out_a_teacher_class_costs_infinity():
    s = torch.tensor([[0.0, -math.inf, 1.0]])
    t = torch.tensor([[0.0, 1.0, 2.0]])
    assert kd.soft_target_loss(s, t, temperature=1.0).item() == math.inf


@pytest.mark.parametrize("fn", [kd.soft_target_loss, kd.logit_matching_loss])
def test_nan_in_nan_out(fn):
    s, t = randn(3, 4), randn(3, 4, seed=1)
    s[1, 2] = math.nan
    out = fn(s, t, reduction="none")
    assert torch.isnan(out[1]) and torch.isfinite(out[[0, 2]]).all()
    t2 = randn(3, 4, seed=2)
    t2[0, 0] = math.nan
    assert torch.isnan(fn(randn(3, 4), t2, reduction="none")[0])


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float32_and_returned_in_half(half):
    s, t = randn(8, 10, scale=20, dtype=torch.float32), randn(8, 10, seed=1, scale=20,
                                                               dtype=torch.float32)
    y = classes(8, num_classes=10)
    for fn, args, kwargs in [(kd.soft_target_loss, (), {"temperature": 0.5}),
                             (kd.distillation_loss, (y,), {"temperature": 0.5}),
                             (kd.logit_matching_loss, (), {})]:
        ours = fn(s.to(half), t.to(half), *args, **kwargs)
        assert ours.dtype == half and torch.isfinite(ours)
        exact = fn(s.to(half).float(), t.to(half).float(), *args, **kwargs)
        torch.testing.assert_close(ours.float(), exact, rtol=1e-2, atol=1e-2)


def test_empty_batch_sums_to_zero_and_averages_to_nan():
    s, t = torch.zeros(0, 5), torch.zeros(0, 5)
    assert kd.soft_target_loss(s, t, reduction="sum").item() == 0
    assert torch.isnan(kd.soft_target_loss(s, t))


# --------------------------------------------------------------------------- bad input
def test_bad_arguments_raise_errors_that_name_them():
    s, t, y = randn(3, 4), randn(3, 4, seed=1), classes(3, num_classes=4)
    cases = [
        (lambda: kd.soft_target_loss(s, t, temperature=0.0), "temperature"),
        (lambda: kd.soft_target_loss(s, t, temperature=-1), "temperature"),
        (lambda: kd.soft_target_loss(s, t, temperature=math.inf), "temperature"),
        (lambda: kd.distillation_loss(s, t, y, alpha=1.5), "alpha"),
        (lambda: kd.soft_target_loss(s, t[:, :3]), "teacher_logits"),
        (lambda: kd.soft_target_loss(s, t, reduction="batchmean"), "reduction"),
        (lambda: kd.distillation_loss(s, t, y[:2]), "target"),
        (lambda: kd.distillation_loss(s, t, torch.tensor([0, 1, 4])), "target"),
        (lambda: kd.logit_matching_loss(s, t, reduction="avg"), "reduction"),
    ]
    for call, name in cases:
        with pytest.raises(check.ArgumentError, match=f"^{name}:"):
            call()
    with pytest.raises(check.ArgumentTypeError, match="^target:"):
        kd.distillation_loss(s, t, y.double())
    with pytest.raises(check.ArgumentTypeError, match="^student_logits:"):
        kd.soft_target_loss(y, t)
    with pytest.raises(TypeError):
        kd.soft_target_loss(s, t, 4.0)  # hyper-parameters are keyword-only


# --------------------------------------------------------------------------- package
def test_exported_and_catalogued_with_sample_inputs(device):
    generator = torch.Generator().manual_seed(0)
    for entry in kd.CATALOG:
        assert getattr(lossbook, entry.name) is entry.function
        sample = entry.inputs(generator, torch.float64, device)
        value = entry.function(*sample.args, **sample.kwargs)
        assert value.shape == () and torch.isfinite(value) and value.item() > 0


# --------------------------------------------------------------------------- grader
def stable_soft_target(s, t, temperature):
    log_q = torch.log_softmax(s / temperature, dim=-1)
    log_p = torch.log_softmax(t / temperature, dim=-1)
    p = log_p.exp()
    gap = torch.where(p > 0, log_p - log_q, torch.zeros_like(log_p))
    return temperature**2 * (p * gap).sum(-1)


def naive_soft_target(s, t, temperature):
    q = torch.exp(s / temperature) / torch.exp(s / temperature).sum(-1, keepdim=True)
    p = torch.exp(t / temperature) / torch.exp(t / temperature).sum(-1, keepdim=True)
    return temperature**2 * (p * (p.log() - q.log())).sum(-1)


def kl_div_soft_target(s, t, temperature):
    log_q, log_p = F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1)
    return temperature**2 * F.kl_div(log_q, log_p, log_target=True, reduction="none").sum(-1)


def test_grader_gives_a_correct_answer_full_marks():
    from lossbook.grading.distillation import grade_soft_target_loss

    report = grade_soft_target_loss(stable_soft_target)
    assert report.score == 1.0, str(report)


def test_grader_catches_overflow_and_the_masked_class():
    from lossbook.grading.distillation import grade_soft_target_loss

    naive = grade_soft_target_loss(naive_soft_target)
    failed = [text for ok, text in naive.checks if not ok]
    assert any("±1e3" in text for text in failed) and 0 < naive.score < 1
    composed = grade_soft_target_loss(kl_div_soft_target)  # 0 * (-inf) = NaN at p = 0
    failed = [text for ok, text in composed.checks if not ok]
    assert failed and all("rules out" in text for text in failed)


def test_grader_refuses_lossbooks_own_answer_and_wrappers_around_it():
    from lossbook.grading.distillation import grade_soft_target_loss

    own = grade_soft_target_loss(lossbook.soft_target_loss)
    assert own.score == 0 and "implement it yourself" in str(own)
    assert grade_soft_target_loss(kd.soft_target_loss).score == 0

    def wrapper(s, t, temperature):
        return lossbook.soft_target_loss(s, t, temperature=temperature, reduction="none")

    def via_distillation(s, t, temperature):
        y = torch.zeros(s.shape[0], dtype=torch.long)
        return kd.distillation_loss(s, t, y, temperature=temperature, alpha=1.0,
                                    reduction="none")

    for answer in (wrapper, via_distillation):
        report = grade_soft_target_loss(answer)
        assert report.score == 0 and "implement it yourself" in str(report)
    assert lossbook.soft_target_loss is kd.soft_target_loss  # restored after grading
    assert kd.distillation_loss.__name__ == "distillation_loss"


def test_grader_scores_an_unfinished_exercise_zero():
    from lossbook.grading.distillation import grade_soft_target_loss

    def unfinished(s, t, temperature):
        raise NotImplementedError()

    report = grade_soft_target_loss(unfinished)
    assert report.score == 0 and "not implemented yet" in str(report)
