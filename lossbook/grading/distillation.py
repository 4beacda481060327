"""Graders for the exercises of *Knowledge distillation*."""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch

import lossbook
from lossbook import data
from lossbook import distillation as kd
from lossbook.grading import Case, Report, grade

# lossbook's own answers, which a student's function may neither be nor call.
_OWN = ("soft_target_loss", "distillation_loss", "_soft_term")


class OwnAnswerError(RuntimeError):
    """Raised when an answer calls lossbook's implementation of the exercise."""


def _soft_target_reference(student_logits, teacher_logits, temperature):
    return kd.soft_target_loss(student_logits, teacher_logits, temperature=temperature,
                               reduction="none")


def _is_lossbooks(student_fn) -> bool:
    own = [getattr(kd, name) for name in _OWN]
    code = getattr(student_fn, "__code__", None)
    return any(student_fn is f or code is f.__code__ for f in own)


@contextmanager
def _lossbooks_answer_refused():
    """While active, lossbook's own soft-target functions raise instead of answering."""
    def refuse(*args, **kwargs):
        raise OwnAnswerError("implement it yourself: the answer calls lossbook's own "
                             "soft_target_loss")

    saved = [(module, name, getattr(module, name)) for module in (kd, lossbook)
             for name in _OWN if hasattr(module, name)]
    try:
        for module, name, _ in saved:
            setattr(module, name, refuse)
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def grade_soft_target_loss(student_fn) -> Report:
    """``student_fn(s, t, temperature)`` must return $T^2\\,\\mathrm{KL}(p\\,\\|\\,q)$ per sample.

    $p = \\mathrm{softmax}(t / T)$, $q = \\mathrm{softmax}(s / T)$ over the last dimension of
    (N, C) logits; the result has shape (N,). Checked in value and in gradient (for both the
    student's and the teacher's logits) on random logits at several temperatures, on logits of
    $\\pm 10^3$ in float32 (a plain ``exp`` overflows), and on a class the teacher rules out
    (logit $-\\infty$, where $0 \\log 0 = 0$). lossbook's own implementation, or a function
    that calls it, scores nothing.
    """
    title = "Grading soft_target_loss(s, t, temperature)"
    if _is_lossbooks(student_fn):
        return Report(title, [(False, "implement it yourself: this is lossbook's own "
                                      "soft_target_loss")])
    s = data.randn(6, 5, seed=11, dtype=torch.float64) * 3
    t = data.randn(6, 5, seed=12, dtype=torch.float64) * 3
    extreme_s = torch.tensor([[1e3, -1e3, 0.0], [0.0, 0.0, 0.0]])
    extreme_t = torch.tensor([[-1e3, 1e3, 0.0], [5.0, -5.0, 0.0]])
    masked_t = t.clone()
    masked_t[:, 4] = -math.inf
    cases = [
        Case("random logits, T = 4", (s, t), {"temperature": 4.0}),
        Case("random logits, T = 1 (plain KL)", (s, t), {"temperature": 1.0}),
        Case("random logits, T = 0.5 (sharper)", (s, t), {"temperature": 0.5}),
        Case("random logits, T = 100 (near the logit-matching limit)", (s, t),
             {"temperature": 100.0}),
        Case("student equals teacher (loss 0)", (t, t.clone()), {"temperature": 3.0}),
        Case("logits ±1e3 in float32, T = 1", (extreme_s, extreme_t), {"temperature": 1.0}),
        Case("teacher rules out a class (logit -inf), T = 2", (s, masked_t),
             {"temperature": 2.0}),
    ]

    def guarded(*args, **kwargs):
        with _lossbooks_answer_refused():
            return student_fn(*args, **kwargs)

    guarded.__name__ = getattr(student_fn, "__name__", "your function")
    return grade(guarded, _soft_target_reference, cases, title=title)
