"""Graders for the exercises of *Embedding losses*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.embedding import triplet_margin_loss
from lossbook.grading import Case, Report, grade


def _per_triplet(anchor, positive, negative, margin=1.0):
    return triplet_margin_loss(anchor, positive, negative, margin=margin, reduction="none")


def grade_triplet_loss(student_fn) -> Report:
    """``student_fn(a, p, n, margin)`` must return $\\max(0, d(a, p) - d(a, n) + m)$ for each
    row, with torch's distance $d(x, y) = \\lVert x - y + 10^{-6} \\rVert_2$."""
    a, p, n = (data.randn(6, 4, seed=seed, dtype=torch.float64) for seed in (7, 8, 9))
    far = n * 10
    cases = [
        Case("random triplets, margin 1", (a, p, n, 1.0)),
        Case("random triplets, margin 0.2", (a, p, n, 0.2)),
        Case("easy triplets (loss 0)", (a, a + 0.01 * p, far, 1.0)),
        Case("positive equal to the anchor (finite gradient)", (a, a.clone(), n, 10.0)),
    ]
    return grade(student_fn, _per_triplet, cases, title="Grading triplet_loss(a, p, n, margin)")
