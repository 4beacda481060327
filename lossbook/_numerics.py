"""Numerical building blocks shared by every family: one definition each, named for its trick.

* :func:`logsumexp`, :func:`log_softmax`, :func:`softmax` — the log-sum-exp trick;
* :func:`log1p_exp` — $\\log(1 + e^x)$ without overflow; :func:`softplus`, torch's activation
  (with its ``beta`` and ``threshold``), built on it;
* :func:`clamp_value_only` — a lower clamp that leaves the gradient alone, as torch's
  ``no_grad`` clamps do;
* :func:`safe_pow` — $t^e$ for $t \\ge 0$ whose gradient at 0 is 0, not NaN, while NaN stays NaN;
* :func:`class_dim`, :func:`along_classes` — torch's (N, C, d1, ...) layout of class scores;
* :func:`broadcastable` — a shape check with a message that names the argument;
* :func:`widened` — the float32 working copy of a half-precision tensor, for intermediates
  (areas, sums over masks, squared norms) that would overflow in float16;
* :func:`vector_norm`, :func:`largest` — $p$-norms rescaled by the largest entry, right from
  $10^{-20}$ to $10^{20}$ in float32 and for entries in the hundreds in float16;
* :func:`full_precision` — turns ``torch.autocast`` off around a matrix product, so a loss
  runs in its inputs' precision under autocast, as torch's losses do.

The public ones are re-exported by :mod:`lossbook.information` and at the top level.

Half precision
--------------
float16 has 10 bits of mantissa and overflows above 65504; bfloat16 has float32's range but 7
bits. A loss given half-precision inputs returns that dtype (torch's rule), and is within
``rtol * max(|exact|, 1)`` of the float64 result of the same inputs, with rtol 1e-2 for
float16 and 5e-2 for bfloat16, at realistic scales: logits of $\\pm 10^4$, boxes in pixels
(0-1000), 256 x 256 masks, 128-d embeddings with standard deviation 4, vectors with entries
in the hundreds (``tests/test_catalog_numerics.py`` checks every catalogued loss). To get
there, every intermediate that can overflow float16 — areas of boxes, sums over masks,
squared norms and their products, sums of many hinge terms, Sinkhorn's potentials — is
computed on :func:`widened` (float32) copies, as torchvision's box operations do, and the
result is converted back; norms are also divided by their largest entry first. A result
whose true value lies beyond float16's range is ``inf``, the true value rounded.

Under ``torch.autocast`` torch runs its losses in float32; lossbook's do the same: their
element-wise operations keep the inputs' dtype anyway, and the few matrix products (which
autocast would run in bfloat16 or float16) are wrapped in :func:`full_precision`.
"""

from __future__ import annotations

import warnings

import torch

from lossbook import _checks as check

HALF_DTYPES = (torch.float16, torch.bfloat16)


# --------------------------------------------------------------------------- precision
def widened(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 when it is float16/bfloat16, else ``x`` itself (no copy)."""
    return x.float() if x.dtype in HALF_DTYPES else x


def full_precision(x: torch.Tensor):
    """A context in which ``torch.autocast`` is off on ``x``'s device: matrix products run in
    the inputs' dtype (torch's own losses run in float32 under autocast)."""
    return torch.autocast(x.device.type, enabled=False)


# --------------------------------------------------------------------------- norms
def _dims(x: torch.Tensor, dim) -> tuple[int, ...]:
    """``dim`` (None: every dimension) as a tuple of non-negative ints."""
    if dim is None:
        return tuple(range(x.dim()))
    return tuple(d % max(x.dim(), 1) for d in ((dim,) if isinstance(dim, int) else dim))


def largest(x: torch.Tensor, dim=None) -> torch.Tensor:
    r"""$m = \max |x_i|$ along ``dim`` (kept), detached and made a safe divisor.

    Dividing by $m$ before squaring keeps every square in $[0, 1]$, so nothing overflows or
    underflows that the result itself would not; a homogeneous function multiplies $m$ back.
    $m$ needs no gradient: the identity $\lVert x \rVert = m \lVert x / m \rVert$ holds for
    any constant $m > 0$. Where $m$ is infinite or NaN it is 1 (the result is infinite or NaN
    anyway); where it is 0 (or subnormal) it is the smallest normal number, so $x / m$ stays
    0 rather than $0/0$.
    """
    dims = _dims(x, dim)
    if any(x.shape[d] == 0 for d in dims):  # nothing to take the maximum of
        shape = [1 if d in dims else size for d, size in enumerate(x.shape)]
        return torch.ones(shape, dtype=x.dtype, device=x.device)
    x = x.detach()
    if dims:  # max(max x, -min x): two reductions that write no |x| tensor
        m = torch.maximum(x.amax(dim=dims, keepdim=True), -x.amin(dim=dims, keepdim=True))
    else:
        m = x.abs()
    return m.nan_to_num(nan=1.0, posinf=1.0).clamp(min=torch.finfo(m.dtype).tiny)



def vector_norm(x: torch.Tensor, p: float = 2.0, dim=None, keepdim: bool = False
                ) -> torch.Tensor:
    r"""$\lVert x \rVert_p = m \left(\sum_i |x_i / m|^p\right)^{1/p}$ with $m = \max_i |x_i|$,
    for $0 < p < \infty$, along ``dim`` (None: every element), in ``x``'s dtype.

    The rescaling by :func:`largest` keeps the float32 norm of entries of $10^{\pm 20}$
    right (``torch.linalg.vector_norm`` returns ``inf`` and 0 there) and lets float16
    entries in the hundreds be squared; half-precision inputs are computed in float32. The
    gradient is the norm's, $\mathrm{sign}(x_i) |x_i|^{p-1} / \lVert x \rVert_p^{p-1}$, and 0
    where that is undefined (the zero vector; zero entries when $p < 1$), by
    :func:`safe_pow`. NaN gives NaN, an infinite entry ``inf``; an empty sum is 0.
    """
    dims = _dims(x, dim)
    w = widened(x)
    m = largest(w, dims)
    scaled = w / m
    powered = scaled * scaled if p == 2 else safe_pow(scaled.abs(), p)
    total = powered.sum(dim=dims, keepdim=True) if dims else powered
    norm = m * safe_pow(total, 1 / p)
    return (norm if keepdim or not dims else norm.squeeze(dims)).to(x.dtype)


# --------------------------------------------------------------------------- softmax family
def _subtract_max(input: torch.Tensor, dim) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input - m, m)`` with ``m`` the (detached) maximum along ``dim``.

    Any constant shift leaves softmax and log-sum-exp unchanged, so ``m`` needs no gradient of
    its own. Where a row has no finite maximum (all ``-inf``) it is not shifted; NaN stays.
    An empty ``dim`` has no maximum either: nothing is shifted (the sum over it is 0).
    """
    dims = [dim] if isinstance(dim, int) else list(dim)
    if input.dim() > 0 and any(input.shape[d] == 0 for d in dims):
        shape = [1 if d in dims or d - input.dim() in dims else n
                 for d, n in enumerate(input.shape)]
        return input, input.detach().new_zeros(shape)
    m = input.detach().amax(dim=dim, keepdim=True)
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    return input - m, m


def logsumexp(input: torch.Tensor, dim, keepdim: bool = False) -> torch.Tensor:
    r"""$\log \sum_j e^{x_j}$, computed as $m + \log \sum_j e^{x_j - m}$ with $m = \max_j x_j$.

    The log-sum-exp trick: after subtracting the maximum the largest exponent is $e^0 = 1$, so
    nothing overflows, and the sum is at least 1, so its log never sees 0. ``dim`` is an int
    or a tuple of ints; over an empty ``dim`` the sum is 0 and the result $-\infty$.

    Reference: ``torch.logsumexp``.
    """
    shifted, m = _subtract_max(input, dim)
    out = m + torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))
    return out if keepdim else out.squeeze(dim)


def _softmax_args(name: str, input: torch.Tensor, dim, dtype) -> tuple[torch.Tensor, int]:
    """torch's conventions: ``dtype`` casts the input first; ``dim=None`` picks dim 0 for
    0-, 1- and 3-D inputs and dim 1 otherwise, with torch's deprecation warning."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = 0 if input.dim() in (0, 1, 3) else 1
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      f"call to include dim=X as an argument.", stacklevel=3)
    return input, dim


class _LogSoftmax(torch.autograd.Function):
    r"""$\log\mathrm{softmax}(x)$ along ``dim``, and its backward pass written out.

    With $p = \mathrm{softmax}(x)$ and $\partial \log p_i / \partial x_j = \delta_{ij} - p_j$
    (the softmax Jacobian divided by $p_i$), the gradient of $\sum_i g_i \log p_i$ is
    $g_j - p_j \sum_i g_i$: for a one-hot $-g$ (cross-entropy) that is $p - y$, prediction
    minus target. Written by hand, like torch's fused kernel, so that only the output is
    kept for the backward pass; the backward is itself differentiable.
    """

    @staticmethod
    def forward(ctx, input, dim):
        shifted, _ = _subtract_max(input, dim)
        if shifted is input:  # an empty dim: nothing was shifted, and nothing to compute
            shifted = input.clone()
        log_p = shifted.sub_(torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True)))
        ctx.save_for_backward(log_p)
        ctx.dim = dim
        return log_p

    @staticmethod
    def backward(ctx, grad_output):
        (log_p,) = ctx.saved_tensors
        total = grad_output.sum(dim=ctx.dim, keepdim=True)
        if torch.is_grad_enabled():  # create_graph: out of place, for autograd to follow
            return grad_output - torch.exp(log_p) * total, None
        return torch.exp(log_p).mul_(-total).add_(grad_output), None  # g - p sum(g)


def log_softmax(input: torch.Tensor, dim: int | None = None, dtype=None) -> torch.Tensor:
    r"""$\log \mathrm{softmax}(x)_i = x_i - \log \sum_j e^{x_j}$, with the maximum subtracted first.

    Working with $x - m$ throughout (rather than subtracting $m + \log\sum$ from $x$) keeps
    full precision for large logits. ``dtype`` casts ``input`` before anything is computed
    (e.g. float16 logits summed in float32). The backward pass is $g - p \sum g$ (see
    ``_LogSoftmax``).

    Reference: ``torch.nn.functional.log_softmax``.
    """
    input, dim = _softmax_args("log_softmax", input, dim, dtype)
    return _LogSoftmax.apply(input, dim)


def softmax(input: torch.Tensor, dim: int | None = None, dtype=None) -> torch.Tensor:
    r"""$\mathrm{softmax}(x)_i = e^{x_i - m} / \sum_j e^{x_j - m}$ with $m = \max_j x_j$.

    ``dtype`` casts ``input`` first, as in torch.

    Reference: ``torch.nn.functional.softmax``.
    """
    input, dim = _softmax_args("softmax", input, dim, dtype)
    exponentials = torch.exp(_subtract_max(input, dim)[0])
    return exponentials / exponentials.sum(dim=dim, keepdim=True)


def log1p_exp(input: torch.Tensor) -> torch.Tensor:
    r"""$\log(1 + e^{x})$, exactly, as $\mathrm{logaddexp}(x, 0)$: the softplus the losses use.

    ``logaddexp`` is the two-term log-sum-exp, so ``log1p_exp(1e4)`` is ``1e4``, not ``inf``,
    and its gradient is exactly $\sigma(x)$ everywhere (including $x = 0$, where the textbook
    form $\max(x, 0) + \log(1 + e^{-|x|})$ would give autograd a one-sided derivative).
    Useful identities: $\log\sigma(x) = -\mathrm{softplus}(-x)$ and
    $\log(1 - \sigma(x)) = -\mathrm{softplus}(x)$. Unlike :func:`softplus` it has no
    threshold: torch's losses (``binary_cross_entropy_with_logits``, ``soft_margin_loss``) do
    not switch to $x$ either, so the families import it (as ``softplus``) to match them.
    """
    return torch.logaddexp(input, input.new_zeros(()))  # 0 broadcast: no tensor of zeros


def softplus(input: torch.Tensor, beta: float = 1, threshold: float = 20) -> torch.Tensor:
    r"""$\mathrm{softplus}_\beta(x) = \frac1\beta \log(1 + e^{\beta x})$, and $x$ itself where
    $\beta x > $ ``threshold``.

    torch's activation, shortcut included: above the threshold $\log(1 + e^{\beta x})$ differs
    from $\beta x$ by less than $e^{-20} \approx 2 \cdot 10^{-9}$, and torch returns $x$ with
    gradient 1. Below it, :func:`log1p_exp` (stable for any $x$) with gradient
    $\sigma(\beta x)$. A larger $\beta$ makes a sharper ReLU.

    Reference: ``torch.nn.functional.softplus``.
    """
    scaled = input * beta
    return torch.where(scaled > threshold, input, log1p_exp(scaled) / beta)


# --------------------------------------------------------------------------- powers
def safe_pow(t: torch.Tensor, exponent: float) -> torch.Tensor:
    r"""$t^{e}$ for $t \ge 0$, with value 0 and **gradient 0** where $t = 0$; NaN stays NaN.

    The double-``where`` trick: $t^e$ has an infinite slope at 0 when $e < 1$, and autograd
    multiplies it by the zero gradient of the unused branch, giving $0 \cdot \infty =$ NaN.
    Replacing $t$ by 1 where it is 0 *before* the power keeps every intermediate finite; the
    outer ``where`` then puts the 0 back. The test is ``t == 0`` (not ``t > 0``), so a NaN or
    an infinite ``t`` goes through the power unchanged: no silent "perfect fit".
    """
    zero = t == 0
    safe = torch.where(zero, torch.ones_like(t), t)
    return torch.where(zero, torch.zeros_like(t), safe**exponent)


def clamp_value_only(x: torch.Tensor, min: float) -> torch.Tensor:
    """``max(x, min)`` in value, with the gradient passed to ``x`` as if nothing were clamped.

    What torch does where it clamps a clone under ``no_grad`` (the variance of
    ``gaussian_nll_loss``, the norms of ``cosine_similarity``): a value below ``min`` is
    *evaluated* at ``min`` but still receives its gradient. ``x - x.detach()`` is exactly 0
    with gradient 1, so the clamped value is exactly ``min``.
    """
    return torch.where(x < min, min + (x - x.detach()), x)


# --------------------------------------------------------------------------- layout
def class_dim(input: torch.Tensor) -> int:
    """torch's layout: (C,) unbatched, else (N, C, d1, ...) with classes on dim 1.

    A 0-d ``input`` has no class dimension: ``ArgumentError`` naming ``input`` (torch raises
    an ``IndexError`` or a message about the target's dtype).
    """
    if input.dim() == 0:
        raise check.ArgumentError(
            "input: expected class scores of shape (C,), (N, C) or (N, C, d1, ...), "
            "got a 0-d tensor")
    return 0 if input.dim() == 1 else 1


def along_classes(weight: torch.Tensor, input: torch.Tensor) -> torch.Tensor:
    """View a per-class ``weight`` (C,) so it broadcasts against ``input``'s class dim."""
    shape = [1] * input.dim()
    shape[class_dim(input)] = -1
    return weight.view(shape)


def broadcastable(name: str, value: torch.Tensor, other_name: str, other: torch.Tensor) -> None:
    """``value``'s shape must broadcast with ``other``'s; the error names ``name``."""
    try:
        torch.broadcast_shapes(value.shape, other.shape)
    except RuntimeError:
        raise check.ArgumentError(
            f"{name}: shape {tuple(value.shape)} does not broadcast with {other_name}'s shape "
            f"{tuple(other.shape)}"
        ) from None
