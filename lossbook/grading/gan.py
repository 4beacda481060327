"""Graders for the exercises of *GAN losses and cycle consistency*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.gan import d_loss_hinge, d_loss_minimax
from lossbook.grading import Case, Report, grade


def _cases() -> list[Case]:
    real = data.randn(8, 1, seed=11, dtype=torch.float64) * 3
    fake = data.randn(8, 1, seed=12, dtype=torch.float64) * 3
    extreme = torch.tensor([-1e4, -50.0, 0.0, 50.0, 1e4])
    # no score exactly at a hinge's kink (+-1), where the derivative is not defined
    spread_real = torch.linspace(-2.75, 3.25, 7, dtype=torch.float64)
    spread_fake = torch.linspace(-2.5, 2.5, 6, dtype=torch.float64)
    return [
        Case("random scores, batches of 8", (real, fake)),
        Case("different batch sizes (8 real, 5 fake)", (real, fake[:5])),
        Case("scores on both sides of the margins", (spread_real, spread_fake)),
        Case("extreme logits ±1e4, float32", (extreme, extreme.flip(0))),
    ]


def grade_d_loss_minimax(student_fn) -> Report:
    """``student_fn(real, fake)``: mean of $-\\log D(x)$ plus mean of $-\\log(1 - D(G(z)))$."""
    return grade(student_fn, d_loss_minimax, _cases(), title="Grading d_loss_minimax(real, fake)")


def grade_d_loss_hinge(student_fn) -> Report:
    """``student_fn(real, fake)``: mean of $\\max(0, 1 - D(x))$ plus mean of
    $\\max(0, 1 + D(G(z)))$."""
    return grade(student_fn, d_loss_hinge, _cases(), title="Grading d_loss_hinge(real, fake)")
