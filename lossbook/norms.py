"""Vector norms and the penalties built from them.

Chapter: *Norms and regularisation* (``chapters/01_norms_regularisation``).

The norms match ``torch.linalg.vector_norm`` in value and gradient, with its conventions where
the derivative does not exist: the gradient is 0 at the zero vector (for every ``p``), 0 at a
zero entry (for ``p < 1``, where $|x|^p$ has an infinite slope there), 0 everywhere for the
count of non-zeros, and shared equally between tied largest entries for the max norm. Unlike
torch they divide by the largest entry before squaring (see
:func:`lossbook._numerics.vector_norm`), so ``l2_norm`` of float32 entries of $10^{20}$ or
$10^{-25}$ is right where ``torch.linalg.vector_norm`` returns ``inf`` or 0, and float16
entries in the hundreds do not overflow. A NaN entry gives NaN, an infinite one ``inf``.

``dim=None`` reduces over every element, as if the tensor were flattened; an ``int`` or a tuple
of ints reduces over those dimensions only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from lossbook import _checks as check
from lossbook._numerics import vector_norm
from lossbook._samples import sample
from lossbook.catalog import Depends, Entry

Dim = int | tuple[int, ...] | None


def _dims(x: torch.Tensor, dim: Dim) -> tuple[int, ...]:
    """``dim`` as a tuple; ``None`` means every dimension."""
    if dim is None:
        return tuple(range(x.dim()))
    return (dim,) if isinstance(dim, int) else tuple(dim)


def l0_norm(x: torch.Tensor, dim: Dim = None, keepdim: bool = False) -> torch.Tensor:
    r"""The number of non-zero entries, $\|x\|_0 = \#\{i : x_i \ne 0\}$.

    Not a norm: $\|c\,x\|_0 = \|x\|_0$ for every $c \ne 0$. It is piecewise constant, so its
    gradient is 0 wherever it exists; the result keeps an autograd graph (through ``sign``,
    whose derivative is 0) so that it can be added to a loss, but it never moves a parameter.
    Returned in ``x``'s floating dtype, like torch. A NaN entry gives NaN (torch counts it as
    non-zero; ``sign`` alone would count it as zero).

    Reference: ``torch.linalg.vector_norm(x, ord=0)``.
    """
    check.floating("x", x)
    nonzero = torch.where(torch.isnan(x), x, x.sign().abs())  # |sign(x_i)| = [x_i != 0]
    return nonzero.sum(dim=_dims(x, dim), keepdim=keepdim)


def l1_norm(x: torch.Tensor, dim: Dim = None, keepdim: bool = False) -> torch.Tensor:
    r"""$\|x\|_1 = \sum_i |x_i|$, with gradient $\mathrm{sign}(x)$ (0 at $x_i = 0$).

    Reference: ``torch.linalg.vector_norm(x, ord=1)``.
    """
    check.floating("x", x)
    return x.abs().sum(dim=_dims(x, dim), keepdim=keepdim)


def l2_norm(x: torch.Tensor, dim: Dim = None, keepdim: bool = False) -> torch.Tensor:
    r"""$\|x\|_2 = \sqrt{\sum_i x_i^2}$, with gradient $x / \|x\|_2$ — and 0 at $x = 0$.

    At the zero vector the norm is not differentiable (it is a cone); 0 is a valid subgradient
    and is what torch returns. A plain ``torch.sqrt((x**2).sum())`` gives NaN there instead;
    :func:`lossbook._numerics.safe_pow` avoids it. Computed as $m \lVert x / m \rVert_2$ with
    $m = \max_i |x_i|$, so squaring neither overflows nor underflows
    (:func:`lossbook._numerics.vector_norm`).

    Reference: ``torch.linalg.vector_norm(x, ord=2)``.
    """
    check.floating("x", x)
    return vector_norm(x, 2, _dims(x, dim), keepdim)


def linf_norm(x: torch.Tensor, dim: Dim = None, keepdim: bool = False) -> torch.Tensor:
    r"""$\|x\|_\infty = \max_i |x_i|$, the limit of $\|x\|_p$ as $p \to \infty$.

    The gradient is $\mathrm{sign}(x_i)$ at the largest entry; when several entries tie, it is
    shared equally between them (``amax``'s rule, and torch's). Undefined for an empty tensor
    (a maximum of nothing): ``ValueError``, as torch raises.

    Reference: ``torch.linalg.vector_norm(x, ord=inf)``.
    """
    check.floating("x", x)
    dims = _dims(x, dim)
    if any(x.shape[d] == 0 for d in dims):
        raise check.ArgumentError(
            f"x: the max norm of an empty tensor is undefined, got shape {tuple(x.shape)}")
    return x.abs().amax(dim=dims, keepdim=keepdim)


def lp_norm(
    x: torch.Tensor, p: float = 2.0, dim: Dim = None, keepdim: bool = False
) -> torch.Tensor:
    r"""$\|x\|_p = \left(\sum_i |x_i|^p\right)^{1/p}$ for $p > 0$; $p = 0$ and $p = \infty$ too.

    ``p = 0`` is :func:`l0_norm` and ``p = inf`` is :func:`linf_norm`. For $p \ge 1$ this is a
    norm; for $0 < p < 1$ the triangle inequality fails (its unit ball is not convex), so it is
    only a quasi-norm. Gradient $\mathrm{sign}(x_i)\,|x_i|^{p-1} / \|x\|_p^{p-1}$, and 0 where
    that is undefined: at the zero vector, and at zero entries when $p < 1$.

    Reference: ``torch.linalg.vector_norm(x, ord=p)``.
    """
    check.floating("x", x)
    if not p >= 0:  # also rejects NaN
        raise check.ArgumentError(f"p: expected p >= 0 (0 for the count of non-zeros), got {p}")
    if p == 0:
        return l0_norm(x, dim, keepdim)
    if math.isinf(p):
        return linf_norm(x, dim, keepdim)
    return vector_norm(x, p, _dims(x, dim), keepdim)  # rescaled by the largest entry


# --------------------------------------------------------------------------- penalties
def _tensors(parameters) -> list[torch.Tensor]:
    """``parameters`` as a list: one tensor, or an iterable of them (``model.parameters()``)."""
    tensors = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    if not tensors:
        raise check.ArgumentError("parameters: expected at least one tensor, got none")
    for index, t in enumerate(tensors):
        check.floating(f"parameters[{index}]", t)
    return tensors


def l1_penalty(
    parameters: torch.Tensor | Iterable[torch.Tensor], *, lam: float = 1.0
) -> torch.Tensor:
    r"""The lasso penalty $\lambda \sum_j |w_j|$ over every entry of every tensor.

    ``parameters`` is a tensor or an iterable of tensors, e.g. ``model.parameters()``. Its
    gradient, $\lambda\,\mathrm{sign}(w)$, has the same size however small $w_j$ is, which is
    what pushes weights to exactly zero (Tibshirani, 1996). scikit-learn's ``Lasso(alpha)``
    minimises ``mse_loss(X @ w, y) / 2 + l1_penalty(w, lam=alpha)``.

    Reference: ``sklearn.linear_model.Lasso``; Tibshirani (1996).
    """
    tensors = _tensors(parameters)
    return lam * sum(l1_norm(t) for t in tensors)


def l2_penalty(
    parameters: torch.Tensor | Iterable[torch.Tensor], *, lam: float = 1.0
) -> torch.Tensor:
    r"""The ridge penalty $\tfrac{\lambda}{2} \sum_j w_j^2$ over every entry of every tensor.

    The $\tfrac12$ makes the gradient $\lambda w$: adding this penalty to a loss is exactly
    ``torch.optim.SGD(..., weight_decay=lam)``. (For adaptive optimisers such as Adam it is not
    the same as decoupled weight decay, ``AdamW``.) scikit-learn's ``Ridge(alpha)`` minimises
    $\|y - Xw\|_2^2 + \alpha \|w\|_2^2$, that is
    ``mse_loss(X @ w, y, reduction="sum") + l2_penalty(w, lam=2 * alpha)``.

    Reference: ``torch.optim.SGD`` (``weight_decay``); Hoerl & Kennard (1970).
    """
    tensors = _tensors(parameters)
    return lam / 2 * sum((t * t).sum() for t in tensors)


# --------------------------------------------------------------------------- proximal step
def soft_threshold(x: torch.Tensor, threshold: float) -> torch.Tensor:
    r"""$S_\tau(x) = \mathrm{sign}(x)\,\max(|x| - \tau, 0)$, the proximal step of the L1 penalty.

    $S_\tau(z)$ is the minimiser of $\tfrac12 (w - z)^2 + \tau |w|$: entries within $\tau$ of 0
    become exactly 0, the others move $\tau$ towards 0. A gradient step on the smooth part of a
    loss followed by $S_{\eta\lambda}$ is proximal gradient descent (ISTA), which, unlike plain
    subgradient descent, produces exact zeros (Beck & Teboulle, 2009).
    """
    check.floating("x", x)
    if not threshold >= 0:
        raise check.ArgumentError(f"threshold: expected a value >= 0, got {threshold}")
    return x.sign() * torch.relu(x.abs() - threshold)


_NORM = dict(chapter="01_norms_regularisation", task="regularisation / distances",
             reference="torch.linalg.vector_norm", input_kind="vector",
             inputs=sample("vectors"))
_PENALTY = dict(chapter="01_norms_regularisation", task="regularisation", input_kind="parameters",
                bounded=False, inputs=sample("vectors"))

CATALOG = (
    # A count of at most x.numel(): bounded, and its gradient is 0.
    Entry(l0_norm, summary=r"$\#\{i : x_i \neq 0\}$", convex=False, bounded=True, robust=True,
          **_NORM),
    Entry(l1_norm, summary=r"$\sum_i \lvert x_i \rvert$", convex=True, bounded=False,
          robust=True, **_NORM),
    # Every norm has a bounded gradient (it is homogeneous of degree 1): robust.
    Entry(l2_norm, summary=r"$\sqrt{\sum_i x_i^2}$", convex=True, bounded=False, robust=True,
          **_NORM),
    Entry(lp_norm, summary=r"$(\sum_i \lvert x_i \rvert^p)^{1/p}$", convex=None, bounded=None,
          robust=True, **{**_NORM, "inputs": sample("vectors", p=3.0)},
          depends=(Depends("convex", holds={"p": 2.0}, fails={"p": 0.5}),  # a norm for p >= 1
                   Depends("bounded", holds={"p": 0.0}, fails={"p": 2.0}))),  # p = 0: a count
    Entry(linf_norm, summary=r"$\max_i \lvert x_i \rvert$", convex=True, bounded=False,
          robust=True, **_NORM),
    Entry(l1_penalty, summary=r"$\lambda \sum_j \lvert w_j \rvert$",
          reference="sklearn.linear_model.Lasso", convex=True, robust=True, **_PENALTY),
    Entry(l2_penalty, summary=r"$\frac{\lambda}{2} \sum_j w_j^2$", reference="torch.optim.SGD",
          convex=True, robust=False, **_PENALTY),
)
