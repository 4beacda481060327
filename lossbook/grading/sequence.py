"""Graders for the exercises of *CTC: losses without alignments*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.sequence import ctc_loss


def _ctc_reference(log_probs, target):
    """-log p(target | x) of one sequence: ``log_probs`` (T, C), ``target`` (S,), blank 0."""
    return ctc_loss(log_probs, target, log_probs.shape[0], target.numel(), reduction="sum")


def grade_ctc_negative_log_likelihood(student_fn) -> Report:
    """``student_fn(log_probs, target)`` must return $-\\log p(l \\mid x)$ for one sequence.

    ``log_probs`` is (T, C) log-softmax output with the blank at index 0, ``target`` a (S,)
    tensor of labels in 1..C-1. The infeasible case checks the value only (it is ``inf``).
    """
    def log_probs(frames, classes, seed):
        logits = data.randn(frames, classes, seed=seed, dtype=torch.float64)
        return torch.log_softmax(logits, dim=1)

    cases = [
        Case("8 frames, target [1, 2, 3]", (log_probs(8, 4, 31), torch.tensor([1, 2, 3]))),
        Case("a repeated label [2, 2] (needs a blank)", (log_probs(5, 3, 32),
                                                           torch.tensor([2, 2]))),
        Case("one frame per label, [1, 2, 1]", (log_probs(3, 3, 33), torch.tensor([1, 2, 1]))),
        Case("empty target (all blanks)",
             (log_probs(4, 3, 34), torch.tensor([], dtype=torch.long))),
    ]
    report = grade(student_fn, _ctc_reference, cases,
                   title="Grading ctc_negative_log_likelihood(log_probs, target)")
    infeasible = [Case("too few frames for [1, 1]: inf", (log_probs(2, 3, 35),
                                                          torch.tensor([1, 1])))]
    report.checks += grade(student_fn, _ctc_reference, infeasible, check_gradients=False).checks
    return report
