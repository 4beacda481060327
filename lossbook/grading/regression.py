"""Graders for the exercises of *Regression losses*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.regression import huber_loss, quantile_loss


def _huber_none(input, target, delta):
    return huber_loss(input, target, reduction="none", delta=delta)


def grade_huber_loss(student_fn) -> Report:
    r"""``student_fn(input, target, delta)`` must return the element-wise Huber loss.

    $\tfrac12 d^2$ for $|d| \le \delta$ and $\delta(|d| - \tfrac12\delta)$ beyond, no reduction.
    """
    prediction = data.randn(6, 3, seed=21, dtype=torch.float64) * 3
    truth = data.randn(6, 3, seed=22, dtype=torch.float64)
    seam = torch.tensor([-2.5, -0.5, 0.0, 0.5, 2.5], dtype=torch.float64)
    cases = [
        Case("random residuals, delta = 1", (prediction, truth, 1.0)),
        Case("random residuals, delta = 0.5", (prediction, truth, 0.5)),
        Case("residuals on the seam |d| = delta = 2.5, and inside", (seam, 0 * seam, 2.5)),
        Case("residual ±1e4, float32", (torch.tensor([-1e4, 1e4]), torch.zeros(2), 1.5)),
    ]
    return grade(student_fn, _huber_none, cases, title="Grading huber(input, target, delta)")


def _pinball_none(input, target, q):
    return quantile_loss(input, target, q=q, reduction="none")


def grade_quantile_loss(student_fn) -> Report:
    r"""``student_fn(input, target, q)`` must return the element-wise pinball loss."""
    prediction = data.randn(8, seed=23, dtype=torch.float64)
    truth = data.randn(8, seed=24, dtype=torch.float64)
    cases = [
        Case("q = 0.9 (under-prediction costs more)", (prediction, truth, 0.9)),
        Case("q = 0.1", (prediction, truth, 0.1)),
        Case("q = 0.5 (half the absolute error)", (prediction, truth, 0.5)),
    ]
    return grade(student_fn, _pinball_none, cases, title="Grading pinball(input, target, q)")
