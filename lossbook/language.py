r"""Losses of language models: token cross-entropy at scale and preference optimisation.

Chapter: *Language models: cross-entropy at scale and preference optimisation*
(``chapters/15_language_models``).

* :func:`z_loss` — PaLM's penalty $10^{-4} \log^2 Z$ that keeps the softmax normaliser near 1;
* :func:`linear_cross_entropy` — ``torch.nn.functional.linear_cross_entropy`` (torch's name,
  signature and values), computed chunk by chunk over the tokens in a custom
  ``autograd.Function`` so that the (tokens × vocabulary) logits and their gradient are never
  held whole;
* :func:`bradley_terry_loss`, :func:`dpo_loss`, :func:`ipo_loss`, :func:`simpo_loss` — reward
  modelling and direct preference optimisation on per-sequence log-probabilities;
* :class:`TensorMemory` — the peak bytes of tensors alive during a computation, counted the same
  way on every device (the chapter's memory figure).

Natural logarithms throughout.
"""

from __future__ import annotations

import math
import weakref
from typing import NamedTuple

import torch
from torch.autograd.function import once_differentiable
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from lossbook import _checks as check
from lossbook import _numerics as num
from lossbook import _samples as samples
from lossbook._numerics import logsumexp, softplus, widened
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Entry


# --------------------------------------------------------------------------- z-loss
def z_loss(
    input: torch.Tensor,
    target: torch.Tensor | None = None,
    *,
    ignore_index: int = -100,
    coefficient: float = 1e-4,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""PaLM's auxiliary z-loss $\ell_i = c \, (\log Z_i)^2$, $\log Z_i = \log\sum_v e^{x_{iv}}$.

    ``input`` holds logits in torch's layout, (C,), (N, C) or (N, C, d1, ...); ``target``
    (optional, class indices of ``cross_entropy``'s shape) marks padding: entries equal to
    ``ignore_index`` add nothing, and ``'mean'`` averages over the other tokens (NaN when there
    are none, as ``cross_entropy``). The penalty pulls $\log Z$ towards 0, so the softmax needs
    no normalisation at inference and the logits cannot drift upwards together, which
    destabilised large training runs; $c = 10^{-4}$ is PaLM's coefficient. $\log Z$ is computed
    with the log-sum-exp trick, in float32 for half-precision logits.

    Reference: Chowdhery et al. (2022), *PaLM*, §5 "z-loss".
    """
    check.floating("input", input)
    check.reduction(reduction)
    check.number("coefficient", coefficient, coefficient >= 0, "a number >= 0")
    log_z = logsumexp(widened(input), dim=num.class_dim(input))
    loss = coefficient * log_z**2
    if target is None:
        return reduce(loss, reduction).to(input.dtype)
    check.integer("target", target)
    check.shape("target", target, tuple(log_z.shape), "input's shape without the class dimension")
    keep = target != ignore_index
    loss = loss * keep  # not where(): NaN logits at a padding token still give NaN
    if reduction == "mean":
        return (loss.sum() / keep.sum()).to(input.dtype)
    return reduce(loss, reduction).to(input.dtype)


# --------------------------------------------------------------------------- linear + CE
class _Spec(NamedTuple):
    """What the chunked computation needs besides tensors (one per call)."""

    num_classes: int  # C: the softmax runs over these
    positions: int  # P: prod(out_features), 1 unless linear_weight is (C, d1, ..., dK, in)
    probabilities: bool  # target holds class probabilities (else class indices)
    ignore_index: int
    label_smoothing: float
    reduction: str
    rows: int  # tokens (rows of input) per chunk
    acc_dtype: torch.dtype  # logits, log-sum-exp and losses are computed in this dtype


def _chunks(num_rows: int, rows: int):
    """Slices of ``range(num_rows)`` with ``rows`` rows each (the last may be shorter)."""
    return (slice(start, min(start + rows, num_rows)) for start in range(0, num_rows, rows))


def _logits(x, w, b, spec: _Spec) -> torch.Tensor:
    """One chunk's logits ``x @ w.T + b`` as (n, C, P), in the accumulation dtype."""
    z = x @ w.T if b is None else torch.addmm(b, x, w.T)
    return z.to(spec.acc_dtype).view(x.shape[0], spec.num_classes, spec.positions)


def _class_weight(weight, spec: _Spec, like: torch.Tensor) -> torch.Tensor:
    """The per-class weight $w_c$ viewed as (1, C, 1), ones when ``weight`` is None."""
    if weight is None:
        return torch.ones((1, spec.num_classes, 1), dtype=like.dtype, device=like.device)
    return weight.to(like.dtype).view(1, spec.num_classes, 1)


def _target_weight(t, weight, spec: _Spec, like: torch.Tensor):
    """``keep`` (not ignore_index) and $w_{y}$ for class indices ``t`` (0 where ignored)."""
    keep = t != spec.ignore_index
    safe = torch.where(keep, t, torch.zeros_like(t))
    w_t = keep.to(like.dtype) if weight is None else weight.to(like.dtype)[safe] * keep
    return keep, safe, w_t


def _smoothed(q, w, spec: _Spec) -> torch.Tensor:
    r"""$a_c = w_c((1 - \varepsilon) q_c + \varepsilon / C)$ for class-probability targets."""
    eps = spec.label_smoothing
    return w * ((1 - eps) * q.to(w.dtype) + eps / spec.num_classes)


def _chunk_forward(z, t, weight, spec: _Spec) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$\log Z$ and the per-token loss $\sum_c a_c(\log Z - z_c)$ of one chunk, each (n, P).

    For class indices the log-sum-exp is taken **in place**: the logits are shifted by their
    maximum, the two numbers the loss needs ($z_y$ and $\sum_c w_c z_c$) are read off, and
    then the chunk is overwritten by its exponentials — one chunk of memory, not three.
    """
    w = _class_weight(weight, spec, z)
    if spec.probabilities:  # the target is dense anyway; keep torch's accuracy
        lse = logsumexp(z, dim=1)
        return lse, (_smoothed(t, w, spec) * (lse.unsqueeze(1) - z)).sum(dim=1)
    keep, safe, w_t = _target_weight(t, weight, spec, z)
    m = z.amax(dim=1, keepdim=True)
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)  # as _numerics.logsumexp
    shifted = z.sub_(m)
    z_y = shifted.gather(1, safe.unsqueeze(1)).squeeze(1)
    if spec.label_smoothing:
        w_z = shifted.sum(dim=1) if weight is None else torch.einsum(
            "ncp,c->np", shifted, w.view(-1))
    log_sum = shifted.exp_().sum(dim=1).log()  # the logits are gone from here on
    loss = (1 - spec.label_smoothing) * w_t * (log_sum - z_y)  # w_y (-log p_y)
    if spec.label_smoothing:  # the uniform part: eps/C sum_c w_c (-log p_c)
        uniform = w.sum() * log_sum - w_z
        loss = loss + spec.label_smoothing / spec.num_classes * uniform
    return m.squeeze(1) + log_sum, torch.where(keep, loss, torch.zeros_like(loss))


def _chunk_grad_logits(z, lse, t, weight, spec: _Spec, scale) -> torch.Tensor:
    r"""$g\,\partial \ell / \partial z = g\,[(\sum_c a_c)\,\mathrm{softmax}(z) - a]$, in ``z``.

    ``a`` is the weighted, smoothed target: $a = w_y\,\mathrm{onehot}(y)$ without smoothing, so
    this is the familiar $\hat y - y$ (times $w_y$); ``scale`` $= g$ is each token's incoming
    gradient (n, P).
    """
    w = _class_weight(weight, spec, z)
    p = z.sub_(lse.unsqueeze(1)).exp_()  # softmax, reusing the logits' memory
    scale = scale.unsqueeze(1)
    if spec.probabilities:
        a = _smoothed(t, w, spec) * scale
        return p.mul_(a.sum(dim=1, keepdim=True)).sub_(a)
    keep, safe, w_t = _target_weight(t, weight, spec, z)
    eps, w_t = spec.label_smoothing, w_t.unsqueeze(1)
    if eps:  # sum_c a_c = (1 - eps) w_y + eps/C sum_c w_c on kept tokens
        uniform = eps / spec.num_classes * keep.unsqueeze(1).to(w.dtype) * scale  # (n, 1, P)
        p.mul_((1 - eps) * w_t * scale + uniform * w.sum()).sub_(uniform * w)
    else:
        p.mul_(w_t * scale)
    return p.scatter_add_(1, safe.unsqueeze(1), -(1 - eps) * w_t * scale)


class _ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Cross-entropy of ``x @ w.T + b``, one chunk of tokens at a time.

    Forward keeps only the inputs and one $\\log Z$ per token; backward recomputes each chunk's
    logits and turns them into $\\hat y - y$ in place. Neither pass holds more than one chunk
    of logits.
    """

    @staticmethod
    def forward(ctx, x, w, b, t, weight, spec: _Spec):
        lse = torch.empty((x.shape[0], spec.positions), dtype=spec.acc_dtype, device=x.device)
        losses = torch.empty_like(lse)
        for rows in _chunks(x.shape[0], spec.rows):
            z = _logits(x[rows], w, b, spec)
            lse[rows], losses[rows] = _chunk_forward(z, t[rows], weight, spec)
            del z  # the chunk's logits go before the next chunk's arrive
        if spec.probabilities:
            count = torch.tensor(float(losses.numel()), dtype=lse.dtype, device=x.device)
        else:
            count = _target_weight(t, weight, spec, lse)[2].sum()  # sum of w_y, kept tokens
        ctx.spec = spec
        ctx.save_for_backward(x, w, b, t, weight, lse, count)
        if spec.reduction == "none":
            return losses.to(x.dtype)
        total = losses.sum()
        return (total / count if spec.reduction == "mean" else total).to(x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, w, b, t, weight, lse, count = ctx.saved_tensors
        spec = ctx.spec
        need_x, need_w, need_b, need_t = ctx.needs_input_grad[:4]
        scale = grad_output.to(spec.acc_dtype)  # d(output) / d(per-token loss), times grad
        if spec.reduction == "mean":
            scale = scale / count
        scale = scale.expand(lse.shape)
        if not spec.probabilities:  # padding gets exactly 0, even when 'mean' divides by 0
            keep = t != spec.ignore_index
            scale = torch.where(keep, scale, torch.zeros_like(scale))
        grad_x = torch.empty_like(x) if need_x else None
        grad_w = torch.zeros(w.shape, dtype=spec.acc_dtype, device=w.device) if need_w else None
        grad_b = torch.zeros(w.shape[0], dtype=spec.acc_dtype, device=w.device) if need_b else None
        grad_t = torch.empty_like(t) if need_t else None
        for rows in _chunks(x.shape[0], spec.rows):
            z = _logits(x[rows], w, b, spec)
            if need_t:  # d loss / d q_c = -(1 - eps) w_c log p_c
                log_p = z - lse[rows].unsqueeze(1)
                w_c = _class_weight(weight, spec, z)
                grad_t[rows] = (-(1 - spec.label_smoothing) * w_c * log_p
                                * scale[rows].unsqueeze(1)).to(t.dtype)
            g = _chunk_grad_logits(z, lse[rows], t[rows], weight, spec, scale[rows])
            g = g.view(g.shape[0], -1)
            if need_b:
                grad_b += g.sum(dim=0)
            g = g.to(x.dtype)  # the products run in the input's precision
            if need_x:
                grad_x[rows] = g @ w
            if need_w and grad_w.dtype == x.dtype:
                grad_w.addmm_(g.T, x[rows])  # in place: no (V, d) temporary per chunk
            elif need_w:
                grad_w += g.T @ x[rows]
            del z, g  # before the next chunk's logits arrive
        grad_w = grad_w.to(w.dtype) if need_w else None
        grad_b = grad_b.to(b.dtype) if need_b else None
        return grad_x, grad_w, grad_b, grad_t, None, None


def _rows_per_chunk(options, num_rows: int, in_features: int, row_width: int) -> int:
    """Tokens per chunk: ``options.batch_chunk_size``, else torch's ``"aspect_ratio:k"`` rule,
    else lossbook's default: ``in_features`` tokens (at least 2**16 logits), so that a chunk's
    logits are no larger than ``linear_weight``'s gradient, which backward must hold anyway."""
    size = getattr(options, "batch_chunk_size", None)
    method = getattr(options, "chunking_method", "auto")
    if method not in (None, "auto"):  # "aspect_ratio" or "aspect_ratio:k", validated by torch
        factor = int(method.partition(":")[2] or 1)
        target = -(-num_rows // -(-row_width // in_features))
        rule = min((1 << (target - 1).bit_length()) // factor, num_rows)
        if size is not None and min(size, num_rows) != rule:
            raise check.ArgumentError(
                f"options: batch_chunk_size ({size}) and chunking_method ({method!r}) give "
                f"different chunk sizes ({size} vs {rule}); pass only one")
        size = rule
    elif size is None:
        size = num_rows if method is None else max(
            in_features, -(-(2**16) // max(row_width, 1)))
    return max(1, min(size, num_rows))


def _check_linear_cross_entropy(input, linear_weight, target, linear_bias, weight, reduction,
                                ignore_index, label_smoothing) -> bool:
    """torch's checks, with torch's wording after the argument's name; True when ``target``
    holds class probabilities."""
    check.floating("input", input)
    check.floating("linear_weight", linear_weight)
    check.tensor("target", target)
    if input.dim() not in (1, 2):
        raise check.ArgumentError(
            f"input: expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise check.ArgumentError("linear_weight: expected linear_weight with dimensionality "
                                  f"at least 2, got {linear_weight.dim()}")
    if input.shape[-1] != linear_weight.shape[-1]:
        raise check.ArgumentError(
            "linear_weight: expected equal input and linear_weight last dimensions "
            f"(in_features), got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    check.same_dtype("linear_weight", linear_weight, "input", input)
    logit_shape = tuple(linear_weight.shape[:-1])  # (C, d1, ..., dK)
    if linear_bias is not None:
        check.floating("linear_bias", linear_bias)
        if tuple(linear_bias.shape) != logit_shape:
            raise check.ArgumentError(f"linear_bias: expected linear_bias shape {logit_shape}, "
                                      f"got {tuple(linear_bias.shape)}")
        check.same_dtype("linear_bias", linear_bias, "input", input)
    if len(logit_shape) > 1 and input.dim() == 1:
        raise check.ArgumentError(
            f"input: K-dimensional loss defined by linear_weight shape "
            f"{tuple(linear_weight.shape)} requires batched input, (N, {input.shape[-1]}), "
            f"got unbatched input with shape {tuple(input.shape)}")
    probabilities = tuple(target.shape) == tuple(input.shape[:-1]) + logit_shape
    if probabilities and ignore_index is not None:
        raise check.ArgumentError(
            "ignore_index: ignore_index cannot be specified when target contains probabilities")
    check.reduction(reduction)
    check.number("label_smoothing", label_smoothing, 0.0 <= label_smoothing <= 1.0,
                 "a value in [0, 1]")
    num_classes = logit_shape[0]
    if weight is not None:
        check.floating("weight", weight)
        check.shape("weight", weight, (num_classes,), "one weight per class")
        if weight.requires_grad and torch.is_grad_enabled():  # as in torch's nll_loss
            raise check.ArgumentError("weight: class weights are not differentiable; detach "
                                      "them (torch refuses them too)")
    if probabilities:
        check.floating("target", target)
    else:
        check.integer("target", target)
        check.shape("target", target, tuple(input.shape[:-1]) + logit_shape[1:],
                    "input's batch shape, then linear_weight's out_features")
        check.class_indices("target", target, num_classes,
                            -100 if ignore_index is None else ignore_index)
    return probabilities


def linear_cross_entropy(
    input: torch.Tensor,
    linear_weight: torch.Tensor,
    target: torch.Tensor,
    *,
    linear_bias: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options=None,
) -> torch.Tensor:
    r"""``cross_entropy(input @ linear_weight.T + linear_bias, target)`` without the logits.

    A language model's last layer projects N hidden states of width d onto a vocabulary of
    V words; the (N, V) logits, their log-softmax and their gradient are each $4NV$ bytes in
    float32 — gigabytes at $V = 128\,000$, far more than the weights. Here the tokens are
    processed in chunks: forward keeps one $\log Z$ per token, and backward recomputes each
    chunk's logits and forms the gradient of the logits,

    $$ \frac{\partial \ell}{\partial z} = \Big(\sum_c a_c\Big)\,\mathrm{softmax}(z) - a,
       \qquad a = w_y\,\mathrm{onehot}(y) \text{ (no smoothing)}, $$

    i.e. $\hat y - y$, then multiplies it into ``grad_input`` ($G W$) and ``grad_weight``
    ($G^\top X$) before the next chunk. $a$ is the weighted target: with smoothing
    $\varepsilon$, $a_c = (1-\varepsilon) w_y [c = y] + \varepsilon w_c / C$; for
    class-probability targets $a_c = w_c((1-\varepsilon) q_c + \varepsilon / C)$.

    Everything else is torch's: shapes (``input`` (d,) or (N, d); ``linear_weight`` (C, d) or
    (C, d1, ..., dK, d) for a K-dimensional loss), class-index or class-probability targets,
    ``weight``, ``reduction``, ``label_smoothing``; ``ignore_index=None`` means $-100$ for
    class indices and must stay None for probabilities. ``options`` is a
    ``torch.nn.LinearCrossEntropyOptions``, read for the chunk size only
    (``batch_chunk_size``, or ``chunking_method="aspect_ratio:k"`` as torch computes it; with
    ``None`` or ``"auto"``, a chunk has ``in_features`` tokens, so its logits are the size of
    ``linear_weight``). lossbook always chunks; torch chunks only when ``options`` is given.
    Logits and log-sum-exp are computed in float32 for half-precision inputs (or in
    ``options.acc_dtype``).
    Backward is not itself differentiable (no double backward).

    Reference: ``torch.nn.functional.linear_cross_entropy``; Wijmans et al. (2024), *Cut your
    losses in large-vocabulary language models*; Hsu et al. (2024), *Liger Kernel*.
    """
    probabilities = _check_linear_cross_entropy(
        input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
        label_smoothing)
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)
    t = target if batched else target.unsqueeze(0)
    num_classes, in_features = linear_weight.shape[0], linear_weight.shape[-1]
    positions = math.prod(linear_weight.shape[1:-1])
    acc_dtype = getattr(options, "acc_dtype", None) or widened(input[:0]).dtype
    spec = _Spec(num_classes, positions, probabilities,
                 -100 if ignore_index is None else ignore_index, float(label_smoothing),
                 reduction, _rows_per_chunk(options, x.shape[0], in_features,
                                            num_classes * positions), acc_dtype)
    t = t.reshape(x.shape[0], num_classes, positions) if probabilities else t.reshape(
        x.shape[0], positions)
    w = linear_weight.reshape(num_classes * positions, in_features)
    b = None if linear_bias is None else linear_bias.reshape(-1)
    loss = _ChunkedLinearCrossEntropy.apply(x, w, b, t, weight, spec)
    if reduction != "none":
        return loss
    return loss.reshape(tuple(input.shape[:-1]) + tuple(linear_weight.shape[1:-1]))


# --------------------------------------------------------------------------- preferences
def _check_pairs(reduction: str, **tensors: torch.Tensor) -> None:
    first_name, first = next(iter(tensors.items()))
    for name, value in tensors.items():
        check.floating(name, value)
        check.same_shape(first_name, first, name, value)
    check.reduction(reduction)


def _check_beta(beta: float) -> None:
    check.number("beta", beta, beta > 0, "a number > 0")


def bradley_terry_loss(
    chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Reward-model loss $\ell = -\log \sigma(r_c - r_r) = \mathrm{softplus}(r_r - r_c)$.

    The Bradley–Terry model says the chosen response beats the rejected one with probability
    $\sigma(r_c - r_r)$; this is its negative log-likelihood — the logistic loss of the reward
    margin (``soft_margin_loss(r_c - r_r, 1)``), a smooth cousin of
    ``margin_ranking_loss(r_c, r_r, 1, margin=0)``. Finite and exact for any margin
    (softplus, not ``log(sigmoid(.))``).

    Reference: Bradley & Terry (1952); Ouyang et al. (2022), eq. (1).
    """
    _check_pairs(reduction, chosen_rewards=chosen_rewards, rejected_rewards=rejected_rewards)
    margin = widened(chosen_rewards) - widened(rejected_rewards)
    return reduce(softplus(-margin), reduction).to(chosen_rewards.dtype)


def _log_ratio_margin(policy_chosen_logps, policy_rejected_logps,
                      reference_chosen_logps, reference_rejected_logps, *, beta: float,
                      reduction: str) -> torch.Tensor:
    r"""$h = \log\frac{\pi(y_c)}{\pi_{ref}(y_c)} - \log\frac{\pi(y_r)}{\pi_{ref}(y_r)}$,
    after checking the four inputs, ``beta`` and ``reduction``."""
    _check_pairs(reduction, policy_chosen_logps=policy_chosen_logps,
                 policy_rejected_logps=policy_rejected_logps,
                 reference_chosen_logps=reference_chosen_logps,
                 reference_rejected_logps=reference_rejected_logps)
    _check_beta(beta)
    chosen = widened(policy_chosen_logps) - widened(reference_chosen_logps)
    rejected = widened(policy_rejected_logps) - widened(reference_rejected_logps)
    return chosen - rejected


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    reference_chosen_logps: torch.Tensor,
    reference_rejected_logps: torch.Tensor,
    *,
    beta: float = 0.1,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Direct preference optimisation: $\ell = -\log\sigma(\beta h)$, with the log-ratio margin

    $$ h = \log\frac{\pi(y_c)}{\pi_{ref}(y_c)} - \log\frac{\pi(y_r)}{\pi_{ref}(y_r)}. $$

    It is the Bradley–Terry loss of the *implicit reward* $r = \beta \log(\pi / \pi_\mathrm{ref})$,
    the reward for which $\pi$ is the optimum of $\mathbb E_\pi[r] - \beta\,
    \mathrm{KL}(\pi \,\Vert\, \pi_\mathrm{ref})$. Inputs are per-sequence log-probabilities
    (sums over the response's tokens) under the trained policy and the frozen reference.

    Reference: Rafailov et al. (2023), eq. (7); TRL's ``DPOTrainer`` (``loss_type="sigmoid"``).
    """
    h = _log_ratio_margin(policy_chosen_logps, policy_rejected_logps,
                          reference_chosen_logps, reference_rejected_logps, beta=beta,
                          reduction=reduction)
    return reduce(softplus(-beta * h), reduction).to(policy_chosen_logps.dtype)


def ipo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    reference_chosen_logps: torch.Tensor,
    reference_rejected_logps: torch.Tensor,
    *,
    beta: float = 0.1,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Identity preference optimisation: $\ell = \big(h - \tfrac{1}{2\beta}\big)^2$.

    $h$ is DPO's log-ratio margin (see :func:`dpo_loss`) and $\beta$ the regularisation
    strength ($\tau$ in the paper). DPO's $-\log\sigma(\beta h)$ keeps decreasing as
    $h \to \infty$, so with deterministic preferences it drives $\pi(y_r) \to 0$ whatever
    $\beta$ says; IPO regresses $h$ onto the finite target $1 / (2\beta)$ instead.

    Reference: Azar et al. (2023), eq. (17); TRL's ``DPOTrainer`` (``loss_type="ipo"``).
    """
    h = _log_ratio_margin(policy_chosen_logps, policy_rejected_logps,
                          reference_chosen_logps, reference_rejected_logps, beta=beta,
                          reduction=reduction)
    return reduce((h - 1 / (2 * beta)) ** 2, reduction).to(policy_chosen_logps.dtype)


def simpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    chosen_lengths: torch.Tensor,
    rejected_lengths: torch.Tensor,
    *,
    beta: float = 2.0,
    gamma: float = 0.5,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Simple preference optimisation: no reference model, length-normalised rewards,

    $$ \ell = -\log\sigma\Big(\frac{\beta}{|y_c|}\log\pi(y_c) - \frac{\beta}{|y_r|}\log\pi(y_r)
       - \gamma\Big). $$

    The reward is the *average* log-probability per token times $\beta$, so a long response
    is not penalised for its length; $\gamma > 0$ asks the chosen reward to win by a margin.
    ``chosen_lengths`` and ``rejected_lengths`` are the responses' token counts (> 0).
    Defaults: $\beta = 2$ (the paper's) and $\gamma = 0.5$ (TRL's ``simpo_gamma``; TRL's
    ``gamma_beta_ratio`` is $\gamma / \beta$).

    Reference: Meng et al. (2024), eq. (6); TRL's ``CPOTrainer`` (``loss_type="simpo"``).
    """
    _check_pairs(reduction, policy_chosen_logps=policy_chosen_logps,
                 policy_rejected_logps=policy_rejected_logps)
    for name, lengths in (("chosen_lengths", chosen_lengths),
                          ("rejected_lengths", rejected_lengths)):
        check.tensor(name, lengths)
        check.same_shape("policy_chosen_logps", policy_chosen_logps, name, lengths)
    check.values(("chosen_lengths", chosen_lengths, chosen_lengths > 0, "lengths > 0"),
                 ("rejected_lengths", rejected_lengths, rejected_lengths > 0, "lengths > 0"))
    _check_beta(beta)
    chosen = widened(policy_chosen_logps) / chosen_lengths
    rejected = widened(policy_rejected_logps) / rejected_lengths
    margin = beta * (chosen - rejected) - gamma
    return reduce(softplus(-margin), reduction).to(policy_chosen_logps.dtype)


# --------------------------------------------------------------------------- memory
class TensorMemory(TorchDispatchMode):
    """Peak bytes of tensor storage allocated and alive while the context is active.

    ``with TensorMemory() as memory: loss = f(x); loss.backward()`` then ``memory.peak``.
    Every operation's output storage is counted from its creation until it is freed (a weak
    reference's callback); tensors that existed before (inputs, weights) and views of them
    count nothing. It sees only tensors (not an allocator's cache, an operator's scratch space
    or Python objects), so the count is the same on every device and every run: the memory an
    algorithm needs, not what a process happens to hold.
    """

    def __init__(self):
        super().__init__()
        self.live = 0
        self.peak = 0
        self._tracked: set[int] = set()

    def _free(self, key: int, nbytes: int) -> None:
        self._tracked.discard(key)
        self.live -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {t.untyped_storage().data_ptr() for t in tree_flatten((args, kwargs))[0]
                  if isinstance(t, torch.Tensor)}
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            storage = t.untyped_storage()
            key, nbytes = storage.data_ptr(), storage.nbytes()
            if nbytes == 0 or key in inputs or key in self._tracked:
                continue
            self._tracked.add(key)
            self.live += nbytes
            self.peak = max(self.peak, self.live)
            weakref.finalize(storage, self._free, key, nbytes)
        return out


# --------------------------------------------------------------------------- catalog
CHAPTER = "15_language_models"

CATALOG = (
    Entry(z_loss, chapter=CHAPTER, task="language modelling (auxiliary)",
          summary=r"$c \, (\log \sum_v e^{x_v})^2$", reference=None, input_kind="logits",
          convex=False, bounded=False, robust=False, inputs=samples.tokens()),
    Entry(linear_cross_entropy, chapter=CHAPTER, task="language modelling (large vocabulary)",
          summary=r"$-\log \mathrm{softmax}(W h + b)_y$, logits never held whole",
          reference="torch.nn.functional.linear_cross_entropy",
          input_kind="hidden states and projection", convex=True, bounded=False, robust=True,
          inputs=samples.projected_tokens(
              options=torch.nn.LinearCrossEntropyOptions(batch_chunk_size=3))),
    Entry(bradley_terry_loss, chapter=CHAPTER, task="reward modelling (pairwise preferences)",
          summary=r"$-\log \sigma(r_c - r_r)$", reference=None, input_kind="rewards",
          convex=True, bounded=False, robust=True, inputs=sample("rewards", "rewards")),
    Entry(dpo_loss, chapter=CHAPTER, task="preference optimisation",
          summary=r"$-\log \sigma(\beta h)$, $h$ = log-ratio margin to the reference",
          reference=None, input_kind="sequence log-probabilities",
          convex=True, bounded=False, robust=True, inputs=samples.preferences(beta=0.5)),
    Entry(ipo_loss, chapter=CHAPTER, task="preference optimisation",
          summary=r"$(h - 1/(2\beta))^2$, $h$ = log-ratio margin to the reference",
          reference=None, input_kind="sequence log-probabilities",
          convex=True, bounded=False, robust=False, inputs=samples.preferences(beta=0.5)),
    Entry(simpo_loss, chapter=CHAPTER, task="preference optimisation (no reference)",
          summary=r"$-\log \sigma(\beta \bar\ell_c - \beta \bar\ell_r - \gamma)$, "
                  r"$\bar\ell$ = log-probability per token",
          reference=None, input_kind="sequence log-probabilities",
          convex=True, bounded=False, robust=True, inputs=samples.preferences(lengths=True)),
)
