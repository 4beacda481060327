"""Graders for the book's implementation exercises.

A grader runs a student's function and lossbook's reference on the same inputs — random ones,
edge cases, extreme values — and compares values and gradients. It returns a :class:`Report`
that prints one line per check and a score, so it works the same in Jupyter, on Colab (no
extra install) and under nbgrader.

:func:`grade` is the engine. Each chapter's graders live in ``lossbook.grading.<family>``
(e.g. :func:`lossbook.grading.information.grade_binary_cross_entropy_with_logits`) and only
choose the cases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch


@dataclass
class Case:
    """One input to grade on: a label for the report, positional and keyword arguments.

    Floating-point tensors among ``args`` are differentiated when gradients are checked.
    """

    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass
class Report:
    """The outcome of grading: one ``(passed, description)`` per check."""

    title: str
    checks: list[tuple[bool, str]] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(ok for ok, _ in self.checks)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def score(self) -> float:
        """Fraction of checks passed, in [0, 1]."""
        return self.passed / self.total if self.total else 0.0

    def __str__(self) -> str:
        lines = [self.title]
        lines += [f"  {'pass' if ok else 'FAIL'}  {text}" for ok, text in self.checks]
        lines.append(f"Score: {self.passed}/{self.total} ({round(100 * self.score)} %)")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def _fresh(args: tuple, requires_grad: bool) -> tuple:
    """Independent copies of the arguments; floating tensors become leaves needing grad."""
    return tuple(
        a.detach().clone().requires_grad_(requires_grad and a.is_floating_point())
        if isinstance(a, torch.Tensor) else a
        for a in args
    )


def _leaves(args: tuple) -> list[torch.Tensor]:
    return [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]


def _mismatch(actual, expected, atol: float, rtol: float) -> str | None:
    """None if ``actual`` matches ``expected``, else a short reason."""
    if not isinstance(actual, torch.Tensor):
        return f"returned {type(actual).__name__}, expected a tensor"
    if actual.shape != expected.shape:
        return f"shape {tuple(actual.shape)}, expected {tuple(expected.shape)}"
    if bool((torch.isfinite(expected) & ~torch.isfinite(actual)).any()):
        return "non-finite values (nan or inf) where the reference is finite"
    close = torch.isclose(actual.double(), expected.double(), rtol=rtol, atol=atol, equal_nan=True)
    if not bool(close.all()):
        worst = (actual.double() - expected.double()).abs().nan_to_num(float("inf")).max().item()
        return f"values differ (largest difference {worst:.3g})"
    return None


def grade(
    student_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    *,
    title: str | None = None,
    check_gradients: bool = True,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> Report:
    """Compare ``student_fn`` with ``reference_fn`` on each case: value, then gradient.

    The gradient check differentiates the sum of the output with respect to every
    floating-point tensor argument. A function that raises ``NotImplementedError`` (the student
    version of an exercise) fails every check with "not implemented yet".
    """
    name = getattr(student_fn, "__name__", "your function")
    reference_name = getattr(reference_fn, "__qualname__", "the reference")
    report = Report(title or f"Grading {name} against {reference_name}")
    for case in cases:
        expected = reference_fn(*_fresh(case.args, False), **case.kwargs)
        args = _fresh(case.args, check_gradients)
        try:
            actual = student_fn(*args, **case.kwargs)
            problem = _mismatch(actual, expected, atol, rtol)
        except NotImplementedError:
            actual, problem = None, "not implemented yet"
        except Exception as error:  # the report says what went wrong instead of stopping
            actual, problem = None, f"raised {type(error).__name__}: {error}"
        report.checks.append((problem is None, f"{case.label}: value" + _reason(problem)))
        if check_gradients:
            gradient_problem = problem and "no value to differentiate"
            if problem is None:
                try:
                    gradient_problem = _gradient_mismatch(
                        reference_fn, case, actual, args, atol, rtol
                    )
                except Exception as error:
                    gradient_problem = f"backward raised {type(error).__name__}: {error}"
            report.checks.append(
                (gradient_problem is None, f"{case.label}: gradient" + _reason(gradient_problem))
            )
    return report


def _reason(problem: str | None) -> str:
    return "" if problem is None else f" — {problem}"


def _gradient_mismatch(reference_fn, case, actual, args, atol, rtol) -> str | None:
    leaves = _leaves(args)
    if not leaves:
        return None
    if not actual.requires_grad:
        return "result is not differentiable (no autograd graph)"
    reference_args = _fresh(case.args, True)
    expected = reference_fn(*reference_args, **case.kwargs)
    expected_grads = torch.autograd.grad(expected.sum(), _leaves(reference_args), allow_unused=True)
    grads = torch.autograd.grad(actual.sum(), leaves, allow_unused=True)
    for got, want in zip(grads, expected_grads):
        got = torch.zeros_like(want) if got is None and want is not None else got
        want = torch.zeros_like(got) if want is None and got is not None else want
        if got is None:
            continue
        problem = _mismatch(got, want, atol, rtol)
        if problem:
            return problem
    return None
