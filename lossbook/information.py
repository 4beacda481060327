"""Information-theoretic losses: entropy, cross-entropy, KL and JS divergence, BCE.

Chapter: *Entropy, cross-entropy and KL divergence* (``chapters/04_entropy_cross_entropy_kl``).

Every torch-named function here keeps the name, argument order, defaults and reduction
semantics of ``torch.nn.functional``, so the two can be swapped; the tests compare them in value
and gradient. Natural logarithms throughout (nats) unless a ``base`` is given.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from lossbook import _checks as check
from lossbook import _numerics as num
from lossbook._numerics import log1p_exp as softplus  # exact: no threshold, as torch's losses
from lossbook._numerics import log_softmax
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Entry


# --------------------------------------------------------------------------- entropy
def entropy(p: torch.Tensor, dim: int = -1, base: float | None = None) -> torch.Tensor:
    r"""Shannon entropy $H(p) = -\sum_x p(x) \log p(x)$ along ``dim``, with $0 \log 0 = 0$.

    ``p`` must already be a distribution along ``dim`` (scipy renormalises; lossbook does
    not). ``base=2`` gives bits, the default natural log gives nats.

    Reference: ``scipy.stats.entropy``; Shannon (1948), Cover & Thomas (2006) ch. 2.
    """
    check.floating("p", p)
    check.unit_interval(p=p)
    h = -torch.xlogy(p, p).sum(dim=dim)  # xlogy(0, 0) = 0: impossible outcomes add nothing
    return h / math.log(base) if base is not None else h


# --------------------------------------------------------------------------- cross-entropy
def _check_weight(weight: torch.Tensor | None, num_classes: int,
                  input: torch.Tensor | None = None) -> None:
    """One weight per class; of ``input``'s dtype when given (torch refuses others there)."""
    if weight is not None:
        check.floating("weight", weight)
        check.shape("weight", weight, (num_classes,), "one weight per class")
        if input is not None:
            check.same_dtype("weight", weight, "input", input)


def nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative log-likelihood: $\ell_i = -w_{y_i}\, x_{i, y_i}$ for log-probabilities $x$.

    ``input`` holds *log-probabilities*, shape (C,), (N, C) or (N, C, d1, ...); ``target``
    holds class indices, shape (), (N) or (N, d1, ...). Entries with
    ``target == ignore_index`` contribute nothing. ``'mean'`` is the weighted mean
    $\sum_i \ell_i / \sum_i w_{y_i}$ over the kept entries, so when every entry is ignored it
    is $0/0$ = NaN, as in torch. On raw scores instead of log-probabilities the result means
    nothing and can be negative.

    Reference: ``torch.nn.functional.nll_loss``.
    """
    check.floating("input", input)
    check.reduction(reduction)
    class_dim, keep, safe_target = _class_targets(input, target, weight, ignore_index)
    picked = input.gather(class_dim, safe_target.unsqueeze(class_dim)).squeeze(class_dim)
    return _weighted_nll(-picked, keep, safe_target, weight, reduction)


def _class_targets(input, target, weight, ignore_index):
    """Check class-index targets (and ``weight``); return the class dim, ``keep`` (not
    ignored; None when no entry is ignored) and the indices with ignored entries replaced by
    0, as int64 for ``gather``.

    One sync usually: when the targets' bounds show every entry is a class and none equals
    ``ignore_index`` (the common case), nothing needs masking; otherwise the ignored entries
    are masked and the kept ones checked (a second sync).
    """
    check.integer("target", target, dtypes=(torch.long, torch.uint8))
    class_dim = num.class_dim(input)
    num_classes = input.shape[class_dim]
    expected = input.shape[:class_dim] + input.shape[class_dim + 1:]
    check.shape("target", target, expected, "input's shape without the class dimension")
    _check_weight(weight, num_classes, input)
    span = check.bounds(target)
    if (span is not None and 0 <= span[0] and span[1] < num_classes
            and not span[0] <= ignore_index <= span[1]):
        return class_dim, None, target.long()
    keep = target != ignore_index
    safe_target = torch.where(keep, target, 0).long()  # uint8 indices, as torch allows
    check.values(check.indices_rule("target", safe_target, num_classes))
    return class_dim, keep, safe_target


def _weighted_nll(nll, keep, safe_target, weight, reduction):
    r"""Per-entry $-\log p_{y_i}$ times $w_{y_i}$, ignored entries dropped (``keep`` None:
    none is); ``'mean'`` is the weighted mean $\sum_i \ell_i / \sum_i w_{y_i}$ (NaN when
    every entry is ignored)."""
    if keep is not None:
        nll = torch.where(keep, nll, 0)  # an ignored entry costs nothing (not 0 * inf)
    if weight is not None:
        w = weight[safe_target]
        w = w if keep is None else torch.where(keep, w, 0)
        nll = w * nll
    if reduction != "mean":
        return reduce(nll, reduction)
    if weight is not None:
        return nll.sum() / w.sum()
    return reduce(nll, reduction) if keep is None else nll.sum() / keep.sum()


def _target_weights(weight, target, ignore_index, dtype):
    """``keep`` (not ignored) and each entry's weight $w_{y_i}$ (0 where ignored)."""
    keep = target != ignore_index
    if weight is None:
        return keep, keep.to(dtype)
    safe_target = torch.where(keep, target, torch.zeros_like(target))
    return keep, torch.where(keep, weight.to(dtype)[safe_target], torch.zeros((), dtype=dtype,
                                                                           device=target.device))


class _SoftmaxCrossEntropy(torch.autograd.Function):
    r"""$-\log \mathrm{softmax}(x)_y = \log\sum_c e^{x_c} - x_y$ for each entry, and its
    gradient $\hat y - y$: the softmax minus the one-hot target (this chapter's derivation).

    Forward: the log-sum-exp trick, $\log\sum_c e^{x_c - m} - (x_y - m)$ with $m = \max_c
    x_c$; the exponentials, divided by their sum, are the softmax $\hat y$, kept for the
    backward pass — which is then one multiplication and a scatter of $-1$ at the targets,
    as in torch's fused ``log_softmax`` + ``nll_loss``. Under ``create_graph=True`` the
    backward recomputes $\hat y$ from the input with autograd's ops, so second derivatives
    work too.
    """

    @staticmethod
    def forward(ctx, input, target, dim):
        shifted, m = num._subtract_max(input, dim)
        probabilities = shifted.exp_() if shifted is not input else shifted.exp()
        total = probabilities.sum(dim=dim, keepdim=True)
        picked = input.gather(dim, target.unsqueeze(dim)) - m  # x_y - m
        probabilities.div_(total)  # softmax
        ctx.save_for_backward(input, target, probabilities)
        ctx.dim = dim
        return (torch.log(total) - picked).squeeze(dim)

    @staticmethod
    def backward(ctx, grad_output):
        input, target, probabilities = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: a softmax autograd can differentiate
            probabilities = num.softmax(input, dim=ctx.dim)
        g = grad_output.unsqueeze(ctx.dim)
        grad = probabilities * g  # y-hat, times the incoming gradient
        return grad.scatter_add(ctx.dim, target.unsqueeze(ctx.dim), -g), None, None  # - y


def cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    r"""Softmax cross-entropy from *logits*: $\ell_i = -\sum_c w_c\,q_{ic} \log \hat y_{ic}$.

    Here $\hat y_i = \mathrm{softmax}(x_i)$ over the classes.

    Two kinds of ``target``, told apart as torch does (by shape):

    * **class indices** (shape of ``input`` without the class dim): $q$ is one-hot, so
      $\ell_i = -w_{y_i} \log \mathrm{softmax}(x_i)_{y_i}$ — that is
      ``nll_loss(log_softmax(input), target)``, computed in one step whose gradient is
      $\hat y - y$ (see ``_SoftmaxCrossEntropy``). ``'mean'`` divides by $\sum_i w_{y_i}$;
      ``ignore_index`` entries are skipped.
    * **class probabilities** (same shape as ``input``): $q$ is ``target``; ``'mean'`` divides
      by the number of samples, not by the weights; ``ignore_index`` is not supported. Like
      torch, lossbook does not check that the rows are distributions.

    ``label_smoothing`` $= \varepsilon \in [0, 1]$ (torch documents that range, but silently
    ignores a negative value; lossbook refuses it) mixes the target with the uniform distribution,
    $q \to (1 - \varepsilon) q + \varepsilon / C$ (Szegedy et al., 2016). With class indices and
    ``weight`` this is torch's $(1-\varepsilon)\,\mathrm{NLL} + \frac{\varepsilon}{C}
    \sum_c w_c(-\log p_c)$, normalised by the same $\sum_i w_{y_i}$.

    Reference: ``torch.nn.functional.cross_entropy``.
    """
    check.floating("input", input)
    check.tensor("target", target)
    check.reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:  # torch's documented range (it ignores a negative)
        raise check.ArgumentError(
            f"label_smoothing: expected a value in [0, 1], got {label_smoothing}")
    class_dim = num.class_dim(input)
    num_classes = input.shape[class_dim]
    if target.shape != input.shape and label_smoothing == 0.0:  # class indices: y-hat - y
        class_dim, keep, safe_target = _class_targets(input, target, weight, ignore_index)
        nll = _SoftmaxCrossEntropy.apply(input, safe_target, class_dim)
        return _weighted_nll(nll, keep, safe_target, weight, reduction)
    log_probs = log_softmax(input, dim=class_dim)

    if target.shape == input.shape:  # class probabilities
        check.floating("target", target)
        _check_weight(weight, num_classes)
        if ignore_index >= 0:
            raise check.ArgumentError("ignore_index: not supported with class-probability targets")
        q = (1 - label_smoothing) * target + label_smoothing / num_classes
        w = num.along_classes(weight, input) if weight is not None else 1.0  # dtypes promote
        per_class = -w * q * log_probs
        if reduction == "mean":
            return per_class.sum() / (input.numel() / num_classes)  # 0/0 = NaN when empty
        return reduce(per_class.sum(dim=class_dim), reduction)

    nll = nll_loss(log_probs, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return nll
    target = target.long()  # uint8 indices, as torch allows
    # The uniform part of the smoothed target, -sum_c w_c log p_c, with ignored entries
    # dropped and 'mean' normalised by the same sum of w_{y_i} as the NLL part.
    w = num.along_classes(weight.to(input.dtype), input) if weight is not None else 1.0
    keep, w_target = _target_weights(weight, target, ignore_index, input.dtype)
    uniform = torch.where(keep, -(w * log_probs).sum(dim=class_dim), torch.zeros_like(w_target))
    if reduction == "mean":
        uniform = uniform.sum() / w_target.sum()
    else:
        uniform = reduce(uniform, reduction)
    return (1 - label_smoothing) * nll + label_smoothing / num_classes * uniform


def label_smoothing(
    target: torch.Tensor, num_classes: int | None = None, epsilon: float = 0.1
) -> torch.Tensor:
    r"""Smoothed targets $(1 - \varepsilon)\,y + \varepsilon / C$ (Szegedy et al., 2016).

    ``target`` is either class indices (then ``num_classes`` is required) or one-hot /
    probability rows with classes on the last dimension. Returns float probabilities with
    classes on the last dimension, on ``target``'s device.
    """
    check.tensor("target", target)
    if not 0.0 <= epsilon <= 1.0:
        raise check.ArgumentError(f"epsilon: expected a value in [0, 1], got {epsilon}")
    if target.is_floating_point():
        probabilities = target
    else:
        if num_classes is None:
            raise check.ArgumentError("num_classes: required when target holds class indices")
        check.class_indices("target", target, num_classes)
        probabilities = F.one_hot(target, num_classes).to(torch.get_default_dtype())
    return (1 - epsilon) * probabilities + epsilon / probabilities.shape[-1]


# --------------------------------------------------------------------------- binary
class _BinaryCrossEntropy(torch.autograd.Function):
    r"""Elementwise $-[y \log x + (1 - y)\log(1 - x)]$, each log clamped at $-100$ as in
    torch, and its derivatives written out.

    Forward: the bracket is the linear interpolation between $\log(1 - x)$ and $\log x$ with
    weight $y$ (``lerp``). Backward:

    $$ \frac{\partial \ell}{\partial x} = -\frac yx + \frac{1 - y}{1 - x}
       = \frac{x - y}{x(1 - x)}, \qquad
       \frac{\partial \ell}{\partial y} = \log(1 - x) - \log x, $$

    with $x(1 - x)$ clamped at $10^{-12}$, as torch does, so that $x = 0$ or 1 (where the
    derivative is infinite) gives a large finite gradient. Written by hand so that autograd
    keeps no intermediate, as torch's fused kernel keeps none; the backward is itself
    differentiable (second derivatives work).
    """

    @staticmethod
    def forward(ctx, input, target):
        ctx.save_for_backward(input, target)
        log_x = torch.log(input).clamp_(min=-100.0)
        log_1mx = torch.log1p(-input).clamp_(min=-100.0)
        return torch.lerp(log_1mx, log_x, target).neg_()

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = (x - y) / (x * (1 - x)).clamp(min=1e-12) * grad_output
        if ctx.needs_input_grad[1]:
            grad_y = (torch.log1p(-x).clamp(min=-100.0)
                      - torch.log(x).clamp(min=-100.0)) * grad_output
        return grad_x, grad_y


def binary_cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary cross-entropy on *probabilities*: $\ell = -w\,[y \log x + (1 - y) \log(1 - x)]$.

    ``input`` and ``target`` have the same shape and lie in [0, 1] (soft targets allowed).
    Each log is clamped at $-100$ as in torch, so ``input`` of exactly 0 or 1 gives a finite
    loss (at most 100). ``weight`` rescales each element and must broadcast to ``input``; it
    multiplies the loss whatever the target is, so it cannot rebalance positives against
    negatives (``pos_weight`` of :func:`binary_cross_entropy_with_logits` does that).

    Gradient $(x - y) / (x(1 - x))$ (see ``_BinaryCrossEntropy``), torch's: at exactly 0 or
    1, where the true derivative is infinite, the denominator is clamped at $10^{-12}$ and
    the gradient is large but finite.

    Reference: ``torch.nn.functional.binary_cross_entropy``.
    """
    check.floating("input", input)
    check.floating("target", target)
    check.same_dtype("target", target, "input", input)  # torch refuses, e.g., float64 targets
    check.same_shape("input", input, "target", target)
    check.reduction(reduction)
    check.unit_interval(input=input, target=target)
    loss = _BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * _broadcast_weight("weight", weight, loss)
    return reduce(loss, reduction)


def _broadcast_weight(name: str, weight: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    check.floating(name, weight)
    try:
        return weight.to(like.dtype).expand_as(like)
    except RuntimeError:
        raise check.ArgumentError(
            f"{name}: shape {tuple(weight.shape)} does not broadcast to the input's "
            f"shape {tuple(like.shape)}"
        ) from None


class _BinaryCrossEntropyWithLogits(torch.autograd.Function):
    r"""$\ell = (1 - y)\,x + (1 + (p - 1)\,y)\,\mathrm{softplus}(-x)$ elementwise, with its
    derivatives written out.

    $\mathrm{softplus}'(t) = \sigma(t)$ and $\sigma(-x) = 1 - \sigma(x)$ give

    $$ \frac{\partial \ell}{\partial x} = \sigma(x) - y \quad (p = 1), \qquad
       \frac{\partial \ell}{\partial x} = (1 + (p - 1)\,y)\,\sigma(x) - p\,y, $$

    prediction minus target, and $\partial\ell/\partial y = -x + (p - 1)\,
    \mathrm{softplus}(-x)$, $\partial\ell/\partial p = y\,\mathrm{softplus}(-x)$. Written
    by hand so that autograd keeps no intermediate, as torch's fused kernel keeps none; the
    backward is itself differentiable (second derivatives work).
    """

    @staticmethod
    def forward(ctx, input, target, pos_weight):
        ctx.save_for_backward(input, target, pos_weight)
        loss = softplus(-input)  # log(1 + e^{-x}), never overflowing
        if pos_weight is not None:
            loss.mul_(1 + (pos_weight - 1) * target)
        return loss.addcmul_(1 - target, input)

    @staticmethod
    def backward(ctx, grad_output):
        x, y, p = ctx.saved_tensors
        needs_x, needs_y, needs_p = ctx.needs_input_grad
        grad_x = grad_y = grad_p = None
        if needs_x and p is None:
            grad_x = (torch.sigmoid(x) - y) * grad_output
        elif needs_x:
            grad_x = ((1 + (p - 1) * y) * torch.sigmoid(x) - p * y) * grad_output
        if needs_y:
            grad_y = -x if p is None else -x + (p - 1) * softplus(-x)
            grad_y = grad_y * grad_output
        if needs_p:
            grad_p = y * softplus(-x) * grad_output
        return grad_x, grad_y, grad_p


def binary_cross_entropy_with_logits(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
    pos_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Binary cross-entropy on *logits*, $x \mapsto \sigma(x)$ folded in stably.

    With $\log\sigma(x) = -\mathrm{softplus}(-x)$ and
    $\log(1-\sigma(x)) = -x - \mathrm{softplus}(-x)$,

    $$\ell = -w\,[p\,y \log \sigma(x) + (1 - y) \log(1 - \sigma(x))]
           = w\,[(1 - y)\,x + (1 + (p - 1)\,y)\,\mathrm{softplus}(-x)]$$

    where $p$ is ``pos_weight`` (broadcast along the last, class dimension; $p > 1$ raises
    recall). No $\sigma(x)$ is ever rounded to 0 or 1 and then logged, so logits of $\pm 10^4$
    give exact losses and gradients $\sigma(x) - y$ (see ``_BinaryCrossEntropyWithLogits``).

    Reference: ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """
    check.floating("input", input)
    check.floating("target", target)
    check.same_shape("input", input, "target", target)
    check.reduction(reduction)
    if pos_weight is not None:
        pos_weight = _broadcast_weight("pos_weight", pos_weight, input)
    loss = _BinaryCrossEntropyWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * _broadcast_weight("weight", weight, loss)
    return reduce(loss, reduction)


# --------------------------------------------------------------------------- divergences
def kl_div(
    input: torch.Tensor,
    target: torch.Tensor,
    reduction: str = "mean",
    log_target: bool = False,
) -> torch.Tensor:
    r"""Pointwise KL term $\ell = p\,(\log p - \log q)$ with ``input`` $= \log q$, ``target`` $= p$.

    Summed over the classes this is $\mathrm{KL}(p \,\|\, q)$ where $p$ is the **target** and
    $q$ is the distribution whose **log** is the input: ``kl_div(q.log(), p, reduction="sum")``
    is $\mathrm{KL}(p\|q)$ — the argument order is the reverse of the notation. With
    ``log_target=True`` the target is $\log p$ and $\ell = e^{\log p}(\log p - \log q)$.
    $0 \log 0 = 0$.

    ``'batchmean'`` (sum / batch size) is the mathematical KL per sample; ``'mean'`` also
    divides by the number of classes, which is rarely what is wanted. As in torch the target
    is not checked: a negative "probability" (log-probabilities passed without
    ``log_target=True``, say) gives NaN, one above 1 a number that is no divergence.

    Reference: ``torch.nn.functional.kl_div``; Kullback & Leibler (1951).
    """
    check.floating("input", input)
    check.floating("target", target)
    check.same_shape("input", input, "target", target)
    check.reduction(reduction, check.REDUCTIONS + ("batchmean",))
    if log_target:
        loss = torch.exp(target) * (target - input)
    else:
        loss = torch.xlogy(target, target) - target * input
    return reduce(loss, reduction, check.REDUCTIONS + ("batchmean",))


def js_divergence(
    p: torch.Tensor, q: torch.Tensor, *, dim: int = -1, base: float | None = None
) -> torch.Tensor:
    r"""Jensen–Shannon divergence $\tfrac12 \mathrm{KL}(p\|m) + \tfrac12 \mathrm{KL}(q\|m)$.

    Here $m = \tfrac12(p + q)$ is the average of the two distributions.

    Symmetric, always finite, and at most $\log 2$ (1 bit with ``base=2``), reached for
    disjoint supports. Its square root is a metric; ``scipy.spatial.distance.jensenshannon``
    returns that square root (the JS *distance*), so
    ``js_divergence(p, q) == jensenshannon(p, q) ** 2``. Reduces over ``dim`` only.

    Each term is $p_i \log(p_i / m_i)$, 0 where $p_i = 0$, and passes gradient 0 there: the
    gradient stays finite where the derivative is infinite ($p_i = 0 < q_i$) and where a bin
    is empty in both (``xlogy`` would give $-\infty + \infty$ = NaN and spoil the whole
    gradient).

    Reference: Lin (1991); ``scipy.spatial.distance.jensenshannon``.
    """
    check.floating("p", p)
    check.floating("q", q)
    check.same_shape("p", p, "q", q)
    check.unit_interval(p=p, q=q)
    m = (p + q) / 2
    js = (_x_log_ratio(p, m).sum(dim=dim) + _x_log_ratio(q, m).sum(dim=dim)) / 2
    return js / math.log(base) if base is not None else js


def _x_log_ratio(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """$x \\log(x / m)$, 0 where $x = 0$ with gradient 0 there (double ``where``); NaN stays."""
    zero = x == 0
    safe_ratio = torch.where(zero, 1.0, x) / torch.where(zero, 1.0, m)
    return torch.where(zero, 0.0, x * torch.log(safe_ratio))


# --------------------------------------------------------------------------- 0-1 loss
def zero_one_loss(
    input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""0-1 loss $\mathbb{1}[\hat y \ne y]$: 1 for a mistake, 0 otherwise.

    * ``input`` of logits (C,), (N, C), ... with class-index ``target``: $\hat y = \arg\max_c x_c$.
    * ``input`` of real scores with ``target`` in $\{-1, +1\}$ of the same shape: a mistake is a
      margin $y\,x \le 0$ (a score of exactly 0 counts as a mistake).

    The loss is piecewise constant, so its gradient is zero wherever it exists and it cannot
    train a model by gradient descent; the result carries no autograd graph. A NaN score
    gives NaN for its sample (it is neither a hit nor a mistake). Surrogates
    (cross-entropy, hinge, logistic, exponential) replace it in training.
    """
    check.tensor("input", input)
    check.tensor("target", target)
    check.reduction(reduction)
    dtype = input.dtype if input.is_floating_point() else torch.get_default_dtype()
    if target.shape == input.shape:
        check.values_in("target", target, (-1, 1))
        mistakes, unknown = input * target <= 0, torch.isnan(input)
    else:
        check.integer("target", target)
        class_dim = num.class_dim(input)
        expected = input.shape[:class_dim] + input.shape[class_dim + 1:]
        check.shape("target", target, expected, "input's shape without the class dimension")
        check.class_indices("target", target, input.shape[class_dim])  # as cross_entropy does
        best = input.argmax(dim=class_dim, keepdim=True)  # argmax points at a NaN if any
        mistakes = best.squeeze(class_dim) != target
        unknown = torch.isnan(input.gather(class_dim, best)).squeeze(class_dim)
    loss = mistakes.detach().to(dtype)  # a NaN score is neither right nor wrong: NaN
    return reduce(torch.where(unknown, math.nan, loss), reduction)


CATALOG = (
    Entry(cross_entropy, chapter="04_entropy_cross_entropy_kl", task="multi-class classification",
          summary=r"$-\sum_c q_c \log \mathrm{softmax}(x)_c$",
          reference="torch.nn.functional.cross_entropy", input_kind="logits",
          convex=True, bounded=False, robust=True,
          inputs=sample("logits", "classes")),
    Entry(nll_loss, chapter="04_entropy_cross_entropy_kl", task="multi-class classification",
          summary=r"$-x_{y}$ for log-probabilities $x$",
          reference="torch.nn.functional.nll_loss", input_kind="log-probabilities",
          convex=True, bounded=False, robust=True,
          inputs=sample("log_probabilities", "classes")),
    Entry(binary_cross_entropy, chapter="04_entropy_cross_entropy_kl",
          task="binary / multi-label classification",
          summary=r"$-[y \log p + (1-y) \log(1-p)]$",
          reference="torch.nn.functional.binary_cross_entropy", input_kind="probabilities",
          convex=True, bounded=False, robust=False,
          inputs=sample("probabilities", "probabilities")),
    Entry(binary_cross_entropy_with_logits, chapter="04_entropy_cross_entropy_kl",
          task="binary / multi-label classification",
          summary=r"$(1-y)x + \mathrm{softplus}(-x)$",
          reference="torch.nn.functional.binary_cross_entropy_with_logits", input_kind="logits",
          convex=True, bounded=False, robust=True,
          inputs=sample("logits", "probabilities")),
    Entry(kl_div, chapter="04_entropy_cross_entropy_kl", task="distribution matching",
          summary=r"$\sum p (\log p - \log q)$, input $\log q$",
          reference="torch.nn.functional.kl_div", input_kind="log-probabilities",
          convex=True, bounded=False, robust=True,
          inputs=sample("log_probabilities", "distributions", reduction="batchmean")),
    Entry(js_divergence, chapter="04_entropy_cross_entropy_kl", task="distribution matching",
          summary=r"$\frac12 \mathrm{KL}(p \Vert m) + \frac12 \mathrm{KL}(q \Vert m)$",
          reference="scipy.spatial.distance.jensenshannon", input_kind="probabilities",
          convex=True, bounded=True, robust=False,
          inputs=sample("distributions", "distributions")),
    Entry(zero_one_loss, chapter="04_entropy_cross_entropy_kl", task="classification (evaluation)",
          summary=r"$\mathbb{1}[\hat y \neq y]$", reference=None, input_kind="logits or scores",
          convex=False, bounded=True, robust=True,
          inputs=sample("logits", "classes")),
)
