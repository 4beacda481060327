"""Graders for the exercises of *Activations and normalisation around the loss*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.normalization import batch_norm


def _standardise(x, eps=1e-5):
    return batch_norm(x, None, None, training=True, eps=eps)


def grade_batch_norm_training(student_fn) -> Report:
    """``student_fn(x, eps=1e-5)`` must standardise each column of ``x`` (N, C) with the batch
    mean and the biased batch variance, as batch normalisation does in training."""
    skewed = data.rand(64, 3, seed=5, dtype=torch.float64).pow(4) * 10
    constant = torch.cat([torch.full((5, 1), 3.0, dtype=torch.float64),
                          data.randn(5, 1, seed=6, dtype=torch.float64)], dim=1)
    cases = [
        Case("random batch (8 x 4)", (data.randn(8, 4, seed=4, dtype=torch.float64),)),
        Case("skewed features (64 x 3)", (skewed,)),
        Case("a constant feature (variance 0)", (constant,)),
        Case("two samples, eps = 0.1", (data.randn(2, 3, seed=7, dtype=torch.float64),),
             {"eps": 0.1}),
    ]
    return grade(student_fn, _standardise, cases, title="Grading batch_norm_training(x)")
