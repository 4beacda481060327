"""Graders for the exercises of *Margin losses*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.margin import multi_margin_loss


def _per_sample_multi_margin(input, target):
    return multi_margin_loss(input, target, reduction="none")


def grade_multi_margin_loss(student_fn) -> Report:
    """``student_fn(x, y)`` must return the Weston–Watkins multi-class hinge of each sample,
    $\\frac1C \\sum_{j \\ne y} \\max(0, 1 - x_y + x_j)$, for scores (N, C) and indices (N,)."""
    scores = data.randn(8, 5, seed=4, dtype=torch.float64)
    confident = torch.tensor([[4.0, 0.0, -1.0], [0.0, 3.0, 0.5]], dtype=torch.float64)
    close_calls = torch.tensor([[0.2, 0.0, 0.1, 0.15], [1.0, 1.3, 0.4, 1.2]],
                               dtype=torch.float64)
    cases = [
        Case("random scores (8 x 5)", (scores, data.randint(0, 5, (8,), seed=5))),
        Case("margins already met (loss 0)", (confident, torch.tensor([0, 1]))),
        Case("several wrong classes inside the margin", (close_calls, torch.tensor([0, 3]))),
        Case("two classes", (scores[:, :2], data.randint(0, 2, (8,), seed=6))),
    ]
    return grade(student_fn, _per_sample_multi_margin, cases,
                 title="Grading multi_margin(x, y)")
