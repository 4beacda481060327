"""Graders for the exercises of *Language models: cross-entropy at scale and preference
optimisation*."""

from __future__ import annotations

import functools

import torch

from lossbook import data
from lossbook.grading import Case, Report, grade
from lossbook.language import dpo_loss


def _is_lossbooks(student_fn, reference) -> bool:
    """True when ``student_fn`` is lossbook's own function (or a partial/wrapper of it)."""
    fn = student_fn
    while True:
        if fn is reference or getattr(fn, "__code__", None) is reference.__code__:
            return True
        inner = fn.func if isinstance(fn, functools.partial) else getattr(fn, "__wrapped__", None)
        if inner is None:
            return False
        fn = inner


def _dpo_reference(pc, pr, rc, rr, beta):
    return dpo_loss(pc, pr, rc, rr, beta=beta, reduction="none")


def grade_dpo_loss(student_fn) -> Report:
    r"""``student_fn(pc, pr, rc, rr, beta)`` must return DPO's $-\log\sigma(\beta h)$ per pair.

    $h$ is the log-ratio margin $(\log\pi(y_c) - \log\pi_{ref}(y_c)) - (\log\pi(y_r) -
    \log\pi_{ref}(y_r))$; no reduction.
    """
    title = "Grading dpo(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta)"
    if _is_lossbooks(student_fn, dpo_loss):
        return Report(title, [(False, "this is lossbook.dpo_loss itself: implement it "
                                      "yourself, from the formula")])

    def logps(seed, shift):
        return -data.rand(8, seed=seed, dtype=torch.float64) * 20 - shift

    random = tuple(logps(s, shift) for s, shift in ((1, 5.0), (2, 9.0), (3, 7.0), (4, 7.0)))
    zero = torch.zeros(3, dtype=torch.float64)
    far = torch.tensor([-1e4, -1.0, -3e3], dtype=torch.float32)  # |beta h| in the thousands
    cases = [
        Case("random log-probabilities, beta = 0.1", random, {"beta": 0.1}),
        Case("random log-probabilities, beta = 2", random, {"beta": 2.0}),
        Case("policy = reference (loss log 2)", (zero - 4, zero - 6, zero - 4, zero - 6),
             {"beta": 0.5}),
        Case("margins of thousands, float32", (far, far.flip(0), torch.zeros(3),
                                               torch.zeros(3)), {"beta": 1.0}),
    ]
    return grade(student_fn, _dpo_reference, cases, title=title)
