"""Graders for the exercises of *Entropy, cross-entropy and KL divergence*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.information import binary_cross_entropy_with_logits, entropy


def grade_entropy(student_fn) -> Report:
    """``student_fn(p)`` must return $H(p)$ in nats along the last dim, with $0 \\log 0 = 0$."""
    one_hot = torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], dtype=torch.float64)
    cases = [
        Case("random distributions (4 x 5)",
             (data.probabilities(4, 5, seed=1, dtype=torch.float64),)),
        Case("uniform over 8 outcomes", (torch.full((8,), 1 / 8, dtype=torch.float64),)),
        Case("zero probabilities (0 log 0 = 0)", (one_hot,)),
    ]
    # The derivative of -p log p is infinite at p = 0, so gradients are checked where p > 0.
    value_only = [cases[2]]
    report = grade(student_fn, entropy, cases[:2], title="Grading entropy(p)")
    report.checks += grade(student_fn, entropy, value_only, check_gradients=False).checks
    return report


def _bce_reference(input, target):
    return binary_cross_entropy_with_logits(input, target, reduction="none")


def grade_binary_cross_entropy_with_logits(student_fn) -> Report:
    """``student_fn(x, y)`` must return the element-wise BCE of logits ``x`` (no reduction)."""
    logits = data.randn(6, 3, seed=2, dtype=torch.float64) * 3
    soft = data.rand(6, 3, seed=3, dtype=torch.float64)
    extreme = torch.tensor([-1e4, -50.0, 0.0, 50.0, 1e4])
    cases = [
        Case("random logits, hard targets", (logits, (soft > 0.5).double())),
        Case("random logits, soft targets", (logits, soft)),
        Case("extreme logits ±1e4, float32", (extreme, torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0]))),
    ]
    return grade(student_fn, _bce_reference, cases,
                 title="Grading binary_cross_entropy_with_logits(x, y)")
