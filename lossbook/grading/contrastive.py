"""Graders for the exercises of *Contrastive representation learning*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.contrastive import siglip_loss
from lossbook.grading import Case, Report, grade


def _siglip_reference(image_features, text_features, logit_scale, logit_bias):
    return siglip_loss(image_features, text_features, logit_scale=logit_scale,
                       logit_bias=logit_bias)


def grade_siglip_loss(student_fn) -> Report:
    """``student_fn(x, y, t, b)`` must return SigLIP's loss of the batch,
    $\\frac1N \\sum_{i,j} -\\log \\sigma(z_{ij}(t\\, \\hat x_i \\cdot \\hat y_j + b))$ with
    unit rows $\\hat x_i, \\hat y_j$, $z_{ii} = 1$ and $z_{ij} = -1$ for $i \\ne j$."""
    title = "Grading siglip(x, y, t, b)"
    x = data.randn(6, 4, seed=11, dtype=torch.float64)
    y = x + 0.7 * data.randn(6, 4, seed=12, dtype=torch.float64)
    scales = torch.tensor([[100.0], [0.01], [3.0], [1.0], [1e3], [0.5]], dtype=torch.float64)
    t, b = torch.tensor(10.0, dtype=torch.float64), torch.tensor(-10.0, dtype=torch.float64)
    cases = [
        Case("6 pairs, t = 10, b = -10 (SigLIP's initialisation)", (x, y, 10.0, -10.0)),
        Case("6 pairs, t = 1, b = 0", (x, y, 1.0, 0.0)),
        Case("rows of very different lengths (normalise them)", (x * scales, y, 5.0, -2.0)),
        Case("a batch of one pair (no negatives)", (x[:1], y[:1], 10.0, -10.0)),
        Case("huge logits, t = 1e4 (no overflow)", (x, y, 1e4, -5e3)),
        Case("learned t and b: gradients reach them", (x, y, t, b)),
        Case("float32 features", (x.float(), y.float(), 10.0, -10.0)),
    ]
    return grade(student_fn, _siglip_reference, cases, title=title)
