"""Classification losses beyond plain cross-entropy: focal loss, large-margin softmax, the margin
surrogates of the 0-1 loss (exponential, logistic), class-balancing weights, and two losses
made for noisy labels (generalized and symmetric cross-entropy).

Chapter: *Classification losses beyond plain cross-entropy* (``chapters/05_classification_losses``).

``sigmoid_focal_loss`` keeps the name, argument order and defaults of
``torchvision.ops.sigmoid_focal_loss``; ``softmax_focal_loss`` follows kornia's multi-class
``focal_loss``. Binary margin losses take real scores $x$ and labels $y \\in \\{-1, +1\\}$ and are
functions of the margin $y\\,x$. The 0-1 loss itself is :func:`lossbook.information.zero_one_loss`,
re-exported here.
"""

from __future__ import annotations

import math

import torch

from lossbook import _checks as check
from lossbook import _numerics as num
from lossbook import _samples as samples
from lossbook._numerics import full_precision, log_softmax
from lossbook._numerics import log1p_exp as softplus  # exact: no threshold, as torch's losses
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Depends, Entry
from lossbook.information import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    zero_one_loss,
)

__all__ = [
    "sigmoid_focal_loss", "softmax_focal_loss", "large_margin_psi",
    "large_margin_softmax_logits", "large_margin_softmax_loss", "exponential_loss",
    "logistic_loss", "zero_one_loss", "class_balanced_weights",
    "generalized_cross_entropy_loss", "symmetric_cross_entropy_loss",
]


# --------------------------------------------------------------------------- focal loss
def _check_focal(alpha, gamma: float) -> None:
    if gamma < 0:
        raise check.ArgumentError(f"gamma: expected a value >= 0, got {gamma}")
    if isinstance(alpha, (int, float)) and alpha > 1:
        raise check.ArgumentError(
            f"alpha: expected a value in [0, 1] (or < 0 for none), got {alpha}")


def _modulating_factor(one_minus_pt: torch.Tensor, gamma: float) -> torch.Tensor:
    r"""$(1 - p_t)^\gamma$, with value and gradient taken as their limits where $1 - p_t = 0$.

    A saturated, confidently right prediction has $1 - p_t = 0$ exactly. There plain ``pow``
    differentiates to $\gamma\,0^{\gamma - 1} = \infty$ for $\gamma < 1$ and autograd returns
    NaN; the inner ``where`` keeps ``pow`` away from 0, the outer one puts the limit back.
    """
    if gamma == 0:
        return torch.ones_like(one_minus_pt)  # 0^0 = 1: gamma = 0 is no modulation at all
    positive = one_minus_pt > 0
    safe = torch.where(positive, one_minus_pt, torch.ones_like(one_minus_pt))
    return torch.where(positive, safe**gamma, torch.zeros_like(one_minus_pt))


def sigmoid_focal_loss(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    alpha: float = 0.25,
    gamma: float = 2,
    reduction: str = "none",
) -> torch.Tensor:
    r"""Binary focal loss on logits (Lin et al., 2017), one independent sigmoid per element.

    With $p = \sigma(x)$, $p_t = p\,y + (1 - p)(1 - y)$ and
    $\alpha_t = \alpha\,y + (1 - \alpha)(1 - y)$,

    $$ \mathrm{FL}(x, y) = \alpha_t\,(1 - p_t)^\gamma\,\mathrm{BCE}(x, y), $$

    which for a hard label is the paper's $-\alpha_t (1 - p_t)^\gamma \log p_t$. $\gamma = 0$
    removes the modulation; ``alpha`` $< 0$ (torchvision writes $-1$) removes $\alpha_t$, so
    ``gamma=0, alpha=-1`` is exactly BCE with logits. Note that $\alpha = 0.25$ weights the
    *positives* by 0.25 and the negatives by 0.75. ``targets`` in [0, 1] have the shape of
    ``inputs``; soft targets are allowed, as in torchvision. Default ``reduction="none"``, as
    torchvision's.

    Stable for logits of $\pm 10^4$ in float16, bfloat16 and float32: BCE comes from
    softplus, never from $\log\sigma(x)$, and $1 - p_t$ is computed as
    $y\,\sigma(-x) + (1 - y)\,\sigma(x)$ instead of $1 - p_t$, which would cancel.

    Reference: ``torchvision.ops.sigmoid_focal_loss``; Lin et al., "Focal Loss for Dense
    Object Detection", ICCV 2017.
    """
    check.floating("inputs", inputs)
    check.floating("targets", targets)
    check.same_shape("inputs", inputs, "targets", targets)
    check.reduction(reduction)
    _check_focal(alpha, gamma)
    check.unit_interval(targets=targets)
    bce = binary_cross_entropy_with_logits(inputs, targets, reduction="none")  # softplus
    one_minus_pt = targets * torch.sigmoid(-inputs) + (1 - targets) * torch.sigmoid(inputs)
    loss = _modulating_factor(one_minus_pt, gamma) * bce
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return reduce(loss, reduction)


def _check_class_target(input: torch.Tensor, target: torch.Tensor) -> int:
    """Validate logits and class indices as ``cross_entropy`` does; return the class dim."""
    check.floating("input", input)
    check.integer("target", target)
    class_dim = num.class_dim(input)
    expected = input.shape[:class_dim] + input.shape[class_dim + 1:]
    check.shape("target", target, expected, "input's shape without the class dimension")
    check.class_indices("target", target, input.shape[class_dim])
    return class_dim


def _per_class_alpha(alpha, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    """A float $\\alpha$ becomes kornia's $[1 - \\alpha, \\alpha, \\dots, \\alpha]$ (class 0 is
    the background); a tensor must hold one weight per class."""
    if isinstance(alpha, torch.Tensor):
        check.floating("alpha", alpha)
        check.shape("alpha", alpha, (num_classes,), "one weight per class")
        return alpha.to(like)
    if not 0 <= alpha <= 1:
        raise check.ArgumentError(
            f"alpha: expected a value in [0, 1], a tensor or None, got {alpha}")
    weights = torch.full((num_classes,), float(alpha), dtype=like.dtype, device=like.device)
    weights[0] = 1 - alpha
    return weights


def softmax_focal_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    alpha: float | torch.Tensor | None = None,
    gamma: float = 2.0,
    reduction: str = "none",
) -> torch.Tensor:
    r"""Multi-class focal loss on logits: $\ell_i = -\alpha_{y_i}(1 - p_{i})^\gamma \log p_{i}$.

    Here $p_i = \mathrm{softmax}(x_i)_{y_i}$ is the probability of the true class. ``input``
    holds logits, shape (C,), (N, C) or (N, C, d1, ...); ``target`` holds class indices, as
    for :func:`lossbook.cross_entropy`. ``alpha`` is ``None`` (no weighting), a tensor of C
    per-class weights $\alpha_c$, or a float $\alpha$, meaning kornia's
    $[1 - \alpha, \alpha, \dots, \alpha]$. ``'mean'`` divides by the number of entries, not by
    $\sum_i \alpha_{y_i}$ as ``cross_entropy``'s weighted mean does, so with ``gamma=0`` and
    ``reduction='none'`` this is ``cross_entropy(input, target, weight=alpha,
    reduction='none')``. With two classes and logits $[0, x]$ it is
    :func:`sigmoid_focal_loss` of $x$.

    Stability: $\log p$ comes from log-softmax (log-sum-exp inside), and $1 - p$ is
    $-\mathrm{expm1}(\log p)$, which keeps full precision when $p$ is close to 1.

    Reference: ``kornia.losses.focal_loss`` (kornia's multi-class focal loss); Lin et al. (2017).
    """
    class_dim = _check_class_target(input, target)
    check.reduction(reduction)
    _check_focal(alpha, gamma)
    log_p = log_softmax(input, dim=class_dim)
    log_pt = log_p.gather(class_dim, target.unsqueeze(class_dim)).squeeze(class_dim)
    loss = -_modulating_factor(-torch.expm1(log_pt), gamma) * log_pt
    if alpha is not None:
        loss = _per_class_alpha(alpha, input.shape[class_dim], input)[target] * loss
    return reduce(loss, reduction)


# --------------------------------------------------------------------------- large margin
def _check_margin(margin) -> None:
    if isinstance(margin, bool) or not isinstance(margin, int) or margin < 1:
        raise check.ArgumentError(f"margin: expected an integer m >= 1, got {margin!r}")


def _psi_of_cos(cos: torch.Tensor, m: int) -> torch.Tensor:
    r"""$\psi(\theta) = (-1)^k \cos(m\theta) - 2k$, written in terms of $c = \cos\theta$ only.

    $\cos(m\theta) = T_m(c)$ is the Chebyshev polynomial ($T_0 = 1$, $T_1 = c$,
    $T_{n+1} = 2c\,T_n - T_{n-1}$), and $k$ counts the thresholds $\cos(j\pi/m)$,
    $j = 1, \dots, m-1$, that $c$ lies at or below. No ``acos``: its derivative is infinite at
    $\theta = 0$ and $\pi$.
    """
    t_prev, t = torch.ones_like(cos), cos
    for _ in range(m - 1):
        t_prev, t = t, 2 * cos * t - t_prev
    k = torch.zeros_like(cos)
    for j in range(1, m):
        k = k + (cos.detach() <= math.cos(j * math.pi / m)).to(cos.dtype)  # no gradient in k
    sign = 1 - 2 * torch.remainder(k, 2)  # (-1)^k
    return sign * t - 2 * k


def large_margin_psi(theta: torch.Tensor, margin: int = 2) -> torch.Tensor:
    r"""The L-Softmax angle function $\psi(\theta) = (-1)^k \cos(m\theta) - 2k$.

    For $\theta \in [k\pi/m, (k+1)\pi/m]$, $k = 0, \dots, m - 1$ (Liu et al., 2016). It equals
    $\cos(m\theta)$ on $[0, \pi/m]$ and continues it so that it keeps *decreasing* on all of
    $[0, \pi]$, from 1 down to $1 - 2m$; $m = 1$ gives $\cos\theta$.

    Reference: Liu et al., "Large-Margin Softmax Loss for Convolutional Neural Networks",
    ICML 2016, eq. (6).
    """
    check.floating("theta", theta)
    _check_margin(margin)
    return _psi_of_cos(torch.cos(theta), margin)


def large_margin_softmax_logits(
    input: torch.Tensor,
    weight: torch.Tensor,
    target: torch.Tensor,
    *,
    margin: int = 2,
    beta: float = 0.0,
) -> torch.Tensor:
    r"""L-Softmax logits: $z_j = \|W_j\|\|x\|\cos\theta_j$, but $\|W_y\|\|x\|\psi(\theta_y)$ for the
    true class $y$.

    ``input`` (N, D) holds features $x_i$, ``weight`` (C, D) the class vectors $W_j$ (no bias,
    as in the paper), ``target`` (N,) class indices, and ``margin`` the integer $m$. With
    $m = 1$ these are the plain logits $x W^\top$. ``beta`` $= \lambda \ge 0$ mixes in the plain
    logit, $z_y = (\lambda \|W_y\|\|x\|\cos\theta_y + \|W_y\|\|x\|\psi(\theta_y)) / (1 + \lambda)$,
    the annealing the paper uses to get training started (large $\lambda$ first, then small).
    The target is needed because only the true class gets the margin, so these logits are for
    training; predict with the plain $x W^\top$.

    Reference: Liu et al., ICML 2016, eqs. (5)-(6).
    """
    check.floating("input", input)
    check.floating("weight", weight)
    check.integer("target", target)
    if input.dim() != 2 or weight.dim() != 2:
        raise check.ArgumentError(f"input, weight: expected 2-D (N, D) and (C, D), got shapes "
                         f"{tuple(input.shape)} and {tuple(weight.shape)}")
    check.shape("weight", weight, (weight.shape[0], input.shape[1]), "one row per class, D wide")
    check.shape("target", target, (input.shape[0],), "one class index per row of input")
    _check_margin(margin)
    if beta < 0:
        raise check.ArgumentError(f"beta: expected a value >= 0, got {beta}")
    check.class_indices("target", target, weight.shape[0])

    with full_precision(input):  # under autocast a matrix product would run in half
        logits = input @ weight.T  # ||W_j|| ||x|| cos(theta_j)
    plain = logits.gather(1, target[:, None])
    norms = input.norm(dim=1, keepdim=True) * weight.norm(dim=1)[target][:, None]
    tiny = torch.finfo(input.dtype).tiny  # a zero feature has cos(theta) = 0, not 0/0
    cos = (plain / norms.clamp_min(tiny)).clamp(-1, 1)
    with_margin = (beta * plain + norms * _psi_of_cos(cos, margin)) / (1 + beta)
    return logits.scatter(1, target[:, None], with_margin)


def large_margin_softmax_loss(
    input: torch.Tensor,
    weight: torch.Tensor,
    target: torch.Tensor,
    *,
    margin: int = 2,
    beta: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""L-Softmax loss: softmax cross-entropy of :func:`large_margin_softmax_logits`.

    $$ \ell_i = -\log \frac{e^{\|W_{y_i}\|\|x_i\|\psi(\theta_{y_i})}}
       {e^{\|W_{y_i}\|\|x_i\|\psi(\theta_{y_i})}
        + \sum_{j \ne y_i} e^{\|W_j\|\|x_i\|\cos\theta_j}} $$

    With $m = 1$ (and any ``beta``) it is ``cross_entropy(input @ weight.T, target)``. For
    $m > 1$ the true class must win by an angular margin: with equal norms, class 1 beats
    class 2 only when $\theta_1 < \theta_2 / m$.

    Reference: Liu et al., "Large-Margin Softmax Loss for Convolutional Neural Networks",
    ICML 2016.
    """
    check.reduction(reduction)
    logits = large_margin_softmax_logits(input, weight, target, margin=margin, beta=beta)
    return cross_entropy(logits, target, reduction=reduction)


# --------------------------------------------------------------------------- margin surrogates
def _check_margin_labels(input: torch.Tensor, target: torch.Tensor, reduction: str) -> None:
    check.floating("input", input)
    check.tensor("target", target)
    check.same_shape("input", input, "target", target)
    check.reduction(reduction)
    check.values_in("target", target, (-1, 1))


def exponential_loss(
    input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Exponential loss $\ell(x, y) = e^{-y x}$ of a score $x$ and a label $y \in \{-1, +1\}$.

    The loss AdaBoost minimises (Freund & Schapire, 1997; Friedman et al., 2000). Convex and
    smooth, an upper bound of the 0-1 loss, but it grows exponentially with a negative margin,
    so one mislabelled point can dominate the sum. A scale $\beta$, $e^{-\beta y x}$, is the
    same loss of the score $\beta x$. The loss is exact up to $e^{88}$ in float32; beyond that
    it is ``inf``, its true value rounded.

    Reference: Friedman, Hastie & Tibshirani, "Additive Logistic Regression", Ann. Statist. 2000.
    """
    _check_margin_labels(input, target, reduction)
    return reduce(torch.exp(-target.to(input.dtype) * input), reduction)


def logistic_loss(
    input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Logistic loss in bits, $\ell(x, y) = \log_2(1 + e^{-y x})$, for $y \in \{-1, +1\}$.

    The $1/\ln 2$ makes $\ell(0) = 1$, so it passes through the 0-1 loss at the decision
    boundary and bounds it from above. In nats (without $1/\ln 2$) it is torch's
    ``soft_margin_loss`` and the binary cross-entropy of $\sigma(x)$ with $y$ mapped to
    $\{0, 1\}$. Computed as $\mathrm{softplus}(-y x) / \ln 2$, exact for any score.

    Reference: ``torch.nn.functional.soft_margin_loss`` (divided by $\ln 2$); Bartlett, Jordan
    & McAuliffe, "Convexity, Classification, and Risk Bounds", JASA 2006.
    """
    _check_margin_labels(input, target, reduction)
    return reduce(softplus(-target.to(input.dtype) * input) / math.log(2), reduction)


# --------------------------------------------------------------------------- class weights
def class_balanced_weights(counts: torch.Tensor, beta: float | None = None) -> torch.Tensor:
    r"""Per-class weights from class counts $n_c$, normalised to sum to the number of classes C.

    * ``beta=None``: inverse frequency, $w_c \propto 1 / n_c$.
    * $0 \le \beta < 1$: inverse *effective number* (Cui et al., 2019),
      $w_c \propto 1 / E_{n_c}$ with $E_n = (1 - \beta^n) / (1 - \beta)$. $\beta = 0$ gives equal
      weights; as $\beta \to 1$, $E_n \to n$ and the weights approach inverse frequency.

    Pass the result as ``weight=`` to :func:`lossbook.cross_entropy`, or index it by the label
    to weight each sample. ``counts`` is a 1-D tensor (e.g. ``torch.bincount(labels)``); every
    class needs at least one sample.

    Reference: ``sklearn.utils.class_weight.compute_class_weight("balanced", ...)``
    (proportional, normalised differently); Cui et al., "Class-Balanced Loss Based on Effective
    Number of Samples", CVPR 2019.
    """
    check.tensor("counts", counts)
    if counts.dim() != 1:
        raise check.ArgumentError(f"counts: expected a 1-D tensor of per-class counts, got shape "
                         f"{tuple(counts.shape)}")
    n = counts.to(counts.dtype if counts.is_floating_point() else torch.get_default_dtype())
    check.values(("counts", n, n >= 1, "at least one sample of every class"))
    if beta is None:
        raw = 1 / n
    elif not 0 <= beta < 1:
        raise check.ArgumentError(f"beta: expected a value in [0, 1) or None, got {beta}")
    elif beta == 0:
        raw = torch.ones_like(n)  # E_n = 1 for every class
    else:
        # 1 - beta^n as -expm1(n log beta): beta^n is close to 1 and 1 - beta^n would cancel
        raw = (1 - beta) / -torch.expm1(n * math.log(beta))
    return raw * len(n) / raw.sum()


# --------------------------------------------------------------------------- noisy labels
def _log_prob_of_target(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""$\log p_y$, the log-softmax of the true class, after ``cross_entropy``'s checks."""
    class_dim = _check_class_target(input, target)
    log_p = log_softmax(input, dim=class_dim)  # log-sum-exp inside
    return log_p.gather(class_dim, target.unsqueeze(class_dim)).squeeze(class_dim)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def generalized_cross_entropy_loss(
    input: torch.Tensor, target: torch.Tensor, *, q: float = 0.7, reduction: str = "mean"
) -> torch.Tensor:
    r"""Generalized cross-entropy (Zhang & Sabuncu, 2018): $\ell = (1 - p_y^q) / q$.

    $p_y = \mathrm{softmax}(x)_y$ is the predicted probability of the labelled class and
    $q \in (0, 1]$. As $q \to 0$ it tends to cross-entropy, $-\log p_y$ (and
    $0 \le -\log p_y - \ell \le q (\log p_y)^2 / 2$); at $q = 1$ it is $1 - p_y$, half the mean
    absolute error $\sum_c \lvert p_c - \mathbb{1}[c = y] \rvert = 2 (1 - p_y)$. In between
    it is bounded by $1/q$ and its gradient in the logits,
    $-p_y^q\,(\mathbb{1}[c = y] - p_c)$, weights each example by $p_y^q$: an example the
    model finds implausible (a likely wrong label) pulls less than under cross-entropy. The
    paper's experiments use $q = 0.7$.

    ``input`` holds logits, (C,), (N, C) or (N, C, d1, ...); ``target`` class indices, as for
    :func:`lossbook.cross_entropy`. Computed as $-\mathrm{expm1}(q \log p_y) / q$ with
    $\log p_y$ from log-softmax: $1 - p_y^q$ does not cancel for small $q$, where the literal
    formula keeps only a few digits.

    Reference: Zhang & Sabuncu, "Generalized Cross Entropy Loss for Training Deep Neural
    Networks with Noisy Labels", NeurIPS 2018; no library ships it.
    """
    check.number("q", q, _is_number(q) and 0 < q <= 1, "a value in (0, 1]")
    check.reduction(reduction)
    log_pt = _log_prob_of_target(input, target)
    return reduce(-torch.expm1(q * log_pt) / q, reduction)


def symmetric_cross_entropy_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: float = 0.1,
    beta: float = 1.0,
    log_zero: float = -4.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Symmetric cross-entropy (Wang et al., 2019), $\alpha\,\mathrm{CE} + \beta\,\mathrm{RCE}$.

    With the prediction $p = \mathrm{softmax}(x)$ and the one-hot label $y$,
    $\mathrm{CE} = -\sum_k y_k \log p_k = -\log p_y$ and the *reverse* cross-entropy swaps the
    roles, $\mathrm{RCE} = -\sum_k p_k \log y_k$. Its $\log 0$ is defined as a constant
    $A < 0$ (``log_zero``; the paper uses $A = -4$), so

    $$ \mathrm{RCE} = -A \sum_{k \ne y} p_k = -A\,(1 - p_y), $$

    a multiple of the mean absolute error $2 (1 - p_y)$: bounded, and robust to symmetric
    label noise, while the CE term keeps training fast. The paper's settings: $\alpha = 0.1$,
    $\beta = 1$ on CIFAR-10 (the defaults here), $\alpha = 0.01$, $\beta = 1$ on MNIST,
    $\alpha = 6$, $\beta = 0.1$ on CIFAR-100. (The authors' Keras code clips the label at
    $10^{-4}$ instead, which is ``log_zero=math.log(1e-4)``.)

    ``input`` holds logits, (C,), (N, C) or (N, C, d1, ...); ``target`` class indices.
    Both terms come from $\log p_y$ (log-softmax): CE $= -\log p_y$ and
    $1 - p_y = -\mathrm{expm1}(\log p_y)$.

    Reference: Wang, Ma, Chen, Luo, Yi & Bailey, "Symmetric Cross Entropy for Robust Learning
    with Noisy Labels", ICCV 2019; no library ships it.
    """
    check.number("alpha", alpha, _is_number(alpha) and alpha >= 0, "a value >= 0")
    check.number("beta", beta, _is_number(beta) and beta >= 0, "a value >= 0")
    check.number("log_zero", log_zero, _is_number(log_zero) and log_zero < 0,
                 "a negative value (the constant A that stands for log 0)")
    check.reduction(reduction)
    log_pt = _log_prob_of_target(input, target)
    ce = -log_pt
    rce = log_zero * torch.expm1(log_pt)  # -A (1 - p_y)
    return reduce(alpha * ce + beta * rce, reduction)


CATALOG = (
    Entry(sigmoid_focal_loss, chapter="05_classification_losses",
          task="binary / multi-label classification, imbalanced (detection)",
          summary=r"$-\alpha_t (1 - p_t)^\gamma \log p_t$, $p = \sigma(x)$",
          reference="torchvision.ops.sigmoid_focal_loss", input_kind="logits",
          convex=None, bounded=False, robust=True,
          inputs=sample("logits", "labels01"),
          depends=(Depends("convex", holds={"gamma": 0.0}, fails={"gamma": 2.0}),)),
    Entry(softmax_focal_loss, chapter="05_classification_losses",
          task="multi-class classification, imbalanced",
          summary=r"$-\alpha_y (1 - p_y)^\gamma \log p_y$, $p = \mathrm{softmax}(x)$",
          reference="kornia.losses.focal_loss", input_kind="logits",
          convex=None, bounded=False, robust=True,
          inputs=sample("logits", "classes"),
          depends=(Depends("convex", holds={"gamma": 0.0}, fails={"gamma": 2.0}),)),
    Entry(large_margin_softmax_loss, chapter="05_classification_losses",
          task="multi-class classification, feature learning",
          summary=r"softmax CE with $\Vert W_y\Vert \Vert x\Vert \psi(\theta_y)$ as the "
                  "true logit",
          reference=None, input_kind="features and class weights",
          convex=None, bounded=False, robust=True,
          inputs=samples.large_margin(),
          depends=(Depends("convex", holds={"margin": 1}, fails={"margin": 2}),)),
    Entry(exponential_loss, chapter="05_classification_losses",
          task="binary classification (boosting)", summary=r"$e^{-y x}$",
          reference=None, input_kind="scores, labels ±1",
          convex=True, bounded=False, robust=False,
          inputs=sample("scores", "signs")),
    Entry(logistic_loss, chapter="05_classification_losses",
          task="binary classification", summary=r"$\log_2(1 + e^{-y x})$",
          reference=None, input_kind="scores, labels ±1",
          convex=True, bounded=False, robust=True,
          inputs=sample("scores", "signs")),
    Entry(generalized_cross_entropy_loss, chapter="05_classification_losses",
          task="multi-class classification with noisy labels",
          summary=r"$(1 - p_y^q) / q$, $p = \mathrm{softmax}(x)$",
          reference=None, input_kind="logits, class indices",
          convex=False, bounded=True, robust=True,
          inputs=sample("logits", "classes")),
    Entry(symmetric_cross_entropy_loss, chapter="05_classification_losses",
          task="multi-class classification with noisy labels",
          summary=r"$-\alpha \log p_y - \beta A (1 - p_y)$, $p = \mathrm{softmax}(x)$",
          reference=None, input_kind="logits, class indices",
          convex=None, bounded=None, robust=True,
          inputs=sample("logits", "classes"),
          depends=(Depends("convex", holds={"alpha": 1.0, "beta": 0.0},
                           fails={"alpha": 0.1, "beta": 1.0}),
                   Depends("bounded", holds={"alpha": 0.0, "beta": 1.0},
                           fails={"alpha": 0.1, "beta": 1.0}))),
)
