"""Graders for the exercises of *Calibration and proper scoring rules*.

Each grader first makes sure the answer is the student's own: lossbook's function handed in
as it is, or a function that calls it, scores 0 with the line "implement it yourself".
"""

from __future__ import annotations

import types

import torch

from lossbook import data
from lossbook.calibration import expected_calibration_error, spherical_score_loss
from lossbook.grading import Case, Report, grade


def _names_used(code: types.CodeType) -> set[str]:
    """Every global or attribute name a function's code (and code nested in it) refers to."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_used(constant)
    return names


def _borrowed(student_fn, own) -> bool:
    """True if ``student_fn`` is lossbook's ``own``, shares its code, or calls it by name."""
    if student_fn is own:
        return True
    code = getattr(student_fn, "__code__", None)
    if code is None:  # a builtin or a callable object: not a function the student wrote
        return True
    return code is own.__code__ or own.__name__ in _names_used(code)


def _refusal(title: str, student_fn, own) -> Report | None:
    """A failing report if the answer is lossbook's own function, else None."""
    if not _borrowed(student_fn, own):
        return None
    return Report(title, [(False, f"your function must not be or call lossbook's "
                                  f"{own.__name__} — implement it yourself")])


def _spherical_reference(probs, target):
    return spherical_score_loss(probs, target, reduction="none")


def grade_spherical_score_loss(student_fn) -> Report:
    """``student_fn(probs, target)`` must return $1 - p_y / \\lVert p \\rVert_2$ per row of the
    (N, C) probabilities ``probs``, for class indices ``target`` (N,), without reduction."""
    title = "Grading spherical_score_loss(probs, target)"
    refused = _refusal(title, student_fn, spherical_score_loss)
    if refused:
        return refused
    probs = data.probabilities(5, 4, seed=11, dtype=torch.float64)
    target = data.randint(0, 4, (5,), seed=12)
    certain = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=torch.float64)
    peaked = torch.softmax(torch.tensor([[30.0, 0.0, 0.0, -5.0]], dtype=torch.float64), 1)
    cases = [
        Case("random probabilities (5 x 4)", (probs, target)),
        Case("uniform forecast (loss 1 - 1/sqrt(C))",
             (torch.full((3, 6), 1 / 6, dtype=torch.float64), torch.tensor([0, 3, 5]))),
        Case("certain and right (0), certain and wrong (1)", (certain, torch.tensor([0, 2]))),
        Case("nearly certain, float32", (peaked.float(), torch.tensor([0]))),
    ]
    return grade(student_fn, _spherical_reference, cases, title=title)


def _ece_reference(probs, target, n_bins):
    return expected_calibration_error(probs, target, n_bins=n_bins)


def grade_expected_calibration_error(student_fn) -> Report:
    """``student_fn(probs, target, n_bins)`` must return the top-label ECE with ``n_bins``
    equal-width bins $(a, b]$ (the first one closed) of (N, C) probabilities ``probs``.

    Values only: the ECE is piecewise constant in which bin a prediction falls, so its
    gradient is not what anyone trains with, and it is not graded.
    """
    title = "Grading expected_calibration_error(probs, target, n_bins)"
    refused = _refusal(title, student_fn, expected_calibration_error)
    if refused:
        return refused
    logits = data.randn(200, 5, seed=13, dtype=torch.float64) * 3
    probs = torch.softmax(logits, dim=1)
    target = torch.where(data.rand(200, seed=14) < 0.7, logits.argmax(1),
                         data.randint(0, 5, (200,), seed=15))
    # Confidences 0.5, 0.75 and 1 sit exactly on edges of 4 bins: each belongs to the bin
    # below its edge (bins are (a, b]).
    on_edges = torch.tensor([[0.5, 0.3, 0.2], [0.2, 0.625, 0.175], [0.25, 0.25, 0.5],
                             [0.75, 0.125, 0.125], [0.0, 1.0, 0.0]], dtype=torch.float64)
    cases = [
        Case("random probabilities, 15 bins", (probs, target, 15)),
        Case("one bin (|accuracy - mean confidence|)", (probs, target, 1)),
        Case("many bins, most of them empty", (probs[:20], target[:20], 100)),
        Case("confidences exactly on bin edges, 4 bins",
             (on_edges, torch.tensor([0, 0, 2, 1, 1]), 4)),
        Case("float32 probabilities, 10 bins", (probs.float(), target, 10)),
    ]
    return grade(student_fn, _ece_reference, cases, title=title, check_gradients=False)
