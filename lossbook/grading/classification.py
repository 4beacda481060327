"""Graders for the exercises of *Classification losses beyond plain cross-entropy*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.classification import class_balanced_weights, sigmoid_focal_loss
from lossbook.grading import Case, Report, grade


def _focal_reference(inputs, targets, alpha, gamma):
    return sigmoid_focal_loss(inputs, targets, alpha=alpha, gamma=gamma, reduction="none")


def grade_sigmoid_focal_loss(student_fn) -> Report:
    """``student_fn(inputs, targets, alpha, gamma)`` must return the element-wise sigmoid focal
    loss of logits ``inputs`` (torchvision's definition, no reduction; ``alpha < 0`` means no
    $\\alpha_t$)."""
    logits = data.randn(6, 4, seed=4, dtype=torch.float64) * 3
    hard = (data.rand(6, 4, seed=5, dtype=torch.float64) > 0.7).double()
    soft = data.rand(6, 4, seed=6, dtype=torch.float64)
    extreme = torch.tensor([-1e4, -1e4, -30.0, 0.0, 30.0, 1e4, 1e4])
    extreme_targets = torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    cases = [
        Case("random logits, alpha = 0.25, gamma = 2", (logits, hard, 0.25, 2.0)),
        Case("alpha = -1, gamma = 0 (plain BCE)", (logits, hard, -1.0, 0.0)),
        Case("alpha = 0.75, gamma = 5, soft targets", (logits, soft, 0.75, 5.0)),
        Case("extreme logits ±1e4, float32", (extreme, extreme_targets, 0.25, 2.0)),
    ]
    return grade(student_fn, _focal_reference, cases,
                 title="Grading sigmoid_focal_loss(inputs, targets, alpha, gamma)")


def grade_effective_number_weights(student_fn) -> Report:
    """``student_fn(counts, beta)`` must return the class-balanced weights of Cui et al. (2019),
    $(1 - \\beta)/(1 - \\beta^{n_c})$ normalised to sum to the number of classes."""
    counts = torch.tensor([5000, 500, 50, 5])
    cases = [
        Case("counts 5000/500/50/5, beta = 0.99", (counts, 0.99)),
        Case("counts 5000/500/50/5, beta = 0.9999", (counts, 0.9999)),
        Case("one class of 1 and one of 1000, beta = 0.5", (torch.tensor([1, 1000]), 0.5)),
    ]
    return grade(student_fn, class_balanced_weights, cases, check_gradients=False,
                 title="Grading effective-number class weights(counts, beta)")
