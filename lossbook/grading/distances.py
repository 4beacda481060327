"""Graders for the exercises of *Distances and divergences*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.distances import mmd, wasserstein_1d
from lossbook.grading import Case, Report, grade


def _wasserstein_reference(u, v, p):
    return wasserstein_1d(u, v, p=p)


def grade_wasserstein_sorted(student_fn) -> Report:
    """``student_fn(u, v, p)`` must return $W_p$ between two equal-size 1-D samples (n,)."""
    u = data.randn(9, seed=1, dtype=torch.float64)
    v = data.randn(9, seed=2, dtype=torch.float64) * 2 + 1
    shifted = torch.linspace(0, 1, 6, dtype=torch.float64)
    cases = [
        Case("random samples, p = 1", (u, v, 1.0)),
        Case("random samples, p = 2", (u, v, 2.0)),
        Case("random samples, p = 3.5", (v, u, 3.5)),
        Case("shuffled copy plus 0.5 (W = 0.5)", (shifted, shifted.flip(0) + 0.5, 2.0)),
    ]
    return grade(student_fn, _wasserstein_reference, cases,
                 title="Grading wasserstein_sorted(u, v, p)")


def _mmd_reference(x, y, bandwidth):
    return mmd(x, y, kernel="gaussian", bandwidth=bandwidth, unbiased=True)


def grade_mmd_unbiased(student_fn) -> Report:
    """``student_fn(x, y, bandwidth)``: the unbiased MMD² with a Gaussian kernel, x (n, d)."""
    x = data.randn(6, 2, seed=3, dtype=torch.float64)
    y = data.randn(8, 2, seed=4, dtype=torch.float64) + 0.5
    cases = [
        Case("6 vs 8 samples in 2-D, bandwidth 1", (x, y, 1.0)),
        Case("same, bandwidth 0.5", (x, y, 0.5)),
        Case("a sample against itself (the estimate is negative)", (x, x.clone(), 1.0)),
        Case("3 vs 2 samples in 4-D", (data.randn(3, 4, seed=5, dtype=torch.float64),
                                      data.randn(2, 4, seed=6, dtype=torch.float64), 2.0)),
    ]
    return grade(student_fn, _mmd_reference, cases,
                 title="Grading mmd_unbiased(x, y, bandwidth)")
