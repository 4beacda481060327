"""Graders for the exercises of *Perceptual and style losses*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.perceptual import gram_matrix, total_variation


def grade_gram_matrix(student_fn) -> Report:
    """``student_fn(features)`` must return the normalised Gram matrix, (N, C, H, W) → (N, C, C)."""
    cases = [
        Case("a batch of 2, 3 channels, 4 x 5", (data.randn(2, 3, 4, 5, seed=1,
                                                          dtype=torch.float64),)),
        Case("one sample, 8 channels, 6 x 6", (data.randn(1, 8, 6, 6, seed=2,
                                                        dtype=torch.float64),)),
        Case("non-square 1 x 7 maps, 4 channels", (data.rand(3, 4, 1, 7, seed=3,
                                                            dtype=torch.float64),)),
    ]
    return grade(student_fn, gram_matrix, cases, title="Grading gram_matrix(features)")


def _tv_sum(img):
    return total_variation(img, reduction="sum")


def grade_total_variation(student_fn) -> Report:
    """``student_fn(img)`` must return the summed anisotropic TV of each (H, W) plane."""
    ramp = torch.arange(16, dtype=torch.float64).reshape(4, 4)
    cases = [
        Case("arange(16).reshape(4, 4) (60)", (ramp,)),
        Case("random images (2, 3, 5, 6)", (data.randn(2, 3, 5, 6, seed=4,
                                                     dtype=torch.float64),)),
    ]
    return grade(student_fn, _tv_sum, cases, title="Grading total_variation(img)")
