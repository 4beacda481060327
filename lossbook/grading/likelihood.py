"""Graders for the exercises of *Maximum likelihood — where losses come from*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.likelihood import gaussian_nll_loss, poisson_nll_loss


def _gaussian_reference(mean, target, var):
    return gaussian_nll_loss(mean, target, var, full=True, reduction="none")


def grade_gaussian_nll(student_fn) -> Report:
    """``student_fn(mean, target, var)`` must return $-\\log \\mathcal N(y; \\mu, \\sigma^2)$
    element-wise (the full NLL, constant included; no reduction)."""
    mean = data.randn(5, 3, seed=11, dtype=torch.float64)
    target = data.randn(5, 3, seed=12, dtype=torch.float64)
    var = data.rand(5, 3, seed=13, dtype=torch.float64) * 2 + 0.1
    cases = [
        Case("random means, targets, variances", (mean, target, var)),
        Case("one variance per row, shape (5, 1)", (mean, target, var[:, :1])),
        Case("small and large variances", (mean[0], target[0],
                                           torch.tensor([1e-3, 1.0, 1e3], dtype=torch.float64))),
        Case("perfect prediction: loss = log(2 pi var) / 2", (mean, mean.clone(), var)),
    ]
    return grade(student_fn, _gaussian_reference, cases,
                 title="Grading gaussian_nll(mean, target, var)")


def grade_poisson_nll(student_fn) -> Report:
    """``student_fn(log_rate, target)`` must return the full Poisson NLL element-wise: torch's
    ``poisson_nll_loss(log_rate, target, full=True, reduction='none')``, the Stirling term added
    only where the count exceeds 1. Gradients are checked with respect to ``log_rate``."""
    log_rate = data.randn(12, seed=14, dtype=torch.float64)
    counts = torch.poisson(torch.full((12,), 3.0, dtype=torch.float64),
                           generator=data.generator(15))
    zeros_and_ones = torch.tensor([0.0, 1.0, 0.0, 1.0, 2.0, 7.0], dtype=torch.float64)
    cases = [
        ("random log-rates and counts", log_rate, counts),
        ("counts 0 and 1 (no Stirling term)", log_rate[:6], zeros_and_ones),
        ("large counts", log_rate[:3] + 4, torch.tensor([40.0, 55.0, 80.0], dtype=torch.float64)),
    ]
    report = Report("Grading poisson_nll(log_rate, target)")
    for label, x, y in cases:

        def student(x, y=y):
            return student_fn(x, y)

        def reference(x, y=y):
            return poisson_nll_loss(x, y, full=True, reduction="none")

        report.checks += grade(student, reference, [Case(label, (x,))]).checks
    return report
