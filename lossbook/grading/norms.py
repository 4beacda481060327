"""Graders for the exercises of *Norms and regularisation*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.norms import l2_norm, soft_threshold


def grade_soft_threshold(student_fn) -> Report:
    r"""``student_fn(x, threshold)`` must return $\mathrm{sign}(x)\max(|x| - \tau, 0)$ element-wise.

    Cases avoid $|x| = \tau$ exactly, where the derivative jumps.
    """
    x = data.randn(5, 4, seed=11, dtype=torch.float64) * 2
    x = torch.where((x.abs() - 0.5).abs() < 1e-3, x + 0.01, x)  # keep clear of the kink
    cases = [
        Case("random entries, threshold 0.5", (x, 0.5)),
        Case("threshold 0 leaves x unchanged", (x, 0.0)),
        Case("large threshold zeroes everything", (x, 100.0)),
        Case("negative entries shrink towards 0",
             (torch.tensor([-3.0, -1.2, -0.3, 0.4, 2.5], dtype=torch.float64), 1.0)),
    ]
    return grade(student_fn, soft_threshold, cases, title="Grading soft_threshold(x, threshold)")


def grade_l2_norm(student_fn) -> Report:
    r"""``student_fn(x)`` must return $\|x\|_2$ of each row (last dim), gradient 0 at a zero row."""
    rows = data.randn(4, 6, seed=12, dtype=torch.float64)
    with_zero_row = rows.clone()
    with_zero_row[1] = 0.0

    def reference(x):
        return l2_norm(x, dim=-1)

    cases = [
        Case("random rows (4 x 6)", (rows,)),
        Case("a zero row: norm 0, gradient 0 (not NaN)", (with_zero_row,)),
        Case("float32 row of large entries", (torch.full((1, 3), 1e18),)),
    ]
    return grade(student_fn, reference, cases, title="Grading l2_norm(x) along the last dim")
