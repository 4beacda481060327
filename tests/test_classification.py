"""lossbook.classification against torchvision's and kornia's published focal-loss definitions,
the L-Softmax, generalized and symmetric cross-entropy papers' formulas, torch and
scikit-learn: values, gradients, stability, bad input."""

import math

import numpy as np
import pytest
import sklearn.utils.class_weight
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook
import lossbook.classification as cls
import lossbook.information as info
from lossbook import catalog
from lossbook.grading.classification import (
    grade_effective_number_weights,
    grade_sigmoid_focal_loss,
)
from tests.reference import TOLERANCES, assert_matches, classes, generator, rand, randn

REDUCTIONS = ["none", "mean", "sum"]
LOW_PRECISION = [torch.float16, torch.bfloat16]


def signs(*shape, seed=0, dtype=torch.float64, device="cpu"):
    return (rand(*shape, seed=seed, dtype=dtype, device=device) > 0.5).to(dtype) * 2 - 1


def _reduce(loss, reduction):
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


# --------------------------------------------------------------------------- references
def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss as documented (RetinaNet, from fvcore):
    p = sigmoid(x); ce = BCE-with-logits(x, y); p_t = p y + (1 - p)(1 - y);
    loss = ce (1 - p_t)^gamma, times alpha_t = alpha y + (1 - alpha)(1 - y) when alpha >= 0;
    'mean' / 'sum' over every element."""
    p = torch.sigmoid(inputs)
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _reduce(loss, reduction)


def kornia_focal_loss(input, target, alpha=None, gamma=2.0, reduction="none"):
    """kornia.losses.focal_loss as documented: FL = -sum_c onehot_c alpha_c (1 - p_c)^gamma
    log p_c with p = softmax over dim 1 of (N, C, *) logits; a float alpha means the per-class
    vector [1 - alpha, alpha, ..., alpha]; a tensor alpha holds C weights; None: no alpha."""
    num_classes = input.shape[1]
    log_p = F.log_softmax(input, dim=1)
    one_hot = F.one_hot(target, num_classes).movedim(-1, 1).to(input)
    loss = -((1 - log_p.exp()) ** gamma) * log_p * one_hot
    if alpha is not None:
        if not isinstance(alpha, torch.Tensor):
            alpha = torch.tensor([1 - alpha] + [alpha] * (num_classes - 1))
        loss = loss * alpha.to(input).view(-1, *[1] * (input.dim() - 2))
    return _reduce(loss.sum(1), reduction)


def psi_from_paper(theta, m):
    """L-Softmax eq. (6): psi = (-1)^k cos(m theta) - 2k for theta in [k pi/m, (k+1) pi/m]."""
    theta = np.asarray(theta, dtype=np.float64)
    k = np.minimum(np.floor(m * theta / np.pi), m - 1)
    return (-1.0) ** k * np.cos(m * theta) - 2 * k


def l_softmax_logits_with_acos(input, weight, target, margin, beta=0.0):
    """The paper's logits via explicit angles: ||W_j|| ||x|| cos(theta_j), and
    ||W_y|| ||x|| psi(theta_y) for the true class; psi from theta = acos(cos theta)."""
    norms = input.norm(dim=1, keepdim=True) * weight.norm(dim=1)
    cos = (input @ weight.T) / norms
    theta = torch.acos(cos)
    k = torch.clamp(torch.floor(margin * theta.detach() / math.pi), max=margin - 1)
    psi = (-1.0) ** k * torch.cos(margin * theta) - 2 * k
    is_target = F.one_hot(target, weight.shape[0]).bool()
    margin_logit = (beta * norms * cos + norms * psi) / (1 + beta)
    return torch.where(is_target, margin_logit, norms * cos)


# --------------------------------------------------------------------------- sigmoid focal loss
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha", [0.25, 0.5, -1.0])
@pytest.mark.parametrize("gamma", [0, 0.5, 2, 5])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_sigmoid_focal_loss_matches_torchvision(device, dtype, reduction, alpha, gamma, soft):
    x = randn(6, 5, dtype=dtype, device=device, scale=3)
    y = rand(6, 5, seed=1, dtype=dtype, device=device)
    y = y if soft else (y > 0.6).to(dtype)
    assert_matches(cls.sigmoid_focal_loss, torchvision_sigmoid_focal_loss, x, y,
                   alpha=alpha, gamma=gamma, reduction=reduction)


def test_sigmoid_focal_loss_defaults_are_torchvisions():
    x, y = randn(4, 3), (rand(4, 3, seed=1) > 0.5).double()
    torch.testing.assert_close(cls.sigmoid_focal_loss(x, y), torchvision_sigmoid_focal_loss(x, y))
    assert cls.sigmoid_focal_loss(x, y).shape == (4, 3)  # reduction="none" by default


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gamma_0_without_alpha_is_bce_with_logits(device, dtype, reduction):
    x = randn(7, 3, dtype=dtype, device=device, scale=4)
    y = rand(7, 3, seed=2, dtype=dtype, device=device)
    assert_matches(lambda a, b: cls.sigmoid_focal_loss(a, b, alpha=-1, gamma=0,
                                                       reduction=reduction),
                   lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                   x, y)


def test_gamma_0_with_alpha_is_alpha_weighted_bce():
    x, y = randn(8, scale=3), (rand(8, seed=3) > 0.5).double()
    weights = torch.where(y == 1, 0.25, 0.75).double()
    torch.testing.assert_close(cls.sigmoid_focal_loss(x, y, alpha=0.25, gamma=0),
                               F.binary_cross_entropy_with_logits(x, y, weight=weights,
                                                                  reduction="none"))


EXTREME = [-1e4, -1e4, -30.0, -1.0, 0.0, 1.0, 30.0, 1e4, 1e4]
EXTREME_TARGETS = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("low", LOW_PRECISION + [torch.float32], ids=str)
@pytest.mark.parametrize("gamma", [0, 0.5, 2, 5])
def test_sigmoid_focal_loss_is_finite_and_accurate_at_extreme_logits(device, low, gamma):
    x = torch.tensor(EXTREME, dtype=low, device=device, requires_grad=True)
    y = torch.tensor(EXTREME_TARGETS, dtype=low, device=device)
    loss = cls.sigmoid_focal_loss(x, y, gamma=gamma)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    # the reference in float64 on the same (rounded) inputs
    x64 = x.detach().double().requires_grad_()
    expected = torchvision_sigmoid_focal_loss(x64, y.double(), gamma=gamma)
    tol = TOLERANCES[low]
    torch.testing.assert_close(loss.double(), expected, **tol)
    if gamma >= 1:  # below 1 torchvision's own gradient is NaN where 1 - p_t = 0
        (expected_grad,) = torch.autograd.grad(expected.sum(), x64)
        torch.testing.assert_close(grad.double(), expected_grad, **tol)


@pytest.mark.parametrize("low", LOW_PRECISION, ids=str)
def test_sigmoid_focal_loss_in_half_precision_matches_float64(device, low):
    x = randn(5, 4, device=device, scale=4).to(low)
    y = (rand(5, 4, seed=1, device=device) > 0.5).to(low)
    x_, x64 = x.clone().requires_grad_(), x.double().requires_grad_()
    loss = cls.sigmoid_focal_loss(x_, y, reduction="sum")
    expected = torchvision_sigmoid_focal_loss(x64, y.double(), reduction="sum")
    assert loss.dtype == low
    torch.testing.assert_close(loss.double(), expected, atol=1e-2, rtol=1e-2)
    (grad,), (expected_grad,) = torch.autograd.grad(loss, x_), torch.autograd.grad(expected, x64)
    torch.testing.assert_close(grad.double(), expected_grad, **TOLERANCES[low])


def test_focal_weights_of_the_note():
    """Errata 10-11: at p_t = 0.5 (gamma = 2) the loss is multiplied by 0.25; with
    alpha = 0.25 a hard negative weighs 3x a hard positive of the same p_t."""
    x = torch.tensor([0.0], dtype=torch.float64)
    y = torch.tensor([1.0], dtype=torch.float64)
    ratio = cls.sigmoid_focal_loss(x, y, alpha=-1) / cls.sigmoid_focal_loss(x, y, alpha=-1,
                                                                              gamma=0)
    assert ratio.item() == pytest.approx(0.25)
    logit_03 = math.log(0.3 / 0.7)  # sigmoid = 0.3
    hard = cls.sigmoid_focal_loss(torch.tensor([logit_03, -logit_03], dtype=torch.float64),
                                  torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert hard.tolist() == pytest.approx([0.1475, 0.4425], abs=1e-4)
    assert (hard[1] / hard[0]).item() == pytest.approx(3.0)


# --------------------------------------------------------------------------- softmax focal loss
SHAPES = {"batch": ((7, 4), (7,)), "spatial": ((3, 4, 2, 5), (3, 2, 5))}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha", [None, 0.25, "vector"])
@pytest.mark.parametrize("gamma", [0, 0.5, 2])
def test_softmax_focal_loss_matches_kornia(device, dtype, shape, reduction, alpha, gamma):
    input_shape, target_shape = shape
    x = randn(*input_shape, dtype=dtype, device=device, scale=2)
    y = classes(*target_shape, num_classes=4, seed=1, device=device)
    if alpha == "vector":
        alpha = rand(4, seed=2, dtype=dtype, device=device) + 0.1
    assert_matches(cls.softmax_focal_loss, kornia_focal_loss, x, y, alpha=alpha, gamma=gamma,
                   reduction=reduction)


def test_softmax_focal_loss_unbatched_is_one_row_of_the_batch():
    x, y = randn(3, 5), classes(3, num_classes=5)
    batch = cls.softmax_focal_loss(x, y, alpha=rand(5) + 0.5)
    for i in range(3):
        torch.testing.assert_close(cls.softmax_focal_loss(x[i], y[i], alpha=rand(5) + 0.5),
                                   batch[i])


def test_softmax_focal_with_gamma_0_is_weighted_cross_entropy(device, dtype):
    x = randn(9, 4, dtype=dtype, device=device, scale=3)
    y = classes(9, num_classes=4, seed=4, device=device)
    w = rand(4, seed=5, dtype=dtype, device=device) + 0.2
    assert_matches(lambda a, b: cls.softmax_focal_loss(a, b, alpha=w, gamma=0),
                   lambda a, b: F.cross_entropy(a, b, weight=w, reduction="none"), x, y)
    # 'mean' is a plain mean, not cross_entropy's weighted mean
    plain_mean = F.cross_entropy(x, y, weight=w, reduction="none").mean()
    torch.testing.assert_close(cls.softmax_focal_loss(x, y, alpha=w, gamma=0, reduction="mean"),
                               plain_mean)


def test_two_class_softmax_focal_is_sigmoid_focal():
    x, y = randn(10, scale=3), classes(10, num_classes=2, seed=6)
    logits = torch.stack([torch.zeros_like(x), x], dim=1)  # softmax([0, x])_1 = sigmoid(x)
    for gamma in (0, 1, 2):
        torch.testing.assert_close(
            cls.softmax_focal_loss(logits, y, alpha=0.25, gamma=gamma),
            cls.sigmoid_focal_loss(x, y.double(), alpha=0.25, gamma=gamma))


@pytest.mark.parametrize("low", LOW_PRECISION + [torch.float32], ids=str)
@pytest.mark.parametrize("gamma", [0.5, 2])
def test_softmax_focal_loss_is_finite_at_extreme_logits(device, low, gamma):
    x = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, 0.0]], dtype=low,
                     device=device, requires_grad=True)
    y = torch.tensor([0, 0, 2], device=device)
    loss = cls.softmax_focal_loss(x, y, alpha=torch.tensor([0.2, 0.3, 0.5]), gamma=gamma)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    expected = kornia_focal_loss(x.detach().double(), y, alpha=torch.tensor([0.2, 0.3, 0.5]),
                                 gamma=gamma)
    torch.testing.assert_close(loss.double(), expected, **TOLERANCES[low])


# --------------------------------------------------------------------------- L-Softmax
def test_psi_at_the_issue_angles_for_m_4():
    theta = [0.1, 0.5, 1.0, 2.0, 3.0]
    ours = cls.large_margin_psi(torch.tensor(theta, dtype=torch.float64), margin=4)
    np.testing.assert_allclose(ours.numpy(), psi_from_paper(theta, 4), rtol=0, atol=1e-12)
    # by hand: theta = 1 lies in [pi/4, pi/2], k = 1: -cos(4) - 2
    assert ours[2].item() == pytest.approx(-math.cos(4.0) - 2)


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
def test_psi_matches_the_paper_and_decreases_from_1_to_1_minus_2m(m):
    theta = torch.linspace(0, math.pi, 2001, dtype=torch.float64)
    ours = cls.large_margin_psi(theta, margin=m)
    np.testing.assert_allclose(ours.numpy(), psi_from_paper(theta.numpy(), m), atol=1e-9)
    assert (ours.diff() < 0).all()
    assert ours[0].item() == pytest.approx(1.0)
    assert ours[-1].item() == pytest.approx(1.0 - 2 * m)


def test_psi_with_m_1_is_cosine():
    theta = rand(50) * math.pi
    torch.testing.assert_close(cls.large_margin_psi(theta, margin=1), theta.cos())


@pytest.mark.parametrize("margin", [1, 2, 3, 4])
@pytest.mark.parametrize("beta", [0.0, 5.0])
def test_large_margin_logits_match_the_angle_formulas(device, dtype, margin, beta):
    x = randn(12, 3, dtype=dtype, device=device, scale=2)
    w = randn(4, 3, seed=1, dtype=dtype, device=device)
    y = classes(12, num_classes=4, seed=2, device=device)
    assert_matches(cls.large_margin_softmax_logits, l_softmax_logits_with_acos, x, w, y,
                   margin=margin, beta=beta)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_large_margin_loss_with_m_1_is_cross_entropy_of_linear_logits(device, dtype, reduction):
    x = randn(10, 3, dtype=dtype, device=device)
    w = randn(5, 3, seed=1, dtype=dtype, device=device)
    y = classes(10, num_classes=5, seed=2, device=device)
    assert_matches(lambda a, b: cls.large_margin_softmax_loss(a, b, y, margin=1,
                                                               reduction=reduction),
                   lambda a, b: F.cross_entropy(a @ b.T, y, reduction=reduction), x, w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_large_margin_loss_is_cross_entropy_of_its_logits(reduction):
    x, w, y = randn(10, 2), randn(3, 2, seed=1), classes(10, num_classes=3, seed=2)
    logits = l_softmax_logits_with_acos(x, w, y, margin=3)
    torch.testing.assert_close(
        cls.large_margin_softmax_loss(x, w, y, margin=3, reduction=reduction),
        F.cross_entropy(logits, y, reduction=reduction))


@settings(max_examples=60, deadline=None)
@given(theta_1=st.floats(0.01, math.pi / 4 - 0.01), theta_2=st.floats(0.01, math.pi - 0.01))
def test_true_class_wins_only_inside_the_angular_margin(theta_1, theta_2):
    """Equal norms, m = 4: z_1 > z_2 exactly when 4 theta_1 < theta_2."""
    if abs(4 * theta_1 - theta_2) < 1e-6:
        return
    x = torch.tensor([[math.cos(theta_1), math.sin(theta_1)]], dtype=torch.float64)
    w = torch.tensor([[1.0, 0.0], [math.cos(theta_1 + theta_2), math.sin(theta_1 + theta_2)]],
                     dtype=torch.float64)
    if abs(theta_1 + theta_2) > math.pi:  # keep theta_2 as the angle to W_2
        w[1] = torch.tensor([math.cos(theta_1 - theta_2), math.sin(theta_1 - theta_2)])
    z = cls.large_margin_softmax_logits(x, w, torch.tensor([0]), margin=4)[0]
    assert bool(z[0] > z[1]) == (4 * theta_1 < theta_2)


def test_large_margin_logits_are_finite_for_a_zero_feature_and_aligned_vectors():
    x = torch.tensor([[0.0, 0.0], [2.0, 0.0], [-1.0, 0.0]], requires_grad=True)
    w = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    loss = cls.large_margin_softmax_loss(x, w, torch.tensor([0, 0, 0]), margin=4)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(x.grad).all() and torch.isfinite(w.grad).all()


# --------------------------------------------------------------------------- margin surrogates
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logistic_loss_is_soft_margin_loss_in_bits(device, dtype, reduction):
    x = randn(6, 3, dtype=dtype, device=device, scale=3)
    y = signs(6, 3, seed=1, dtype=dtype, device=device)
    # torch's soft_margin_loss has no gradient in the target: differentiate in x only
    assert_matches(lambda a: cls.logistic_loss(a, y, reduction=reduction),
                   lambda a: F.soft_margin_loss(a, y, reduction=reduction) / math.log(2), x)


def test_logistic_loss_is_1_at_0_and_exact_at_extreme_scores(device):
    x = torch.tensor([0.0, 1e4, -1e4, 50.0], device=device)
    y = torch.tensor([1.0, 1.0, 1.0, -1.0], device=device)
    loss = cls.logistic_loss(x, y, reduction="none")
    assert loss[0].item() == pytest.approx(1.0)
    assert loss[1].item() == 0.0
    assert loss[2].item() == pytest.approx(1e4 / math.log(2))
    assert loss[3].item() == pytest.approx(50 / math.log(2), rel=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_exponential_loss_matches_its_formula_and_derivative(device, dtype, reduction):
    x = randn(5, 4, dtype=dtype, device=device, scale=2).requires_grad_()
    y = signs(5, 4, seed=3, dtype=dtype, device=device)
    loss = cls.exponential_loss(x, y, reduction=reduction)
    margin = (y * x).detach().cpu().double().numpy()
    expected = _reduce(torch.from_numpy(np.exp(-margin)), reduction)
    torch.testing.assert_close(loss.detach().cpu().double(), expected, **TOLERANCES[dtype])
    (grad,) = torch.autograd.grad(loss.sum(), x)
    scale = {"none": 1.0, "sum": 1.0, "mean": 1 / x.numel()}[reduction]
    derivative = -y.cpu().double().numpy() * np.exp(-margin) * scale  # d/dx e^{-yx}
    torch.testing.assert_close(grad.cpu().double(), torch.from_numpy(derivative),
                               **TOLERANCES[dtype])


def test_integer_labels_are_accepted_by_margin_losses():
    x, y = torch.tensor([0.5, -2.0]), torch.tensor([1, -1])
    torch.testing.assert_close(cls.exponential_loss(x, y), cls.exponential_loss(x, y.float()))
    torch.testing.assert_close(cls.logistic_loss(x, y), cls.logistic_loss(x, y.float()))


def test_zero_one_loss_is_the_information_modules():
    assert cls.zero_one_loss is info.zero_one_loss is lossbook.zero_one_loss


@settings(max_examples=100, deadline=None)
@given(margin=st.floats(-30, 30))
def test_base_2_logistic_and_exponential_losses_bound_the_0_1_loss(margin):
    x, y = torch.tensor([margin], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    zero_one = info.zero_one_loss(x, y).item()
    assert cls.logistic_loss(x, y).item() >= zero_one
    assert cls.exponential_loss(x, y).item() >= zero_one
    assert cls.exponential_loss(x, y).item() >= cls.logistic_loss(x, y).item() * math.log(2)


# --------------------------------------------------------------------------- class weights
def test_inverse_frequency_weights_are_proportional_to_sklearns_balanced_weights(device):
    labels = np.repeat([0, 1, 2, 3], [700, 200, 90, 10])
    counts = torch.from_numpy(np.bincount(labels)).to(device)
    ours = cls.class_balanced_weights(counts)
    balanced = sklearn.utils.class_weight.compute_class_weight(
        "balanced", classes=np.arange(4), y=labels)
    np.testing.assert_allclose(ours.cpu().numpy(), balanced / balanced.sum() * 4, rtol=1e-6)
    assert ours.sum().item() == pytest.approx(4.0)
    assert ours.device == counts.device and ours.dtype == torch.get_default_dtype()


@pytest.mark.parametrize("beta", [0.9, 0.99, 0.999, 0.9999])
@pytest.mark.parametrize("count_dtype", [torch.long, torch.float32, torch.float64], ids=str)
def test_effective_number_weights_match_cui_et_al(beta, count_dtype):
    counts = np.array([5000.0, 500.0, 50.0, 5.0, 1.0])
    effective = (1 - beta**counts) / (1 - beta)  # E_n of Cui et al. (2019), in float64
    expected = (1 / effective) / (1 / effective).sum() * len(counts)
    ours = cls.class_balanced_weights(torch.tensor(counts).to(count_dtype), beta=beta)
    np.testing.assert_allclose(ours.double().numpy(), expected, rtol=1e-5)


def test_effective_number_limits_are_equal_weights_and_inverse_frequency():
    counts = torch.tensor([1000, 10, 1])
    torch.testing.assert_close(cls.class_balanced_weights(counts, beta=0.0), torch.ones(3))
    torch.testing.assert_close(cls.class_balanced_weights(counts.double(), beta=1 - 1e-12),
                               cls.class_balanced_weights(counts.double()), rtol=1e-6, atol=0)


# --------------------------------------------------------------------------- noisy labels
def gce_from_paper(input, target, q=0.7, reduction="mean"):
    """Zhang & Sabuncu (2018): L_q(f(x), e_j) = (1 - f_j(x)^q) / q, f = softmax over dim 1
    (dim 0 unbatched), evaluated literally."""
    dim = 0 if input.dim() == 1 else 1
    p = F.softmax(input, dim=dim)
    p_y = p.gather(dim, target.unsqueeze(dim)).squeeze(dim)
    return _reduce((1 - p_y**q) / q, reduction)


def sce_from_paper(input, target, alpha=0.1, beta=1.0, log_zero=-4.0, reduction="mean"):
    """Wang et al. (2019): alpha CE + beta RCE, RCE = -sum_k p_k log q_k with q the one-hot
    label and log 0 := A; CE from torch."""
    dim = 0 if input.dim() == 1 else 1
    p = F.softmax(input, dim=dim)
    one_hot = F.one_hot(target, input.shape[dim]).movedim(-1, dim).to(input)
    log_label = torch.where(one_hot == 0, torch.full_like(one_hot, log_zero),
                            torch.log(one_hot))
    rce = -(p * log_label).sum(dim)
    ce = F.cross_entropy(input, target, reduction="none")
    return _reduce(alpha * ce + beta * rce, reduction)


def mean_absolute_error_of_softmax(input, target):
    """MAE between the softmax and the one-hot label, summed over the classes (per example)."""
    p = F.softmax(input, dim=1)
    one_hot = F.one_hot(target, input.shape[1]).to(input)
    return F.l1_loss(p, one_hot, reduction="none").sum(1)


NOISY_SHAPES = {"batch": ((7, 4), (7,)), "spatial": ((3, 4, 2, 5), (3, 2, 5)),
                "unbatched": ((4,), ())}


@pytest.mark.parametrize("shape", NOISY_SHAPES.values(), ids=NOISY_SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("q", [0.1, 0.7, 1.0])
def test_generalized_cross_entropy_matches_the_paper(device, dtype, shape, reduction, q):
    input_shape, target_shape = shape
    x = randn(*input_shape, dtype=dtype, device=device, scale=2)
    y = classes(*target_shape, num_classes=4, seed=1, device=device)
    assert_matches(lambda a, b: cls.generalized_cross_entropy_loss(
        a, b, q=q, reduction=reduction), lambda a, b: gce_from_paper(a, b, q, reduction), x, y)


@pytest.mark.parametrize("shape", NOISY_SHAPES.values(), ids=NOISY_SHAPES.keys())
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha, beta, log_zero", [(0.1, 1.0, -4.0), (6.0, 0.1, -4.0),
                                                    (1.0, 0.5, -9.0)])
def test_symmetric_cross_entropy_matches_the_paper(device, dtype, shape, reduction, alpha, beta,
                                                   log_zero):
    input_shape, target_shape = shape
    x = randn(*input_shape, dtype=dtype, device=device, scale=2)
    y = classes(*target_shape, num_classes=4, seed=2, device=device)
    kwargs = dict(alpha=alpha, beta=beta, log_zero=log_zero, reduction=reduction)
    assert_matches(lambda a, b: cls.symmetric_cross_entropy_loss(a, b, **kwargs),
                   lambda a, b: sce_from_paper(a, b, **kwargs), x, y)


def test_symmetric_cross_entropy_defaults_are_the_papers_cifar10_setting():
    x, y = randn(5, 10, scale=2), classes(5, num_classes=10)
    torch.testing.assert_close(cls.symmetric_cross_entropy_loss(x, y),
                               sce_from_paper(x, y, alpha=0.1, beta=1.0, log_zero=-4.0))
    torch.testing.assert_close(cls.generalized_cross_entropy_loss(x, y),
                               gce_from_paper(x, y, q=0.7))


def test_symmetric_cross_entropy_with_the_authors_label_clipping():
    """The authors' Keras code: alpha mean(-sum y log clip(p, 1e-7, 1)) +
    beta mean(-sum p log clip(y, 1e-4, 1)); log_zero = log(1e-4) is the same loss while no
    probability falls below 1e-7."""
    x, y = randn(6, 5, scale=2), classes(6, num_classes=5, seed=3)
    p = F.softmax(x, dim=1)
    one_hot = F.one_hot(y, 5).double()
    keras = (0.1 * (-(one_hot * p.clamp(1e-7, 1).log()).sum(1)).mean()
             + 1.0 * (-(p * one_hot.clamp(1e-4, 1).log()).sum(1)).mean())
    assert p.min() > 1e-7
    torch.testing.assert_close(
        cls.symmetric_cross_entropy_loss(x, y, log_zero=math.log(1e-4)), keras)


@pytest.mark.parametrize("q", [1e-2, 1e-4, 1e-8])
def test_generalized_cross_entropy_tends_to_cross_entropy_as_q_goes_to_0(q):
    """1 - e^{-t} lies in [t - t^2/2, t] for t = -q log p >= 0, so
    0 <= CE - L_q <= q (log p)^2 / 2: L_q -> CE as q -> 0."""
    x, y = randn(50, 6, scale=3), classes(50, num_classes=6, seed=4)
    ce = F.cross_entropy(x, y, reduction="none")
    gap = ce - cls.generalized_cross_entropy_loss(x, y, q=q, reduction="none")
    assert (gap >= -1e-12).all()
    assert (gap <= q * ce**2 / 2 + 1e-12).all()
    # and the gradient tends to cross-entropy's, softmax - one-hot
    assert_matches(lambda a, b: cls.generalized_cross_entropy_loss(a, b, q=1e-9),
                   lambda a, b: F.cross_entropy(a, b), x, y, atol=1e-7, rtol=1e-7)


def test_generalized_cross_entropy_at_q_1_is_half_the_mean_absolute_error(device, dtype):
    """sum_c |p_c - e_yc| = (1 - p_y) + sum_{c != y} p_c = 2 (1 - p_y), and L_1 = 1 - p_y."""
    x = randn(8, 5, dtype=dtype, device=device, scale=2)
    y = classes(8, num_classes=5, seed=5, device=device)
    assert_matches(lambda a, b: cls.generalized_cross_entropy_loss(a, b, q=1.0,
                                                                   reduction="none"),
                   lambda a, b: mean_absolute_error_of_softmax(a, b) / 2, x, y)


def test_reverse_cross_entropy_is_a_multiple_of_the_mean_absolute_error():
    """RCE = -A (1 - p_y) = -A/2 MAE: with alpha = 0 and A = -1 it is L_q at q = 1."""
    x, y = randn(8, 5, scale=2), classes(8, num_classes=5, seed=6)
    for log_zero in (-4.0, -2.0, -0.5):
        torch.testing.assert_close(
            cls.symmetric_cross_entropy_loss(x, y, alpha=0.0, beta=1.0, log_zero=log_zero,
                                             reduction="none"),
            -log_zero / 2 * mean_absolute_error_of_softmax(x, y))
    torch.testing.assert_close(
        cls.symmetric_cross_entropy_loss(x, y, alpha=0.0, beta=1.0, log_zero=-1.0),
        cls.generalized_cross_entropy_loss(x, y, q=1.0))
    torch.testing.assert_close(  # beta = 0: plain cross-entropy, scaled
        cls.symmetric_cross_entropy_loss(x, y, alpha=2.0, beta=0.0), 2 * F.cross_entropy(x, y))


def test_generalized_cross_entropy_gradient_is_cross_entropys_weighted_by_p_y_to_the_q():
    """d L_q / d z = p_y^q (softmax - one-hot): the derivation, checked against autograd."""
    x, y, q = randn(6, 4, scale=2).requires_grad_(), classes(6, num_classes=4, seed=7), 0.7
    (grad,) = torch.autograd.grad(cls.generalized_cross_entropy_loss(x, y, q=q,
                                                                     reduction="sum"), x)
    p = F.softmax(x.detach(), dim=1)
    p_y = p.gather(1, y[:, None])
    torch.testing.assert_close(grad, p_y**q * (p - F.one_hot(y, 4).double()))


@pytest.mark.parametrize("low", LOW_PRECISION + [torch.float32], ids=str)
@pytest.mark.parametrize("name", ["generalized_cross_entropy_loss",
                                  "symmetric_cross_entropy_loss"])
def test_noise_robust_losses_are_finite_and_accurate_at_extreme_logits(device, low, name):
    x = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, 0.0], [3.0, -2.0, 1.0]],
                     dtype=low, device=device, requires_grad=True)
    y = torch.tensor([0, 0, 2, 1], device=device)
    loss = getattr(cls, name)(x, y, reduction="none")
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    reference = gce_from_paper if name.startswith("generalized") else sce_from_paper
    expected = reference(x.detach().double(), y, reduction="none")
    torch.testing.assert_close(loss.double(), expected, **TOLERANCES[low])


def test_generalized_cross_entropy_keeps_its_digits_at_tiny_q():
    """(1 - p^q) / q for q = 1e-12: p^q = 1 - 1e-12 |log p| rounds in its last bits, so the
    literal formula keeps only about four digits; -expm1(q log p) / q keeps them all."""
    x, y = randn(20, 4, scale=2), classes(20, num_classes=4, seed=8)
    ce = F.cross_entropy(x, y, reduction="none")
    ours = cls.generalized_cross_entropy_loss(x, y, q=1e-12, reduction="none")
    torch.testing.assert_close(ours, ce, rtol=1e-10, atol=0)
    literal = gce_from_paper(x, y, q=1e-12, reduction="none")
    assert ((literal / ce - 1).abs().max()) > 1e-6


def test_noise_robust_losses_propagate_nan_and_give_nan_means_of_empty_inputs():
    x = torch.tensor([[float("nan"), 0.0, 1.0], [0.0, 1.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([1, 2])
    for loss in (cls.generalized_cross_entropy_loss, cls.symmetric_cross_entropy_loss):
        out = loss(x, y, reduction="none")
        assert torch.isnan(out[0]) and torch.isfinite(out[1])
        assert torch.isnan(loss(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)))


def test_noise_robust_catalog_entries_make_valid_calls_and_hold_their_properties(device, dtype):
    """Bounded: GCE <= 1/q, and SCE with alpha = 0 <= -A; with alpha > 0 SCE grows like CE.
    Robust: the gradient in the logits stays bounded (at most 2 for GCE) as the true logit
    falls away. Not convex: GCE is bounded and not constant, so it cannot be convex; SCE at
    the defaults breaks midpoint convexity along a line, and with beta = 0 it is CE."""
    gce = catalog.find("generalized_cross_entropy_loss")
    sce = catalog.find("symmetric_cross_entropy_loss")
    assert (gce.convex, gce.bounded, gce.robust) == (False, True, True)
    assert (sce.convex, sce.bounded, sce.robust) == (None, None, True)
    for entry in (gce, sce):
        sample = entry.inputs(generator(0), dtype, device)
        out = entry.function(*sample.args, **sample.kwargs)
        assert out.shape == () and torch.isfinite(out) and out.device.type == device.type
    # the true class's logit pushed down: z = (-t, 0, 0) with label 0
    t = torch.tensor([1.0, 10.0, 100.0, 1e4], dtype=torch.float64)
    z = torch.stack([-t, 0 * t, 0 * t], dim=1).requires_grad_()
    y = torch.zeros(4, dtype=torch.long)
    g = cls.generalized_cross_entropy_loss(z, y, q=0.7, reduction="none")
    assert (g <= 1 / 0.7).all() and abs(g[-1].item() - 1 / 0.7) < 1e-12
    s0 = cls.symmetric_cross_entropy_loss(z, y, alpha=0.0, reduction="none")
    assert (s0 <= 4.0).all() and abs(s0[-1].item() - 4.0) < 1e-12
    s = cls.symmetric_cross_entropy_loss(z, y, reduction="none")
    assert s[-1] > 0.1 * 1e4  # alpha CE = 0.1 t grows without limit
    for loss, bound in ((g, 2.0), (s, 2 * 0.1 + 2 * 4.0)):
        (grad,) = torch.autograd.grad(loss.sum(), z)
        assert grad.abs().max() <= bound
    # midpoint convexity fails on the line z = (u, 0) for two classes, label 0
    def on_line(loss, u, **kwargs):
        return loss(torch.tensor([[u, 0.0]], dtype=torch.float64), torch.tensor([0]),
                    **kwargs).item()

    for loss in (cls.generalized_cross_entropy_loss, cls.symmetric_cross_entropy_loss):
        assert on_line(loss, -3.0) > (on_line(loss, -6.0) + on_line(loss, 0.0)) / 2
    ce_like = [on_line(cls.symmetric_cross_entropy_loss, u, beta=0.0) for u in (-6, -3, 0)]
    assert ce_like[1] <= (ce_like[0] + ce_like[2]) / 2  # beta = 0: CE, convex


# --------------------------------------------------------------------------- bad input
BAD_INPUT = [
    ("focal targets out of range", lambda: cls.sigmoid_focal_loss(randn(3), rand(3) + 1),
     ValueError, r"targets: expected probabilities in \[0, 1\]"),
    ("focal shapes", lambda: cls.sigmoid_focal_loss(randn(3), rand(2)),
     ValueError, r"targets: expected shape \(3,\)"),
    ("focal integer targets", lambda: cls.sigmoid_focal_loss(randn(2), torch.tensor([0, 1])),
     TypeError, "targets: expected a floating-point tensor, got torch.int64"),
    ("negative gamma", lambda: cls.sigmoid_focal_loss(randn(2), rand(2), gamma=-1),
     ValueError, "gamma: expected a value >= 0, got -1"),
    ("alpha above 1", lambda: cls.sigmoid_focal_loss(randn(2), rand(2), alpha=1.5),
     ValueError, r"alpha: expected a value in \[0, 1\]"),
    ("focal reduction", lambda: cls.sigmoid_focal_loss(randn(2), rand(2), reduction="avg"),
     ValueError, "reduction: expected one of 'none', 'mean', 'sum', got 'avg'"),
    ("softmax focal index", lambda: cls.softmax_focal_loss(randn(2, 3), torch.tensor([0, 3])),
     ValueError, r"target: class indices must be in \[0, 3\), got 3"),
    ("softmax focal alpha length", lambda: cls.softmax_focal_loss(
        randn(2, 3), torch.tensor([0, 1]), alpha=torch.ones(4)),
     ValueError, r"alpha: expected shape \(3,\) \(one weight per class\), got \(4,\)"),
    ("softmax focal float target", lambda: cls.softmax_focal_loss(randn(2, 3), rand(2)),
     TypeError, "target: expected integer class indices"),
    ("softmax focal alpha float", lambda: cls.softmax_focal_loss(
        randn(2, 3), torch.tensor([0, 1]), alpha=-0.5),
     ValueError, r"alpha: expected a value in \[0, 1\], a tensor or None, got -0.5"),
    ("margin not integer", lambda: cls.large_margin_psi(rand(3), margin=1.5),
     ValueError, "margin: expected an integer m >= 1, got 1.5"),
    ("margin zero", lambda: cls.large_margin_softmax_loss(randn(2, 2), randn(3, 2),
                                                          torch.tensor([0, 1]), margin=0),
     ValueError, "margin: expected an integer m >= 1, got 0"),
    ("L-Softmax weight width", lambda: cls.large_margin_softmax_loss(
        randn(2, 2), randn(3, 4), torch.tensor([0, 1])),
     ValueError, r"weight: expected shape \(3, 2\)"),
    ("L-Softmax 1-D input", lambda: cls.large_margin_softmax_loss(
        randn(2), randn(3, 2), torch.tensor([0])),
     ValueError, "input, weight: expected 2-D"),
    ("L-Softmax target class", lambda: cls.large_margin_softmax_loss(
        randn(2, 2), randn(3, 2), torch.tensor([0, 5])),
     ValueError, r"target: class indices must be in \[0, 3\), got 5"),
    ("L-Softmax negative beta", lambda: cls.large_margin_softmax_logits(
        randn(2, 2), randn(3, 2), torch.tensor([0, 1]), beta=-1.0),
     ValueError, "beta: expected a value >= 0"),
    ("0/1 labels for a margin loss", lambda: cls.logistic_loss(randn(3), torch.tensor([0, 1, 1])),
     ValueError, r"target: expected values in \{-1, 1\}, got 0"),
    ("margin loss shapes", lambda: cls.exponential_loss(randn(3), torch.ones(2)),
     ValueError, r"target: expected shape \(3,\)"),
    ("zero count", lambda: cls.class_balanced_weights(torch.tensor([10, 0, 3])),
     ValueError, "counts: expected at least one sample of every class, got 0"),
    ("counts not 1-D", lambda: cls.class_balanced_weights(torch.ones(2, 2)),
     ValueError, r"counts: expected a 1-D tensor of per-class counts, got shape \(2, 2\)"),
    ("beta of 1", lambda: cls.class_balanced_weights(torch.tensor([3, 4]), beta=1.0),
     ValueError, r"beta: expected a value in \[0, 1\) or None, got 1.0"),
    ("GCE q of 0", lambda: cls.generalized_cross_entropy_loss(
        randn(2, 3), torch.tensor([0, 1]), q=0),
     ValueError, r"q: expected a value in \(0, 1\], got 0"),
    ("GCE q above 1", lambda: cls.generalized_cross_entropy_loss(
        randn(2, 3), torch.tensor([0, 1]), q=1.5),
     RuntimeError, r"q: expected a value in \(0, 1\], got 1.5"),
    ("GCE q positional", lambda: cls.generalized_cross_entropy_loss(
        randn(2, 3), torch.tensor([0, 1]), 0.5),
     TypeError, "positional"),
    ("GCE float target", lambda: cls.generalized_cross_entropy_loss(randn(2, 3), rand(2)),
     TypeError, "target: expected integer class indices"),
    ("GCE index", lambda: cls.generalized_cross_entropy_loss(randn(2, 3), torch.tensor([0, 3])),
     IndexError, r"target: class indices must be in \[0, 3\), got 3"),
    ("SCE negative alpha", lambda: cls.symmetric_cross_entropy_loss(
        randn(2, 3), torch.tensor([0, 1]), alpha=-0.1),
     ValueError, "alpha: expected a value >= 0, got -0.1"),
    ("SCE negative beta", lambda: cls.symmetric_cross_entropy_loss(
        randn(2, 3), torch.tensor([0, 1]), beta=-1),
     ValueError, "beta: expected a value >= 0, got -1"),
    ("SCE log 0 not negative", lambda: cls.symmetric_cross_entropy_loss(
        randn(2, 3), torch.tensor([0, 1]), log_zero=0.0),
     ValueError, "log_zero: expected a negative value"),
    ("SCE target shape", lambda: cls.symmetric_cross_entropy_loss(
        randn(2, 3), torch.tensor([0, 1, 2])),
     ValueError, r"target: expected shape \(2,\)"),
    ("SCE reduction", lambda: cls.symmetric_cross_entropy_loss(
        randn(2, 3), torch.tensor([0, 1]), reduction="batchmean"),
     ValueError, "reduction: expected one of"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------- graders
def torchvision_style_student(inputs, targets, alpha, gamma):
    p = torch.sigmoid(inputs)
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    return (alpha * targets + (1 - alpha) * (1 - targets)) * loss if alpha >= 0 else loss


def naive_student(inputs, targets, alpha, gamma):
    p = torch.sigmoid(inputs)
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets) if alpha >= 0 else 1.0
    return -alpha_t * (1 - p_t) ** gamma * torch.log(p_t)


def constant_alpha_student(inputs, targets, alpha, gamma):
    """The note's second implementation: one alpha for every element, not alpha_t."""
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    return (alpha if alpha >= 0 else 1.0) * (1 - torch.exp(-ce)) ** gamma * ce


def test_focal_grader_gives_full_marks_to_a_correct_answer_and_none_to_lossbooks():
    assert grade_sigmoid_focal_loss(torchvision_style_student).score == 1.0
    own = grade_sigmoid_focal_loss(
        lambda x, y, a, g: cls.sigmoid_focal_loss(x, y, alpha=a, gamma=g))
    assert own.score == 0.0 and "implement it yourself" in str(own)


def test_focal_grader_fails_the_naive_answer_at_soft_targets_and_extreme_logits():
    """-alpha_t (1 - p_t)^gamma log p_t has the right values for hard labels, but it is not
    BCE for soft targets and log(sigmoid) overflows at logits of 1e4."""
    checks = dict((text.split(" — ")[0], ok)
                  for ok, text in grade_sigmoid_focal_loss(naive_student).checks)
    assert checks["random logits, alpha = 0.25, gamma = 2: value"]
    assert not checks["alpha = 0.75, gamma = 5, soft targets: value"]
    assert not checks["extreme logits ±1e4, float32: value"]


def test_focal_grader_fails_a_constant_alpha_and_an_unfinished_answer():
    report = grade_sigmoid_focal_loss(constant_alpha_student)
    assert not report.checks[0][0] and report.checks[2][0]  # alpha = -1 case still passes

    def unfinished(inputs, targets, alpha, gamma):
        raise NotImplementedError

    assert grade_sigmoid_focal_loss(unfinished).score == 0.0


def test_effective_number_grader():
    def right(counts, beta):
        w = (1 - beta) / (1 - beta ** counts.double())
        return w / w.sum() * len(counts)

    def inverse_frequency(counts, beta):
        w = 1 / counts.double()
        return w / w.sum() * len(counts)

    assert grade_effective_number_weights(right).score == 1.0
    assert grade_effective_number_weights(inverse_frequency).score < 1.0
    assert grade_effective_number_weights(lambda c, b: 1 / 0).score == 0.0
