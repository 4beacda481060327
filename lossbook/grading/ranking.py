"""Graders for the exercises of *Learning to rank*."""

from __future__ import annotations

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.ranking import listmle_loss


def _per_query(scores, relevance):
    return listmle_loss(scores, relevance, reduction="none")


def grade_listmle(student_fn) -> Report:
    """``student_fn(scores, relevance)`` must return the ListMLE loss of each query, (Q,):
    $\\sum_i (\\log \\sum_{k \\ge i} e^{s_{\\pi(k)}} - s_{\\pi(i)})$ with $\\pi$ the documents
    by decreasing relevance, equal labels in their list order."""
    title = "Grading listmle(scores, relevance)"
    scores = data.randn(4, 6, seed=11, dtype=torch.float64)
    distinct = torch.stack([torch.randperm(6, generator=data.generator(s)) for s in range(4)])
    graded = data.randint(0, 3, (4, 6), seed=12).double()
    big = torch.tensor([[800.0, -800.0, 0.0, 1000.0], [1e4, 1e4, -1e4, 3.0]])
    cases = [
        Case("random scores, distinct labels", (scores, distinct.double())),
        Case("graded labels with ties (list order)", (scores, graded)),
        Case("already in the right order", (scores.sort(dim=1, descending=True).values,
                                            torch.arange(6, 0, -1).double().expand(4, 6))),
        Case("scores of ±1e3 and ±1e4 (log-sum-exp), float32",
             (big, torch.tensor([[3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0]]))),
    ]
    return grade(student_fn, _per_query, cases, title=title)
