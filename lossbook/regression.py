"""Regression losses: L1/MAE, MSE, RMSE, Smooth L1, Huber, log-cosh, quantile (pinball).

Chapter: *Regression losses* (``chapters/02_regression_losses``).

``input`` is the prediction and ``target`` the truth, as in torch; the residual is
$d = \text{input} - \text{target}$. The torch-named losses (``l1_loss``, ``mse_loss``,
``smooth_l1_loss``, ``huber_loss``) keep torch's signatures and match it in value and gradient,
including its choices at the kinks: the gradient of $|d|$ at $d = 0$ is 0, and at the seam
$|d| = \beta$ of Smooth L1 and Huber the value and gradient from both sides agree.

One deliberate difference: torch broadcasts ``input`` against a ``target`` of another shape
(with a warning, because a (N, 1) prediction against a (N,) target silently becomes an (N, N)
loss); lossbook raises ``ValueError`` instead.
"""

from __future__ import annotations

import math

import torch

from lossbook import _checks as check
from lossbook._numerics import log1p_exp as softplus  # exact: no threshold, as torch's losses
from lossbook._numerics import vector_norm
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Entry


def _check_pair(input: torch.Tensor, target: torch.Tensor, reduction: str) -> None:
    check.floating("input", input)
    check.floating("target", target)
    check.same_shape("input", input, "target", target)
    check.reduction(reduction)


def _weighted(loss: torch.Tensor, weight: torch.Tensor | None, reduction: str,
              mean_over_weights: bool) -> torch.Tensor:
    """Reduce ``loss`` after multiplying by ``weight`` (same shape as the loss, if given).

    torch divides the weighted 'mean' by ``weight.sum()`` for L1 and MSE but by the number of
    elements for Huber; ``mean_over_weights`` picks which.
    """
    if weight is None:
        return reduce(loss, reduction)
    check.floating("weight", weight)
    check.same_shape("input", loss, "weight", weight)
    loss = loss * weight
    if reduction == "mean" and mean_over_weights:
        return loss.sum() / weight.sum()
    return reduce(loss, reduction)


def l1_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    reduction: str = "mean",
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Absolute error $\ell_i = |x_i - y_i|$; with ``'mean'``, the mean absolute error (MAE).

    ``'mean'`` gives $\frac1n \|x - y\|_1$ and ``'sum'`` the least-absolute-errors sum
    $\|x - y\|_1$ (the same minimiser). The gradient is $\mathrm{sign}(x_i - y_i)$, taken as 0 at
    a perfect prediction, divided by $n$ for ``'mean'``. With a per-element ``weight`` (same shape
    as ``input``) the loss is $w_i |x_i - y_i|$ and ``'mean'`` is the weighted mean
    $\sum_i w_i \ell_i / \sum_i w_i$, as in torch.

    Reference: ``torch.nn.functional.l1_loss``.
    """
    _check_pair(input, target, reduction)
    loss = (input - target).abs()
    return _weighted(loss, weight, reduction, mean_over_weights=True)


def mse_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    reduction: str = "mean",
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Squared error $\ell_i = (x_i - y_i)^2$; with ``'mean'``, the mean squared error.

    ``'mean'`` gives $\frac1n \|x - y\|_2^2$ — the *square* of the L2 norm divided by $n$, not
    the norm. The gradient is $2(x_i - y_i)$, divided by $n$ for ``'mean'``. With ``weight`` the
    loss is $w_i (x_i - y_i)^2$ and ``'mean'`` is $\sum_i w_i \ell_i / \sum_i w_i$, as in torch.

    Reference: ``torch.nn.functional.mse_loss``.
    """
    _check_pair(input, target, reduction)
    d = input - target
    return _weighted(d * d, weight, reduction, mean_over_weights=True)


def rmse_loss(
    input: torch.Tensor, target: torch.Tensor, *, dim: int | tuple[int, ...] | None = None
) -> torch.Tensor:
    r"""Root mean squared error $\sqrt{\frac1n \sum_i (x_i - y_i)^2} = \|x - y\|_2 / \sqrt n$.

    The mean is over ``dim`` (every element when ``None``), so ``dim=0`` gives one RMSE per
    output column, like scikit-learn's ``multioutput='raw_values'``. There is no ``reduction``:
    the square root sits outside the mean, and the mean of per-sample RMSEs is a different
    quantity.

    Gradient $(x_i - y_i) / (n\,\mathrm{RMSE})$. At a perfect fit this is $0/0$, and
    ``torch.sqrt(mse_loss(x, y))`` returns NaN gradients there (the infinite slope of
    $\sqrt{\cdot}$ at 0 times the zero gradient of the MSE). lossbook computes
    $\|x - y\|_2 / \sqrt n$ with :func:`lossbook._numerics.vector_norm` (the double-``where``
    trick inside) and returns a gradient of 0 at a perfect fit — a valid subgradient of
    $\|x - y\|_2$ and what ``torch.linalg.vector_norm`` returns at 0. The norm divides by the
    largest residual before squaring, so float32 residuals of $10^{20}$ and float16 ones in
    the hundreds do not overflow. No element at all: NaN ($0/0$).

    Reference: ``sklearn.metrics.root_mean_squared_error``.
    """
    check.floating("input", input)
    check.floating("target", target)
    check.same_shape("input", input, "target", target)
    d = input - target
    dims = range(d.dim()) if dim is None else [dim] if isinstance(dim, int) else dim
    n = math.prod([d.shape[i] for i in dims])  # a list: dynamo cannot trace a generator here
    return vector_norm(d, 2, dim) / math.sqrt(n)


class _Huber(torch.autograd.Function):
    r"""Elementwise Huber loss of $d = x - y$ (times ``scale``) and its gradient, the residual
    clipped at $\delta$.

    Forward: with the clipped residual $m = \mathrm{clip}(d, -\delta, \delta)$,
    $\ell = m\,(d - \tfrac12 m)$ — that is $\tfrac12 d^2$ where $|d| \le \delta$ (then
    $m = d$) and $\delta(|d| - \tfrac12\delta)$ beyond ($m = \pm\delta$), in one expression
    and no branch. Backward: $\partial\ell/\partial x = m = -\partial\ell/\partial y$, the
    derivative of each piece (both give $\pm\delta$ at the seam). Written by hand so that
    autograd keeps nothing but the inputs, as torch's fused kernel keeps nothing; the
    backward recomputes $m$ with differentiable ops, so second derivatives work too.
    """

    @staticmethod
    def forward(ctx, input, target, delta, scale):
        ctx.save_for_backward(input, target)
        ctx.delta, ctx.scale = delta, scale
        d = input - target
        clipped = d.clamp(-delta, delta)
        loss = d.sub_(clipped, alpha=0.5).mul_(clipped)  # m (d - m / 2), in place on d
        return loss if scale == 1 else loss.mul_(scale)

    @staticmethod
    def backward(ctx, grad_output):
        input, target = ctx.saved_tensors
        if ctx.scale != 1:
            grad_output = grad_output * ctx.scale
        if torch.is_grad_enabled():  # create_graph: out of place, for autograd to follow
            grad = (input - target).clamp(-ctx.delta, ctx.delta) * grad_output
        else:
            grad = (input - target).clamp_(-ctx.delta, ctx.delta).mul_(grad_output)
        needs_input, needs_target = ctx.needs_input_grad[:2]
        return (grad if needs_input else None), (-grad if needs_target else None), None, None


def smooth_l1_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    reduction: str = "mean",
    beta: float = 1.0,
) -> torch.Tensor:
    r"""Smooth L1: $\ell_i = \frac{d_i^2}{2\beta}$ if $|d_i| < \beta$, else $|d_i| - \frac\beta2$.

    Quadratic near 0 and linear beyond $\beta$, with slope 1 (like L1) in the linear part; the
    two pieces meet with equal value $\beta/2$ and slope $\pm 1$ at $|d| = \beta$. It is the
    Huber loss divided by its threshold: $\mathrm{SmoothL1}_\beta = \mathrm{Huber}_{\delta=\beta}
    / \beta$, equal to Huber only for $\beta = 1$ — and computed that way. ``beta = 0`` is
    the L1 loss (handled separately, as in torch, since $d^2/\beta$ would divide by zero);
    ``beta < 0`` is an error. Gradient $d_i / \beta$ inside, $\mathrm{sign}(d_i)$ outside.
    Popularised by Fast R-CNN (Girshick, 2015) for box regression.

    Reference: ``torch.nn.functional.smooth_l1_loss``.
    """
    _check_pair(input, target, reduction)
    if not beta >= 0:
        raise check.ArgumentError(f"beta: expected a value >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    dtype = torch.promote_types(input.dtype, target.dtype)  # as input - target would
    return reduce(_Huber.apply(input.to(dtype), target.to(dtype), beta, 1 / beta), reduction)


def huber_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Huber: $\ell_i = \frac12 d_i^2$ if $|d_i| \le \delta$, else $\delta(|d_i| - \frac\delta2)$.

    Quadratic (half the squared error) near 0, linear with slope $\delta$ beyond: the gradient
    is $d_i$ clipped to $[-\delta, \delta]$, so no single residual pulls harder than $\delta$
    (Huber, 1964). Both pieces are $m(d - \frac m2)$ with $m = \mathrm{clip}(d, -\delta,
    \delta)$, and that clipped residual is the hand-written backward pass (see ``_Huber``).
    ``delta`` must be positive. With ``weight`` the loss is $w_i \ell_i$ and — unlike
    :func:`l1_loss` and :func:`mse_loss` — torch's ``'mean'`` divides by the number of
    elements, not by $\sum_i w_i$; lossbook does the same.

    Reference: ``torch.nn.functional.huber_loss``.
    """
    _check_pair(input, target, reduction)
    if not delta > 0:
        raise check.ArgumentError(f"delta: expected a value > 0, got {delta}")
    target = target.to(input.dtype)  # torch's huber (unlike mse) keeps the input's dtype
    loss = _Huber.apply(input, target, delta, 1)
    return _weighted(loss, weight, reduction, mean_over_weights=False)


def log_cosh_loss(
    input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Log-cosh: $\ell_i = \log\cosh(d_i)$, about $\tfrac12 d^2$ near 0 and $|d| - \log 2$ far out.

    Like Huber, but smooth to every order; its gradient is $\tanh(d_i)$, bounded by 1. Computed
    as $|d| + \mathrm{softplus}(-2|d|) - \log 2$, an exact rewriting of
    $\log\frac{e^{d} + e^{-d}}{2}$ that never forms $e^{|d|}$: the literal ``log(cosh(d))``
    overflows to ``inf`` for $|d| > 89$ in float32.

    Reference: Saleh & Saleh (2022), "Statistical properties of the log-cosh loss function".
    """
    _check_pair(input, target, reduction)
    z = (input - target).abs()
    loss = z + softplus(-2 * z) - math.log(2)  # log cosh z, without exp(z)
    return reduce(loss, reduction)


def quantile_loss(
    input: torch.Tensor, target: torch.Tensor, *, q: float = 0.5, reduction: str = "mean"
) -> torch.Tensor:
    r"""Pinball loss $\ell_i = q\,\max(y_i - x_i, 0) + (1 - q)\max(x_i - y_i, 0)$.

    Under-predictions cost $q$ per unit, over-predictions $1 - q$; the constant that minimises
    its mean over a sample is the sample's $q$-quantile (Koenker & Bassett, 1978), so
    ``q = 0.5`` gives the median and half the L1 loss. ``q`` lies in [0, 1]. Gradient with
    respect to ``input``: $-q$ below the target, $1 - q$ above, 0 at a perfect prediction
    (``relu``'s convention, like :func:`l1_loss`).

    Reference: ``sklearn.metrics.mean_pinball_loss`` (``alpha`` = ``q``).
    """
    _check_pair(input, target, reduction)
    if not 0 <= q <= 1:
        raise check.ArgumentError(f"q: expected a quantile level in [0, 1], got {q}")
    d = target - input
    loss = q * torch.relu(d) + (1 - q) * torch.relu(-d)
    return reduce(loss, reduction)


_REGRESSION = dict(chapter="02_regression_losses", task="regression", input_kind="predictions",
                   bounded=False)

CATALOG = (
    Entry(l1_loss, summary=r"$\lvert x - y \rvert$", reference="torch.nn.functional.l1_loss",
          convex=True, robust=True, **_REGRESSION,
          inputs=sample("predictions", "predictions")),
    Entry(mse_loss, summary=r"$(x - y)^2$", reference="torch.nn.functional.mse_loss",
          convex=True, robust=False, **_REGRESSION,
          inputs=sample("predictions", "predictions")),
    Entry(rmse_loss, summary=r"$\sqrt{\frac1n \sum_i (x_i - y_i)^2}$",
          reference="sklearn.metrics.root_mean_squared_error", convex=True, robust=True,
          **_REGRESSION,
          inputs=sample("predictions", "predictions")),
    Entry(smooth_l1_loss,
          summary=(r"$\frac{d^2}{2\beta}$ if $\lvert d \rvert < \beta$, "
                   r"else $\lvert d \rvert - \frac\beta2$"),
          reference="torch.nn.functional.smooth_l1_loss", convex=True, robust=True,
          **_REGRESSION,
          inputs=sample("predictions", "predictions")),
    Entry(huber_loss,
          summary=(r"$\frac{d^2}{2}$ if $\lvert d \rvert \le \delta$, "
                   r"else $\delta(\lvert d \rvert - \frac\delta2)$"),
          reference="torch.nn.functional.huber_loss", convex=True, robust=True, **_REGRESSION,
          inputs=sample("predictions", "predictions")),
    Entry(log_cosh_loss, summary=r"$\log\cosh(x - y)$", reference=None, convex=True,
          robust=True, **_REGRESSION,
          inputs=sample("predictions", "predictions")),
    Entry(quantile_loss, summary=r"$\max(q\,(y - x), (q - 1)(y - x))$",
          reference="sklearn.metrics.mean_pinball_loss", convex=True, robust=True,
          **_REGRESSION,
          inputs=sample("predictions", "predictions", q=0.3)),
)
