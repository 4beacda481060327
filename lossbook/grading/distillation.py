"""Graders for the exercises of *Knowledge distillation*."""

from __future__ import annotations

import math

import torch

from lossbook import data
from lossbook import distillation as kd
from lossbook.grading import Case, Report, grade


def _soft_target_reference(student_logits, teacher_logits, temperature):
    return kd.soft_target_loss(student_logits, teacher_logits, temperature=temperature,
                               reduction="none")


def grade_soft_target_loss(student_fn) -> Report:
    """``student_fn(s, t, temperature)`` must return $T^2\\,\\mathrm{KL}(p\\,\\|\\,q)$ per sample.

    $p = \\mathrm{softmax}(t / T)$, $q = \\mathrm{softmax}(s / T)$ over the last dimension of
    (N, C) logits; the result has shape (N,). Checked in value and in gradient (for both the
    student's and the teacher's logits) on random logits at several temperatures, on logits of
    $\\pm 10^3$ in float32 (a plain ``exp`` overflows), and on a class the teacher rules out
    (logit $-\\infty$, where $0 \\log 0 = 0$). lossbook's own implementation, or a function
    that calls it (``distillation_loss`` too), scores nothing (the engine refuses it).
    """
    title = "Grading soft_target_loss(s, t, temperature)"
    s = data.randn(6, 5, seed=11, dtype=torch.float64) * 3
    t = data.randn(6, 5, seed=12, dtype=torch.float64) * 3
    extreme_s = torch.tensor([[1e3, -1e3, 0.0], [0.0, 0.0, 0.0]])
    extreme_t = torch.tensor([[-1e3, 1e3, 0.0], [5.0, -5.0, 0.0]])
    masked_t = t.clone()
    masked_t[:, 4] = -math.inf
    cases = [
        Case("random logits, T = 4", (s, t), {"temperature": 4.0}),
        Case("random logits, T = 1 (plain KL)", (s, t), {"temperature": 1.0}),
        Case("random logits, T = 0.5 (sharper)", (s, t), {"temperature": 0.5}),
        Case("random logits, T = 100 (near the logit-matching limit)", (s, t),
             {"temperature": 100.0}),
        Case("student equals teacher (loss 0)", (t, t.clone()), {"temperature": 3.0}),
        Case("logits ±1e3 in float32, T = 1", (extreme_s, extreme_t), {"temperature": 1.0}),
        Case("teacher rules out a class (logit -inf), T = 2", (s, masked_t),
             {"temperature": 2.0}),
    ]
    # distillation_loss with alpha = 1 is the soft-target loss too: refused as well
    return grade(student_fn, _soft_target_reference, cases, title=title,
                 also_refuse=(kd.distillation_loss,))
