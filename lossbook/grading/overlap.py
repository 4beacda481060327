"""Graders for the exercises of *Detection and segmentation losses*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.overlap import dice_loss, generalized_box_iou_loss


def _giou_reference(boxes1, boxes2):
    return generalized_box_iou_loss(boxes1, boxes2, reduction="none")


def grade_generalized_box_iou_loss(student_fn) -> Report:
    """``student_fn(boxes1, boxes2)`` must return the GIoU loss of each pair (no reduction).

    The cases avoid boxes that touch exactly, where the gradient depends on a convention.
    """
    corners = data.rand(6, 2, seed=11, dtype=torch.float64) * 8
    sizes = data.rand(6, 2, seed=12, dtype=torch.float64) * 4 + 0.5
    random_pairs = (torch.cat([corners, corners + sizes], 1),
                    torch.cat([corners.flip(0), corners.flip(0) + sizes], 1))
    disjoint = (torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 1.0]], dtype=torch.float64),
                torch.tensor([[2.0, 3.0, 4.0, 4.0], [5.0, 0.5, 6.0, 3.0]], dtype=torch.float64))
    nested = (torch.tensor([[1.0, 1.0, 2.0, 2.5]], dtype=torch.float64),
              torch.tensor([[0.0, 0.0, 4.0, 4.0]], dtype=torch.float64))
    cases = [
        Case("random pairs of boxes", random_pairs),
        Case("disjoint boxes (IoU = 0)", disjoint),
        Case("one box inside the other", nested),
        Case("the known value 68/63", (torch.tensor([0.0, 0.0, 2.0, 2.0]),
                                       torch.tensor([1.0, 1.0, 3.0, 3.0]))),
    ]
    return grade(student_fn, _giou_reference, cases,
                 title="Grading generalized_box_iou_loss(boxes1, boxes2)")


def _dice_reference(input, target, smooth=1.0):
    return dice_loss(input, target, smooth=smooth, reduction="none")


def grade_dice_loss(student_fn) -> Report:
    """``student_fn(p, y, smooth=1.0)`` must return the soft Dice loss per sample and class."""
    binary = data.rand(3, 1, 6, 6, seed=21, dtype=torch.float64)
    binary_target = (data.rand(3, 1, 6, 6, seed=22, dtype=torch.float64) > 0.7).double()
    labels = data.randint(0, 3, (2, 5, 5), seed=23)
    probabilities = data.probabilities(2, 3, 5, 5, seed=24, dim=1, dtype=torch.float64)
    one_hot = torch.nn.functional.one_hot(labels, 3).permute(0, 3, 1, 2).double()
    empty = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    cases = [
        Case("binary masks (N, 1, H, W)", (binary, binary_target)),
        Case("three classes, one-hot target", (probabilities, one_hot)),
        Case("larger smoothing s = 10", (binary, binary_target), {"smooth": 10.0}),
        Case("empty target, empty prediction", (empty, empty)),
    ]
    return grade(student_fn, _dice_reference, cases, title="Grading dice_loss(p, y, smooth)")
