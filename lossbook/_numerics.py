"""Numerical building blocks shared by every family: one definition each, named for its trick.

* :func:`logsumexp`, :func:`log_softmax`, :func:`softmax` — the log-sum-exp trick;
* :func:`softplus` — $\\log(1 + e^x)$ without overflow;
* :func:`safe_pow` — $t^e$ for $t \\ge 0$ whose gradient at 0 is 0, not NaN, while NaN stays NaN;
* :func:`class_dim`, :func:`along_classes` — torch's (N, C, d1, ...) layout of class scores;
* :func:`broadcastable` — a shape check with a message that names the argument;
* :func:`widened` — the float32 working copy of a half-precision tensor, for intermediates
  (areas, sums over masks, squared norms) that would overflow in float16.

The public ones are re-exported by :mod:`lossbook.information` and at the top level.
"""

from __future__ import annotations

import torch

from lossbook import _checks as check

HALF_DTYPES = (torch.float16, torch.bfloat16)


# --------------------------------------------------------------------------- precision
def widened(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 when it is float16/bfloat16, else ``x`` itself (no copy)."""
    return x.float() if x.dtype in HALF_DTYPES else x


# --------------------------------------------------------------------------- softmax family
def _subtract_max(input: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input - m, m)`` with ``m`` the (detached) maximum along ``dim``.

    Any constant shift leaves softmax and log-sum-exp unchanged, so ``m`` needs no gradient of
    its own. Where a row has no finite maximum (all ``-inf``) it is not shifted; NaN stays.
    """
    m = input.detach().amax(dim=dim, keepdim=True)
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    return input - m, m


def logsumexp(input: torch.Tensor, dim: int, keepdim: bool = False) -> torch.Tensor:
    r"""$\log \sum_j e^{x_j}$, computed as $m + \log \sum_j e^{x_j - m}$ with $m = \max_j x_j$.

    The log-sum-exp trick: after subtracting the maximum the largest exponent is $e^0 = 1$, so
    nothing overflows, and the sum is at least 1, so its log never sees 0.

    Reference: ``torch.logsumexp``.
    """
    shifted, m = _subtract_max(input, dim)
    out = m + torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))
    return out if keepdim else out.squeeze(dim)


def log_softmax(input: torch.Tensor, dim: int) -> torch.Tensor:
    r"""$\log \mathrm{softmax}(x)_i = x_i - \log \sum_j e^{x_j}$, with the maximum subtracted first.

    Working with $x - m$ throughout (rather than subtracting $m + \log\sum$ from $x$) keeps
    full precision for large logits.

    Reference: ``torch.nn.functional.log_softmax``.
    """
    shifted, _ = _subtract_max(input, dim)
    return shifted - logsumexp(shifted, dim=dim, keepdim=True)


def softmax(input: torch.Tensor, dim: int) -> torch.Tensor:
    r"""$\mathrm{softmax}(x)_i = e^{x_i - m} / \sum_j e^{x_j - m}$ with $m = \max_j x_j$.

    Reference: ``torch.nn.functional.softmax``.
    """
    exponentials = torch.exp(_subtract_max(input, dim)[0])
    return exponentials / exponentials.sum(dim=dim, keepdim=True)


def softplus(input: torch.Tensor) -> torch.Tensor:
    r"""$\mathrm{softplus}(x) = \log(1 + e^{x})$, as $\mathrm{logaddexp}(x, 0)$.

    ``logaddexp`` is the two-term log-sum-exp, so ``softplus(1e4)`` is ``1e4``, not ``inf``,
    and its gradient is exactly $\sigma(x)$ everywhere (including $x = 0$, where the textbook
    form $\max(x, 0) + \log(1 + e^{-|x|})$ would give autograd a one-sided derivative).
    Useful identities: $\log\sigma(x) = -\mathrm{softplus}(-x)$ and
    $\log(1 - \sigma(x)) = -\mathrm{softplus}(x)$.

    Reference: ``torch.nn.functional.softplus`` (whose ``threshold=20`` shortcut this omits).
    """
    return torch.logaddexp(input, torch.zeros_like(input))


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


# --------------------------------------------------------------------------- layout
def class_dim(input: torch.Tensor) -> int:
    """torch's layout: (C,) unbatched, else (N, C, d1, ...) with classes on dim 1."""
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
