"""Margin losses: hinge and its relatives for binary, multi-class, multi-label and ranking tasks.

Chapter: *Margin losses* (``chapters/06_margin_losses``).

A margin loss charges a prediction for being on the right side of a boundary by *too little*:
for a score $f$ and a label $y \\in \\{-1, +1\\}$ the **margin** is $y f$, and the loss is zero
once the margin exceeds a threshold. Every torch-named function here keeps the name, argument
order, defaults and reduction semantics of ``torch.nn.functional`` (without the deprecated
``size_average``/``reduce``); the tests compare them with torch in value and gradient.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from lossbook import _checks as check
from lossbook import _samples as samples
from lossbook._numerics import broadcastable, widened
from lossbook._numerics import log1p_exp as softplus  # exact: no threshold, as torch's losses
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Depends, Entry
from lossbook.information import binary_cross_entropy_with_logits


def _signed_labels(target: torch.Tensor, input: torch.Tensor) -> torch.Tensor:
    """Validate ``target`` as labels in {-1, +1} shaped like ``input``; return them as floats."""
    check.tensor("target", target)
    check.same_shape("input", input, "target", target)
    check.values_in("target", target, (-1, 1))
    return target.to(input.dtype)


# --------------------------------------------------------------------------- binary
def hinge_loss(
    input: torch.Tensor, target: torch.Tensor, *, margin: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    r"""Hinge loss $\ell = \max(0,\ m - y f)$ for scores $f$ and labels $y \in \{-1, +1\}$.

    The loss of the soft-margin support vector machine (Cortes & Vapnik, 1995) with the usual
    $m = 1$: zero when the margin $y f$ is at least $m$, otherwise $m - y f$ — piecewise
    linear, with a kink at $y f = m$ where autograd takes the zero branch. ``input`` holds raw
    scores (no sigmoid), ``target`` the labels in {-1, +1} (any dtype), same shape.

    Reference: ``sklearn.metrics.hinge_loss`` (its mean, arguments in the order
    ``(y_true, pred_decision)``); Cortes & Vapnik (1995).
    """
    check.floating("input", input)
    check.reduction(reduction)
    y = _signed_labels(target, input)
    return reduce(torch.relu(margin - y * input), reduction)


def squared_hinge_loss(
    input: torch.Tensor, target: torch.Tensor, *, margin: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    r"""Squared hinge $\ell = \max(0,\ m - y f)^2$ for scores $f$ and labels $y \in \{-1, +1\}$.

    The L2-SVM loss: differentiable everywhere (its gradient $-2y\max(0, m - yf)$ fades to zero
    at the margin instead of jumping), but quadratic for badly misclassified points, so less
    robust to outliers than the hinge. scikit-learn's ``LinearSVC`` uses it by default.

    Reference: ``sklearn.svm.LinearSVC(loss="squared_hinge")``.
    """
    check.floating("input", input)
    check.reduction(reduction)
    y = _signed_labels(target, input)
    return reduce(torch.relu(margin - y * input) ** 2, reduction)


def soft_margin_loss(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    r"""Logistic loss $\ell = \log(1 + e^{-y f})$ for scores $f$ and targets $y$ (usually ±1).

    A smooth hinge: for large margins it decays like $e^{-y f}$ instead of reaching zero, and
    it equals ``binary_cross_entropy_with_logits(f, (1 + y) / 2)`` for $y = \pm 1$. torch does
    not check the targets: $y = 0$ gives the constant $\log 2$. ``'mean'`` averages over every
    element. Computed as $\mathrm{softplus}(-y f)$ (log-sum-exp), so a margin of $-10^4$ gives
    $10^4$ and the gradient $-y\,\sigma(-y f)$; torch's ``log1p(exp(-y f))`` overflows to
    ``inf`` there (from $-y f \approx 89$ in float32, 710 in float64) and its gradient to NaN.

    Reference: ``torch.nn.functional.soft_margin_loss``.
    """
    check.floating("input", input)
    check.tensor("target", target)
    check.same_shape("input", input, "target", target)
    check.reduction(reduction)
    return reduce(softplus(-target.to(input.dtype) * input), reduction)


# --------------------------------------------------------------------------- pairs
def margin_ranking_loss(
    input1: torch.Tensor,
    input2: torch.Tensor,
    target: torch.Tensor,
    margin: float = 0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Pairwise ranking hinge $\ell = \max(0,\ -y\,(x_1 - x_2) + m)$.

    ``target`` $y = 1$ says $x_1$ should score higher than $x_2$ by at least ``margin``;
    $y = -1$ says the opposite. The loss is symmetric: swapping the inputs and negating $y$
    gives the same value. Inputs broadcast but must have the same number of dimensions, as in
    torch; targets are not checked (a 0 target gives $\max(0, m)$).

    Reference: ``torch.nn.functional.margin_ranking_loss``; Herbrich et al. (2000).
    """
    check.floating("input1", input1)
    check.floating("input2", input2)
    check.tensor("target", target)
    check.reduction(reduction)
    for name, t in (("input2", input2), ("target", target)):
        if t.dim() != input1.dim():
            raise check.ArgumentError(f"{name}: expected {input1.dim()} dimensions (as input1), "
                             f"got {t.dim()}")
    return reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(
    input: torch.Tensor, target: torch.Tensor, margin: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    r"""$\ell = x$ if $y = 1$, $\max(0,\ m - x)$ if $y = -1$, for a *distance* $x \ge 0$.

    Similar pairs ($y = 1$) are pulled together by charging their distance; dissimilar pairs
    ($y = -1$) are pushed to at least ``margin`` apart. torch builds the loss from two masks,
    $x\,[y \ne -1] + \max(0, m - x)\,[y \ne 1]$, so a target outside {-1, +1} (such as 0)
    silently adds **both** terms; lossbook does the same.

    Reference: ``torch.nn.functional.hinge_embedding_loss``.
    """
    check.floating("input", input)
    check.tensor("target", target)
    check.reduction(reduction)
    zero = torch.zeros_like(input)
    pull = torch.where(target != -1, input, zero)
    push = torch.where(target != 1, (margin - input).clamp(min=0), zero)
    return reduce(pull + push, reduction)


# --------------------------------------------------------------------------- multi-class
def _as_batch(input: torch.Tensor) -> torch.Tensor:
    """Scores as (N, C): (C,) is one sample, and a 0-d score is one sample of one class."""
    if input.dim() > 2:
        raise check.ArgumentError(f"input: expected shape (C,) or (N, C), got {tuple(input.shape)}")
    if input.dim() > 0 and input.shape[-1] == 0:
        raise check.ArgumentError(f"input: expected at least one class, got {tuple(input.shape)}")
    return input.reshape(-1, input.shape[-1] if input.dim() > 0 else 1)


def _check_scores_and_indices(input, target):
    """Scores and one class index per sample as (N, C) and (N,).

    torch's shapes: (N, C) with (N,), or unbatched (C,) or () with a target of () or (1,).
    """
    check.floating("input", input)
    check.integer("target", target, dtypes=(torch.long,))
    scores = _as_batch(input)
    if input.dim() == 2:
        check.shape("target", target, input.shape[:-1], "input's shape without the class dimension")
    elif target.dim() > 1 or target.numel() != 1:
        raise check.ArgumentError(f"target: expected shape () or (1,) (one class index for "
                                  f"unbatched input), got {tuple(target.shape)}")
    return scores, target.reshape(-1)


class _MultiMargin(torch.autograd.Function):
    r"""$\sum_{j \ne y} h_j^p$ with $h_j = \max(0,\ m - x_y + x_j)$, per sample, and its
    gradient written out.

    The hinges of a sample are one row, $h = \max(0, x - (x_y - m))$, with the $j = y$
    entry set to 0 (it is always $\max(0, m)^p$ and not part of the loss). The derivative
    of $h_j^p$ is $p\,h_j^{p-1}$ where $h_j > 0$ and 0 elsewhere (a hinge at exactly 0
    counts as inactive, as in torch); each active hinge pulls $x_j$ up and $x_y$ down, so

    $$ \frac{\partial}{\partial x_j} = p\,h_j^{p-1}\,[h_j > 0] \;(j \ne y), \qquad
       \frac{\partial}{\partial x_y} = -\sum_{j \ne y} p\,h_j^{p-1}\,[h_j > 0]. $$

    Written by hand so that nothing is kept for the backward pass (the hinges are recomputed
    there), as torch's kernel keeps nothing: a (N, C) row of hinges is the only memory.
    """

    @staticmethod
    def forward(ctx, scores, classes, p, margin):
        ctx.save_for_backward(scores, classes)
        ctx.p, ctx.margin = p, margin
        return _MultiMargin.hinges(scores, classes, margin).pow_(p).sum(dim=-1)

    @staticmethod
    def hinges(scores, classes, margin):
        x_y = scores.gather(-1, classes.unsqueeze(-1))  # the true class's score, as (N, 1)
        hinge = (scores - (x_y - margin)).clamp_(min=0)  # max(0, m - x_y + x_j)
        return hinge.scatter_(-1, classes.unsqueeze(-1), 0)  # the j = y term is left out

    @staticmethod
    @once_differentiable  # as torch's multi_margin_loss: no second derivative
    def backward(ctx, grad_output):
        scores, classes = ctx.saved_tensors
        hinge = _MultiMargin.hinges(scores, classes, ctx.margin)
        grad = hinge.sign_() if ctx.p == 1 else hinge.mul_(2)  # p h^(p-1), 0 where h = 0
        grad.mul_(grad_output.unsqueeze(-1))
        total = grad.sum(dim=-1, keepdim=True)
        return grad.scatter_(-1, classes.unsqueeze(-1), -total), None, None, None


def multi_margin_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multi-class hinge (Weston & Watkins, 1999), summed over **every** wrong class:

    $$\ell(x, y) = \frac{w_y}{C} \sum_{j \ne y} \max(0,\ m - x_y + x_j)^p,$$

    for scores $x$ of shape (C,) or (N, C) and class-index targets $y$ (a 0-d score is one
    class). ``p`` is the exponent of the hinge, 1 or 2 (anything else raises, as in torch).
    ``weight`` (C,) multiplies the loss of a sample by its class's weight *after* the power —
    what torch computes, although its documentation writes $\max(0, w_y(m - x_y + x_j))^p$.
    ``'mean'`` averages over samples; ``'none'`` has the target's shape.

    Reference: ``torch.nn.functional.multi_margin_loss``; Weston & Watkins (1999).
    """
    scores, classes = _check_scores_and_indices(input, target)
    num_classes = scores.shape[-1]
    check.reduction(reduction)
    if p not in (1, 2):
        raise check.ArgumentError(f"p: only 1 and 2 are supported (the hinge's exponent), got {p}")
    if weight is not None:
        check.floating("weight", weight)
        check.same_dtype("weight", weight, "input", input)
        check.shape("weight", weight, (num_classes,), "one weight per class")
    check.class_indices("target", classes, num_classes)

    scores = widened(scores)  # float32 for half: a sum of C hinges overflows
    loss = _MultiMargin.apply(scores, classes, p, margin) / num_classes
    if weight is not None:
        loss = loss * weight.to(scores.dtype)[classes]
    return reduce(loss.reshape(target.shape), reduction).to(input.dtype)


def multilabel_margin_loss(
    input: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    r"""Multi-label hinge: every target class must beat every other class by 1.

    $$\ell(x, y) = \frac{1}{C} \sum_{j} \sum_{i \notin y} \max(0,\ 1 - (x_{y_j} - x_i)).$$

    ``target`` is **not** a multi-hot vector: it holds class *indices*, shaped like ``input``
    ((C,) or (N, C); a 0-d score is one class), padded with -1; reading stops at the first -1,
    so ``[3, 0, -1, 1]`` means classes {3, 0}. Every entry must lie in [-1, C). A class listed
    twice counts twice, as in torch. ``input`` holds raw scores — no sigmoid. ``'mean'``
    averages over samples.

    **Without forming the pairs.** The double sum has up to $C^2$ terms per sample, but each
    is either 0 or linear: with the thresholds $a_j = x_{y_j} - 1$, pair $(j, i)$ is *active*
    when $x_i > a_j$ and then contributes $1 - x_{y_j} + x_i$. Counting, for each listed
    slot, the active non-targets $k_j = \#\{i \notin y : x_i > a_j\}$ and, for each
    non-target, the slots it is active in $c_i = \#\{j : a_j < x_i\}$,

    $$\ell = \frac1C \Bigl(\sum_j k_j + \sum_{i \notin y} c_i\,x_i - \sum_j k_j\,x_{y_j}\Bigr),$$

    and both counts come from sorting the thresholds once per sample and locating each score
    among them (``searchsorted``): $O(C \log L)$ time and $O(C)$ memory instead of $C^2$,
    for at most $L$ classes listed per sample. The counts
    are constants of the active set, so the gradient is theirs: $c_i / C$ for a non-target
    and $-\sum_{j: y_j = c} k_j / C$ for a target class $c$ — torch's, which also takes a
    hinge at exactly 0 as inactive.

    Reference: ``torch.nn.functional.multilabel_margin_loss``.
    """
    check.floating("input", input)
    check.integer("target", target, dtypes=(torch.long,))
    check.reduction(reduction)
    scores = _as_batch(input)
    if input.dim() == 2:
        check.same_shape("input", input, "target", target)
    elif target.dim() > 1 or target.numel() != scores.shape[-1]:
        raise check.ArgumentError(f"target: expected {scores.shape[-1]} class indices "
                                  f"(unbatched input), got shape {tuple(target.shape)}")
    target = target.reshape(scores.shape)
    num_classes = scores.shape[-1]
    check.class_indices("target", target, num_classes, ignore_index=-1, also=" or -1 (padding)")

    scores = widened(scores)  # float16 scores of 1e4: a sum of C^2 hinges would overflow
    loss = _MultilabelMargin.apply(scores, target) / num_classes
    return reduce(loss if input.dim() == 2 else loss[0], reduction).to(input.dtype)


def _active_counts(
    x: torch.Tensor, target: torch.Tensor, length: torch.Tensor, width: int
):
    r"""For scores ``x`` (n, C) and padded class lists ``target`` (n, C) whose first
    ``length`` (n,) entries are listed, at most ``width``: the number of active pairs per
    row, $\sum_j k_j$, and each class's coefficient in $\sum_i w_i x_i$ — $c_i$ for a
    non-target, $-\sum_{j: y_j = i} k_j$ for a target — as int32.

    One sort of the (at most ``width``) thresholds per row gives both counts: a non-target's
    $c_i$ is the number of thresholds below $x_i$ (``searchsorted``), and the threshold at
    sorted position $p$ is beaten by the non-targets with $c_i > p$, so $k$ in sorted order
    is a reversed cumulative count of the $c_i$.
    """
    n, num_classes = x.shape
    listed = torch.arange(num_classes, device=x.device) < length.unsqueeze(-1)
    slot = torch.where(listed, target, 0)
    is_target = torch.zeros_like(x, dtype=torch.uint8).scatter_reduce_(
        -1, slot, listed.to(torch.uint8), "amax").bool()
    threshold = (x.gather(-1, slot) - 1).masked_fill_(~listed, torch.inf)  # a_j = x_{y_j} - 1
    slot, threshold = slot[:, :width], threshold[:, :width]  # the rest are unlisted
    ascending, order = threshold.sort(dim=-1)
    c = torch.searchsorted(ascending, x, out_int32=True)  # #{j : a_j < x_i}
    c = c.masked_fill_(is_target, 0)  # a target is no "other" class
    beaten_by = torch.zeros(n, width + 1, dtype=torch.int32, device=x.device)
    beaten_by.scatter_add_(-1, c.long(), (~is_target).to(torch.int32))  # #{i : c_i = v}
    k_sorted = beaten_by[:, 1:].flip(-1).cumsum(dim=-1, dtype=torch.int32).flip(-1)
    k = torch.empty_like(k_sorted).scatter_(-1, order, k_sorted)  # k, in slot order
    weight = c.scatter_add_(-1, slot, -k)  # unlisted slots have k = 0
    return k.sum(dim=-1), weight


class _MultilabelMargin(torch.autograd.Function):
    r"""$C\,\ell$ per sample, from the counts of active pairs (see
    :func:`multilabel_margin_loss`), and its gradient: the coefficient $w_i$ of each score.

    The counts are computed a block of rows at a time, so the sorting needs memory for a
    block, not for the batch; only the coefficients (int32) are kept for the backward pass.
    """

    @staticmethod
    def forward(ctx, scores, target):
        num_classes = scores.shape[-1]
        padding = target < 0  # a row's list ends at its first -1 (argmax: the first)
        length = torch.where(padding.any(dim=-1), padding.byte().argmax(dim=-1), num_classes)
        if check.compiling():  # no data-dependent sizes in a compiled graph
            block, width = scores.shape[0], num_classes
        else:  # the longest class list bounds the thresholds to sort (one sync)
            block = max(1, 2**17 // num_classes)
            width = max(1, int(length.max())) if length.numel() else 1
        loss, weights = [], []
        for x, t, listed in zip(scores.split(block), target.split(block), length.split(block)):
            active, weight = _active_counts(x, t, listed, width)
            terms = torch.where(weight != 0, weight * x, 0)  # not 0 * inf
            row = active + terms.sum(dim=-1)
            loss.append(row.masked_fill(x.isnan().any(dim=-1), torch.nan))  # NaN in, NaN out
            weights.append(weight)
        ctx.save_for_backward(torch.cat(weights))
        return torch.cat(loss) if loss else scores.new_zeros(0)

    @staticmethod
    @once_differentiable  # as torch's: no second derivative
    def backward(ctx, grad_output):
        (weight,) = ctx.saved_tensors
        return weight * grad_output.unsqueeze(-1), None


def multilabel_soft_margin_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Mean over the classes of binary cross-entropy with logits:

    $$\ell(x, y) = -\frac{1}{C} \sum_c w_c\,[y_c \log\sigma(x_c) + (1 - y_c)\log\sigma(-x_c)].$$

    ``target`` is multi-hot (0/1, floats or integers, as torch accepts) shaped like ``input``
    (…, C); despite the name this is a logistic (cross-entropy) loss, not a hinge. ``weight``
    multiplies each class's term and broadcasts to ``input``. ``'mean'`` averages the
    per-sample losses.

    Reference: ``torch.nn.functional.multilabel_soft_margin_loss``.
    """
    check.floating("input", input)
    check.tensor("target", target)
    check.reduction(reduction)
    if not target.is_floating_point():
        check.integer("target", target, "multi-hot labels")
        target = target.to(input.dtype)
    per_class = binary_cross_entropy_with_logits(input, target, reduction="none")
    if weight is not None:  # after the BCE, so that a float64 weight promotes, as in torch
        check.floating("weight", weight)
        broadcastable("weight", weight, "the input", input)
        per_class = per_class * weight
    return reduce(per_class.mean(dim=-1), reduction)


CATALOG = (
    Entry(hinge_loss, chapter="06_margin_losses", task="binary classification",
          summary=r"$\max(0, 1 - y f)$, $y = \pm 1$", reference="sklearn.metrics.hinge_loss",
          input_kind="scores", convex=True, bounded=False, robust=True,
          inputs=sample("scores", "signs")),
    Entry(squared_hinge_loss, chapter="06_margin_losses", task="binary classification",
          summary=r"$\max(0, 1 - y f)^2$", reference=None, input_kind="scores",
          convex=True, bounded=False, robust=False,
          inputs=sample("scores", "signs")),
    Entry(soft_margin_loss, chapter="06_margin_losses", task="binary classification",
          summary=r"$\log(1 + e^{-y f})$", reference="torch.nn.functional.soft_margin_loss",
          input_kind="logits", convex=True, bounded=False, robust=True,
          inputs=sample("scores", "signs")),
    Entry(margin_ranking_loss, chapter="06_margin_losses", task="ranking (pairs)",
          summary=r"$\max(0, -y(x_1 - x_2) + m)$",
          reference="torch.nn.functional.margin_ranking_loss", input_kind="scores",
          convex=True, bounded=False, robust=True,
          inputs=sample("scores", "scores", "signs")),
    Entry(hinge_embedding_loss, chapter="06_margin_losses", task="similarity (pairs)",
          summary=r"$x$ if $y = 1$, $\max(0, m - x)$ if $y = -1$",
          reference="torch.nn.functional.hinge_embedding_loss", input_kind="distances",
          convex=True, bounded=False, robust=True,
          inputs=sample("distances", "signs")),
    Entry(multi_margin_loss, chapter="06_margin_losses", task="multi-class classification",
          summary=r"$\frac1C \sum_{j \ne y} \max(0, m - x_y + x_j)^p$",
          reference="torch.nn.functional.multi_margin_loss", input_kind="scores",
          convex=True, bounded=False, robust=None,
          inputs=sample("scores", "classes"),
          depends=(Depends("robust", holds={"p": 1}, fails={"p": 2}),)),
    Entry(multilabel_margin_loss, chapter="06_margin_losses",
          task="multi-label classification",
          summary=r"$\frac1C \sum_{j \in y} \sum_{i \notin y} \max(0, 1 - x_j + x_i)$",
          reference="torch.nn.functional.multilabel_margin_loss", input_kind="scores",
          convex=True, bounded=False, robust=True,
          inputs=samples.multilabel()),
    Entry(multilabel_soft_margin_loss, chapter="06_margin_losses",
          task="multi-label classification",
          summary=r"mean over classes of BCE with logits",
          reference="torch.nn.functional.multilabel_soft_margin_loss", input_kind="logits",
          convex=True, bounded=False, robust=True,
          inputs=sample("logits", "labels01")),
)
