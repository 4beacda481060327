"""Knowledge distillation: a student learns from a teacher's temperature-softened outputs.

Chapter: *Knowledge distillation* (``chapters/05c_knowledge_distillation``).

Notation throughout: student logits $s$ and teacher logits $t$ of the same shape (C,),
(N, C) or (N, C, d1, ...) with the classes on torch's class dimension; temperature $T > 0$;
softened distributions $q = \\mathrm{softmax}(s / T)$ (student) and $p = \\mathrm{softmax}(t / T)$
(teacher). Natural logarithms. Every loss is differentiable in both sets of logits and
detaches nothing: pass the teacher's logits computed under ``torch.no_grad()`` (or detached),
as a training loop does, so that no gradient reaches the teacher.

* :func:`soft_target_loss` — $T^2\\,\\mathrm{KL}(p \\,\\|\\, q)$, the soft term of Hinton et al.;
* :func:`distillation_loss` — Hinton et al.'s objective, the soft term mixed with the
  hard-label cross-entropy;
* :func:`logit_matching_loss` — the high-temperature limit of the soft term: the squared
  difference of the *centred* logits, divided by $2C$.

The torch composition the tests use as reference is
``T**2 * F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(t / T, 1), log_target=True,
reduction="batchmean")``.
"""

from __future__ import annotations

import math

import torch

from lossbook import _checks as check
from lossbook import _numerics as num
from lossbook._numerics import log_softmax
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Entry
from lossbook.information import cross_entropy


def _check_logits(student_logits, teacher_logits, reduction: str) -> None:
    check.floating("student_logits", student_logits)
    check.floating("teacher_logits", teacher_logits)
    check.same_shape("student_logits", student_logits, "teacher_logits", teacher_logits)
    check.reduction(reduction)


def _check_temperature(temperature) -> None:
    ok = (isinstance(temperature, (int, float)) and not isinstance(temperature, bool)
          and math.isfinite(temperature) and temperature > 0)
    check.number("temperature", temperature, ok, "a positive finite number")


def _soft_term(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
               temperature: float) -> torch.Tensor:
    r"""$T^2 \sum_c p_c (\log p_c - \log q_c)$ at every position, in float32 for half inputs."""
    dim = num.class_dim(student_logits)
    log_q = log_softmax(num.widened(student_logits) / temperature, dim)  # log-sum-exp inside
    log_p = log_softmax(num.widened(teacher_logits) / temperature, dim)
    p = torch.exp(log_p)
    # 0 log 0 = 0: a class the teacher rules out (p = 0) adds nothing. The inner where keeps
    # log_p - log_q = -inf - (-inf) out of the product, so its gradient is 0, not NaN.
    gap = torch.where(p > 0, log_p - log_q, torch.zeros_like(log_p))
    return temperature**2 * (p * gap).sum(dim=dim)


def soft_target_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    *,
    temperature: float = 4.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Hinton et al.'s soft-target term $T^2\,\mathrm{KL}(p \,\|\, q)$ at temperature $T$.

    $p = \mathrm{softmax}(t / T)$ (teacher), $q = \mathrm{softmax}(s / T)$ (student), KL summed
    over the classes:

    $$ \ell = T^2 \sum_c p_c\,(\log p_c - \log q_c), \qquad
       \frac{\partial \ell}{\partial s_c} = T\,(q_c - p_c). $$

    Without the factor $T^2$ the gradient would be $(q - p)/T$, which for large $T$ is
    $\approx (\tilde s - \tilde t) / (C T^2)$ (centred logits): it fades as $1/T^2$. With it, the
    loss tends to :func:`logit_matching_loss` as $T \to \infty$. The paper writes the soft term
    as the cross-entropy $-\sum_c p_c \log q_c$; that differs from the KL by the teacher's
    entropy, a constant for the student, so the gradients agree and the KL is 0 at a match.

    Precision: at large $T$ both log-probabilities are close to $-\log C$ and their difference
    is small, so in float32 the *value* carries a relative error of roughly $T^2\varepsilon$
    (as torch's composition does); the gradient $T (q - p)$ only about $T\varepsilon$.

    ``reduction``: ``'none'`` gives one value per sample (per position for (N, C, d1, ...)),
    ``'mean'`` their mean — the KL per sample, which ``torch.nn.functional.kl_div`` calls
    ``'batchmean'`` (its own ``'mean'`` also divides by C) — and ``'sum'`` their sum.

    Reference: ``T**2 * torch.nn.functional.kl_div(log_softmax(s / T), log_softmax(t / T),
    log_target=True, reduction="batchmean")``; Hinton, Vinyals & Dean (2015), section 2.
    """
    _check_logits(student_logits, teacher_logits, reduction)
    _check_temperature(temperature)
    loss = _soft_term(student_logits, teacher_logits, temperature)
    return reduce(loss, reduction).to(student_logits.dtype)


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    target: torch.Tensor,
    *,
    temperature: float = 4.0,
    alpha: float = 0.9,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Distillation: $\alpha T^2\,\mathrm{KL}(p \,\|\, q) + (1 - \alpha)\,\mathrm{CE}(s, y)$.

    The weight $\alpha$ goes on the **soft** term (:func:`soft_target_loss`, the teacher's
    distribution $p = \mathrm{softmax}(t / T)$ against the student's $q = \mathrm{softmax}(s / T)$),
    $1 - \alpha$ on the **hard** term, the ordinary cross-entropy of the student's logits at
    temperature 1 with the true class indices ``target``. The paper takes a weighted average of
    the two and finds a considerably lower weight on the hard term works best (hence the
    default $\alpha = 0.9$); $\alpha = 0$ is plain cross-entropy, $\alpha = 1$ pure
    distillation. The $T^2$ keeps the soft term's gradient, $\alpha T (q - p)$, on the scale of
    the hard term's, $(1 - \alpha)(\mathrm{softmax}(s) - y)$, whatever the temperature.

    ``target`` holds class indices with the shape of ``student_logits`` without its class
    dimension. ``reduction`` as in :func:`soft_target_loss`: ``'mean'`` averages the per-sample
    losses (KL summed over the classes, i.e. ``kl_div``'s ``'batchmean'``).

    Reference: ``alpha * T**2 * kl_div(log_softmax(s / T), log_softmax(t / T),
    log_target=True, reduction="batchmean") + (1 - alpha) * cross_entropy(s, y)`` in
    ``torch.nn.functional``; Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural
    Network" (2015).
    """
    _check_logits(student_logits, teacher_logits, reduction)
    _check_temperature(temperature)
    ok = isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and 0 <= alpha <= 1
    check.number("alpha", alpha, ok, "a weight in [0, 1]")
    check.integer("target", target)
    dim = num.class_dim(student_logits)
    expected = student_logits.shape[:dim] + student_logits.shape[dim + 1:]
    check.shape("target", target, expected, "student_logits' shape without the class dimension")
    soft = _soft_term(student_logits, teacher_logits, temperature)
    hard = cross_entropy(num.widened(student_logits), target, reduction="none")
    return reduce(alpha * soft + (1 - alpha) * hard, reduction).to(student_logits.dtype)


def logit_matching_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Squared difference of centred logits, $\frac{1}{2C} \lVert \tilde s - \tilde t \rVert^2$.

    $\tilde s = s - \bar s$ subtracts the mean over the C classes (likewise $\tilde t$), so
    adding a constant to a sample's logits — which leaves its softmax unchanged — leaves the
    loss unchanged too. This is the limit of :func:`soft_target_loss` as $T \to \infty$:
    expanding $e^{x/T} \approx 1 + x / T$ gives
    $T^2\,\mathrm{KL}(p \,\|\, q) = \frac{1}{2C}\lVert \tilde s - \tilde t\rVert^2 + O(1/T)$, the
    "matching logits" special case of distillation (Hinton et al., 2015, section 2.1), which
    Ba & Caruana (2014) used with uncentred logits.

    ``reduction``: ``'none'`` one value per sample (per position), ``'mean'`` their mean,
    ``'sum'`` their sum. With ``'mean'`` on (N, C) logits this is half of
    ``torch.nn.functional.mse_loss`` of the centred logits.

    Reference: ``0.5 * torch.nn.functional.mse_loss(s - s.mean(1, keepdim=True),
    t - t.mean(1, keepdim=True))``; Hinton, Vinyals & Dean (2015), eq. 4.
    """
    _check_logits(student_logits, teacher_logits, reduction)
    dim = num.class_dim(student_logits)
    difference = num.widened(student_logits) - num.widened(teacher_logits)
    centred = difference - difference.mean(dim=dim, keepdim=True)  # (s - s̄) - (t - t̄)
    loss = centred.square().sum(dim=dim) / (2 * student_logits.shape[dim])
    return reduce(loss, reduction).to(student_logits.dtype)


# --------------------------------------------------------------------------- catalog
_CHAPTER = "05c_knowledge_distillation"
CATALOG = (
    Entry(distillation_loss, chapter=_CHAPTER, task="knowledge distillation (classification)",
          summary=r"$\alpha T^2 \mathrm{KL}(\mathrm{softmax}(t/T) \Vert \mathrm{softmax}(s/T))"
                  r" + (1-\alpha)\,\mathrm{CE}(s, y)$",
          reference=None, input_kind="student and teacher logits, class indices",
          convex=True, bounded=False, robust=True,
          inputs=sample("logits", "logits", "classes", temperature=3.0, alpha=0.7)),
    Entry(soft_target_loss, chapter=_CHAPTER, task="knowledge distillation (classification)",
          summary=r"$T^2 \mathrm{KL}(\mathrm{softmax}(t/T) \Vert \mathrm{softmax}(s/T))$",
          reference=None, input_kind="student and teacher logits",
          convex=True, bounded=False, robust=True,
          inputs=sample("logits", "logits", temperature=3.0)),
    Entry(logit_matching_loss, chapter=_CHAPTER, task="knowledge distillation (logit regression)",
          summary=r"$\frac{1}{2C} \Vert (s - \bar s) - (t - \bar t) \Vert^2$",
          reference=None, input_kind="student and teacher logits",
          convex=True, bounded=False, robust=False, inputs=sample("logits", "logits")),
)
