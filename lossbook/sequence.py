r"""Sequence losses: connectionist temporal classification (CTC).

Chapter: *CTC: losses without alignments* (``chapters/09_ctc``).

A network reads $T$ frames and emits, at every frame $t$, log-probabilities over $C$ symbols,
one of which is the **blank** (no output). A *path* picks one symbol per frame; the collapse
map $\mathcal{B}$ merges repeated symbols and then drops blanks, so ``a a - b b`` and
``a - - b -`` both read ``ab``. CTC's likelihood of a label sequence $l$ sums the
probability of **every** path that collapses to it — not of the best one:

$$ p(l \mid x) = \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_{t=1}^{T} y^t_{\pi_t}. $$

The sum runs over exponentially many paths but factorises along time: the forward variables
$\alpha$ on the blank-extended label sequence $l' = (\varnothing, l_1, \varnothing, l_2,
\dots, l_S, \varnothing)$ compute it in $O(T \cdot S)$ (Graves et al., 2006).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from lossbook import _checks as check
from lossbook import _samples as samples
from lossbook.catalog import Entry


def _extend(labels: torch.Tensor, blank: int) -> torch.Tensor:
    r"""Blank-extended sequences $l' = (\varnothing, l_1, \varnothing, \dots, l_S, \varnothing)$.

    Shape (N, 2S + 1).
    """
    extended = torch.full((labels.shape[0], 2 * labels.shape[1] + 1), blank,
                          dtype=labels.dtype, device=labels.device)
    extended[:, 1::2] = labels
    return extended


def _skips(extended: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    r"""$\log [\,l'_s \ne l'_{s-2}\,]$: 0 where the skip from $s - 2$ to $s$ is allowed, else
    $-\infty$ (and $-\infty$ for $s < 2$, which has no $s - 2$). Shape (N, 2S + 1)."""
    allowed = torch.zeros_like(extended, dtype=torch.bool)
    allowed[:, 2:] = extended[:, 2:] != extended[:, :-2]
    zero = torch.zeros((), dtype=dtype, device=extended.device)
    return torch.where(allowed, zero, -torch.inf)


def _largest(values: torch.Tensor) -> torch.Tensor:
    """Each row's largest entry, (N, 1), and 0 where a row has none (all ``-inf``)."""
    m = values.amax(dim=-1, keepdim=True)
    return torch.where(torch.isinf(m), 0.0, m)


def _log_alpha(log_probs: torch.Tensor, extended: torch.Tensor, *, scaled: bool = False):
    r"""The forward variables $\log \alpha_t(s)$ for every frame, shape (T, N, 2S + 1).

    $\alpha_t(s)$ is the total probability of the path prefixes $\pi_1 \dots \pi_t$ that end
    in $l'_s$ and collapse to $l'_1 \dots l'_s$. It starts in the first blank or the first
    label, $\alpha_1(1) = y^1_\varnothing$, $\alpha_1(2) = y^1_{l_1}$, and then

    $$ \alpha_t(s) = \bigl(\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
       + [\,l'_s \ne l'_{s-2}\,]\,\alpha_{t-1}(s-2)\bigr)\, y^t_{l'_s}: $$

    stay on the same symbol, advance by one, or skip a blank — allowed only between two
    *different* labels (a repeated label needs a blank between its copies, and a blank is
    never skipped onto, as $l'_s = l'_{s-2} = \varnothing$ there). Computed in log space,
    where the sum of three terms is ``logaddexp`` twice (the log-sum-exp trick); every frame
    of the whole batch is one step. Each frame is shifted by its largest entry, so the
    numbers stay near 0 (in float32 a $\log\alpha$ of $-300$ is only good to $3 \cdot 10^{-5}$);
    the shifts add back up to the true table, or come separately with ``scaled=True``.
    """
    num_frames = log_probs.shape[0]
    # emissions[t, n, s] = log y^t_{l'_s}, the log-probability of extended label s at frame t
    emissions = log_probs.gather(2, extended.unsqueeze(0).expand(num_frames, -1, -1))
    skip_allowed = _skips(extended, log_probs.dtype)
    first_two = torch.arange(extended.shape[1], device=extended.device) < 2
    alpha = emissions[0].masked_fill(~first_two, -torch.inf)
    table, shifts = [], []
    for t in range(num_frames):
        if t > 0:
            before = F.pad(alpha, (2, 0), value=-torch.inf)  # before[:, s + 2] = alpha[:, s]
            stay, advance, skip = alpha, before[:, 1:-1], before[:, :-2] + skip_allowed
            alpha = torch.logaddexp(torch.logaddexp(stay, advance), skip) + emissions[t]
        shifts.append(_largest(alpha))
        alpha = alpha - shifts[-1]
        table.append(alpha)
    table, shifts = torch.stack(table), torch.stack(shifts)
    return (table, shifts) if scaled else table + shifts.cumsum(dim=0)


class _CTC(torch.autograd.Function):
    r"""$-\log p(l \mid x)$ per sequence, with the gradient from the forward-backward recursions.

    Forward: :func:`_log_alpha`. Backward: the backward variables $\beta_t(s)$, the total
    probability of the path suffixes $\pi_{t+1} \dots \pi_{T_n}$ that continue from $l'_s$ at
    frame $t$ and read the rest of $l'$ — the recursion of $\alpha$ run from the end:

    $$ \beta_{T_n}(s) = [\,s \text{ is one of the two ends}\,], \quad
       \beta_t(s) = \sum_{r \in \{s,\, s+1,\, s+2\}} y^{t+1}_{l'_r}\, \beta_{t+1}(r) $$

    (the step to $s + 2$ only where that skip is allowed). Then $\alpha_t(s)\beta_t(s)$ is the
    probability of the paths through $l'_s$ at frame $t$; divided by its sum over $s$, which is
    $p(l \mid x)$ at every frame, and summed over the positions $s$ that carry symbol $k$, it
    is the posterior $\gamma_t(k)$ that frame $t$ emits $k$, and

    $$ \frac{\partial (-\log p)}{\partial \log y^t_k} = -\gamma_t(k) $$

    for every frame the sequence uses (Graves et al., 2006, eqs. 14-16), 0 after it and 0
    where no path reads the target ($p = 0$). Through a ``log_softmax`` this becomes the
    logit gradient $y^t_k - \gamma_t(k)$: prediction minus (soft) target. Both recursions run
    shifted by each frame's largest entry, and $\gamma_t$ is a softmax over $s$ of
    $\log\alpha_t + \log\beta_t$, so nothing depends on how small $p$ is.
    """

    @staticmethod
    def forward(ctx, log_probs, extended, input_lengths, target_lengths):
        log_alpha, shifts = _log_alpha(log_probs, extended, scaled=True)  # (T, N, 2S + 1)
        batch = torch.arange(log_probs.shape[1], device=log_probs.device)
        last = (input_lengths - 1).clamp(min=0)
        final, shift = log_alpha[last, batch], shifts.cumsum(dim=0)[last, batch, 0]
        ends = torch.stack([2 * target_lengths, (2 * target_lengths - 1).clamp(min=0)], dim=1)
        end_values = final.gather(1, ends)
        # A path ends on the final blank or on the last label (the latter only if S_n > 0).
        on_label = end_values[:, 1].masked_fill(target_lengths == 0, -torch.inf)
        ctx.save_for_backward(log_probs, extended, input_lengths, target_lengths, log_alpha)
        return -(torch.logaddexp(end_values[:, 0], on_label) + shift)

    @staticmethod
    @once_differentiable  # as torch's: no second derivative
    def backward(ctx, grad_output):
        log_probs, extended, lengths, target_lengths, log_alpha = ctx.saved_tensors
        num_frames = log_probs.shape[0]
        emissions = log_probs.gather(2, extended.unsqueeze(0).expand(num_frames, -1, -1))
        skip_to = F.pad(_skips(extended, log_probs.dtype), (0, 2), value=-torch.inf)[:, 2:]
        positions = torch.arange(extended.shape[1], device=extended.device)
        ends = (positions == 2 * target_lengths[:, None]) | (
            (positions == 2 * target_lengths[:, None] - 1) & (target_lengths[:, None] > 0))
        start = torch.zeros_like(emissions[0]).masked_fill(~ends, -torch.inf)  # log beta_T
        weight = -grad_output.to(log_probs)[:, None]
        grad = torch.zeros_like(log_probs)
        beta = torch.full_like(start, -torch.inf)
        for t in range(num_frames - 1, -1, -1):
            if t < num_frames - 1:
                step = F.pad(beta + emissions[t + 1], (0, 2), value=-torch.inf)  # y * beta
                stay, advance, skip = step[:, :-2], step[:, 1:-1], step[:, 2:] + skip_to
                beta = torch.logaddexp(torch.logaddexp(stay, advance), skip)
            beta = torch.where((lengths == t + 1)[:, None], start, beta)  # its last frame
            beta = beta - _largest(beta)
            paths = log_alpha[t] + beta  # log of the paths through each s, up to a constant
            total = _largest(paths)  # -inf rows: no path (p = 0, or a frame not used)
            gamma = torch.exp(paths - total)
            gamma = gamma / gamma.sum(dim=-1, keepdim=True).clamp(min=1)  # 0 without paths
            grad[t].scatter_add_(1, extended, gamma * weight)  # summed per symbol k
        return grad, None, None, None


def _lengths(name: str, lengths, batch: int, device: torch.device) -> torch.Tensor:
    """Lengths (ints, a sequence or a tensor) as a (N,) long tensor on ``device``."""
    if isinstance(lengths, torch.Tensor):
        check.integer(name, lengths, "lengths")
    lengths = torch.as_tensor(lengths, device=device).reshape(-1)
    if lengths.is_floating_point() or lengths.numel() != batch:
        shown = lengths.tolist() if lengths.numel() <= 8 else tuple(lengths.shape)
        raise check.ArgumentError(
            f"{name}: expected {batch} integer length(s), one per sequence, got {shown}")
    return lengths.long()


def _check_lengths_and_labels(targets, input_lengths, target_lengths, num_frames,
                              num_classes, blank) -> None:
    """Lengths and labels, in one :func:`lossbook._checks.values` call (one device sync)."""
    if targets.dim() == 2:  # padded: entries past each length are never read
        limit = targets.shape[1]
        positions = torch.arange(limit, device=targets.device)
        valid = positions < target_lengths[:, None]
        total = targets.new_tensor(targets.numel())  # not a constraint: always ok
    else:  # concatenated: every entry is a label
        limit = targets.numel()
        valid = torch.ones_like(targets, dtype=torch.bool)
        total = target_lengths.sum()
    good_label = ~valid | ((targets >= 0) & (targets < num_classes) & (targets != blank))
    check.values(
        ("input_lengths", input_lengths, (input_lengths >= 0) & (input_lengths <= num_frames),
         f"values in [0, {num_frames}] (the number of frames)"),
        ("target_lengths", target_lengths, (target_lengths >= 0) & (target_lengths <= limit),
         f"values in [0, {limit}]"),
        check.Rule("targets", total, total == targets.numel(), "", check.ArgumentError,
                   "{name}: concatenated targets must hold sum(target_lengths) = {got} labels, "
                   f"got {targets.numel()}"),
        check.Rule("targets", targets, good_label, "", check.ArgumentError,
                   f"{{name}}: labels must be in [0, {num_classes}) and differ from the blank "
                   f"{blank}, got {{got}}"),
    )


def _padded(targets: torch.Tensor, target_lengths: torch.Tensor, blank: int) -> torch.Tensor:
    """Targets as (N, S) labels with blanks past each length.

    Concatenated targets are cut into rows as long as the longest target — a number the data
    decide, read with one more device sync; while ``torch.compile`` traces, rows as long as
    all targets together instead (a length known from the shapes alone).
    """
    if targets.dim() == 1:  # sequence n starts after the labels of the sequences before it
        longest = (targets.numel() if check.compiling() or not target_lengths.numel()
                   else int(target_lengths.max()))
        starts = torch.cumsum(target_lengths, dim=0) - target_lengths
        positions = torch.arange(longest, device=targets.device)
        index = (starts[:, None] + positions).clamp(max=max(targets.numel() - 1, 0))
        targets = targets[index] if targets.numel() else index
    positions = torch.arange(targets.shape[1], device=targets.device)
    valid = positions < target_lengths[:, None]
    return torch.where(valid, targets, torch.full_like(targets, blank))


def ctc_loss(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> torch.Tensor:
    r"""CTC loss $-\log p(l \mid x) = -\log \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_t y^t_{\pi_t}$.

    * ``log_probs`` (T, N, C), or (T, C) unbatched: **log-softmax** outputs over the $C$
      symbols, ``blank`` included. (Raw scores give a number that means nothing.)
    * ``targets``: padded (N, S) labels — entries past each length are ignored — or all
      sequences concatenated into one 1-D tensor of ``sum(target_lengths)`` labels. Labels
      lie in [0, C) and are never the blank.
    * ``input_lengths``, ``target_lengths``: (N) tensors or sequences of ints.

    Sequence $n$ uses its first $T_n$ frames; $p(l \mid x) = \alpha_{T_n}(2S_n + 1) +
    \alpha_{T_n}(2S_n)$ (end on the last label or the final blank; see ``_log_alpha``). A
    target that no path can produce — more labels, plus a blank between each repeated pair,
    than frames — has probability 0 and loss ``inf``; ``zero_infinity=True`` makes it 0.
    ``'mean'`` divides each loss by its target length (at least 1), then averages over the
    batch; ``'sum'`` adds the losses; ``'none'`` returns (N).

    The gradient is computed by the backward recursion (see ``_CTC``): $-\gamma_t(k)$, the
    posterior probability that frame $t$ emits $k$ — the exact derivative with respect to
    ``log_probs``. torch's backward returns $y^t_k - \gamma_t(k)$ instead, the gradient with
    respect to the logits *before* a log-softmax; after ``log_softmax``'s backward both are
    the same (its null space absorbs $y^t_k$). For an infeasible target torch's gradient is
    NaN and lossbook's is 0.

    Reference: ``torch.nn.functional.ctc_loss``; Graves et al. (2006).
    """
    check.floating("log_probs", log_probs)
    check.integer("targets", targets, "labels")
    check.reduction(reduction)
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.reshape(1, -1)
    if log_probs.dim() != 3 or targets.dim() not in (1, 2):
        raise check.ArgumentError(f"log_probs: expected shape (T, N, C) or (T, C), "
                                  f"got {tuple(log_probs.shape)}")
    num_frames, batch, num_classes = log_probs.shape
    if not 0 <= blank < num_classes:
        raise check.ArgumentError(f"blank: expected an index in [0, {num_classes}), got {blank}")
    if targets.dim() == 2 and targets.shape[0] != batch:
        raise check.ArgumentError(f"targets: expected {batch} padded rows (N, S), "
                                  f"got shape {tuple(targets.shape)}")
    input_lengths = _lengths("input_lengths", input_lengths, batch, log_probs.device)
    target_lengths = _lengths("target_lengths", target_lengths, batch, log_probs.device)
    targets = targets.to(log_probs.device)
    _check_lengths_and_labels(targets, input_lengths, target_lengths, num_frames,
                              num_classes, blank)
    extended = _extend(_padded(targets, target_lengths, blank), blank)

    nll = _CTC.apply(log_probs, extended, input_lengths, target_lengths)
    # No frames at all: the empty target has probability 1, any other 0.
    empty = torch.where(target_lengths == 0, 0.0, torch.inf).to(nll)
    loss = torch.where(input_lengths > 0, nll, empty)
    if zero_infinity:
        loss = torch.where(torch.isinf(loss), torch.zeros_like(loss), loss)
    if reduction == "mean":
        return (loss / target_lengths.clamp(min=1).to(loss.dtype)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss


def ctc_alignment_table(
    log_probs: torch.Tensor, target: torch.Tensor, blank: int = 0
) -> torch.Tensor:
    r"""The CTC lattice of one sequence: $\log \alpha_t(s)$, shape (T, 2S + 1).

    Rows are frames, columns the blank-extended target $(\varnothing, l_1, \varnothing, \dots,
    l_S, \varnothing)$. Entry $(t, s)$ is the log of the total probability of all path
    prefixes of length $t + 1$ that have read $l'_1 \dots l'_s$; $-\infty$ marks cells no
    path reaches. ``log_probs`` is (T, C), ``target`` (S,) without blanks. The sum of
    ``exp`` of the last row's final two entries is $p(l \mid x)$.
    """
    check.floating("log_probs", log_probs)
    check.integer("target", target, "labels")
    if log_probs.dim() != 2 or target.dim() != 1:
        raise check.ArgumentError(f"log_probs, target: expected shapes (T, C) and (S,), "
                         f"got {tuple(log_probs.shape)} and {tuple(target.shape)}")
    num_frames, num_classes = log_probs.shape
    labels = target.reshape(1, -1).to(log_probs.device)
    _check_lengths_and_labels(labels, torch.tensor([num_frames], device=labels.device),
                              torch.tensor([target.numel()], device=labels.device),
                              num_frames, num_classes, blank)
    return _log_alpha(log_probs.unsqueeze(1), _extend(labels, blank))[:, 0]


def ctc_greedy_decode(
    log_probs: torch.Tensor, input_lengths: Sequence[int] | torch.Tensor | None = None,
    blank: int = 0,
) -> list[list[int]] | list[int]:
    r"""Best-path decoding: the most likely symbol per frame, collapsed by $\mathcal{B}$.

    Takes ``argmax`` at every frame, merges repeats and drops blanks. This is the collapse of
    the single most probable *path*, which need not be the most probable *labelling* (that
    sums over paths; beam search approximates it). ``log_probs`` is (T, N, C) — giving one
    list of labels per sequence, each cut at its ``input_lengths`` — or (T, C), giving one
    list.
    """
    check.floating("log_probs", log_probs)
    if log_probs.dim() == 2:
        return ctc_greedy_decode(log_probs.unsqueeze(1), input_lengths, blank)[0]
    if log_probs.dim() != 3:
        raise check.ArgumentError(f"log_probs: expected shape (T, N, C) or (T, C), "
                         f"got {tuple(log_probs.shape)}")
    num_frames, batch, _ = log_probs.shape
    lengths = [num_frames] * batch if input_lengths is None else (
        _lengths("input_lengths", input_lengths, batch, torch.device("cpu")).tolist())
    best = log_probs.detach().argmax(dim=2).T.cpu()  # (N, T): one sync for the batch
    decoded = []
    for path, length in zip(best, lengths):
        symbols = torch.unique_consecutive(path[:length])  # merge repeats, then drop blanks
        decoded.append([s for s in symbols.tolist() if s != blank])
    return decoded


CATALOG = (
    Entry(ctc_loss, chapter="09_ctc", task="sequence labelling without alignment",
          summary=r"$-\log \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_t y^t_{\pi_t}$",
          reference="torch.nn.functional.ctc_loss", input_kind="log-probabilities",
          convex=False, bounded=False, robust=True,
          inputs=samples.ctc()),
)
