"""Graders for the book's implementation exercises.

A grader runs a student's function and lossbook's reference on the same inputs — random ones,
edge cases, extreme values — and compares values and gradients. It returns a :class:`Report`
that prints one line per check and a score, so it works the same in Jupyter, on Colab (no
extra install) and under nbgrader.

:func:`grade` is the engine. Each chapter's graders live in ``lossbook.grading.<family>``
(e.g. :func:`lossbook.grading.information.grade_binary_cross_entropy_with_logits`) and only
choose the cases.

**Handing in lossbook's own function scores 0.** The engine works out which of lossbook's
functions an exercise asks for — the outermost public lossbook function the reference runs,
and the private helpers of its module that it calls (``_soft_term`` under
``soft_target_loss``) — by watching the reference's first call. While the student's function
runs it watches again, and if that code runs, whichever way it was reached
(``lossbook.entropy``, ``lossbook.information.entropy``, a name imported from either, a
``functools.partial``, a ``lossbook.nn`` module, another lossbook function that uses it), the
report has the single failing line "implement it yourself: your function calls lossbook.<name>".
Other lossbook functions stay allowed: a focal loss may call
``lossbook.binary_cross_entropy_with_logits``; an ELBO may call ``gaussian_kl_divergence``.
The watching is :func:`sys.setprofile` (the code objects that run, not the names they were
called by), so no name, alias or wrapper escapes it; it replaces a profiler that is already
running (``cProfile``) only for the student's call.

In a notebook the grader cell ends with :meth:`Report.assert_passed`, which raises
``AssertionError`` below 100 %: nbgrader then gives the cell's points all or nothing, and
``nbgrader validate`` fails an unfinished notebook.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

REFUSAL = "implement it yourself"


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
    def refusal(self) -> str | None:
        """The "implement it yourself" line when lossbook's own function was handed in."""
        return next((text for ok, text in self.checks if text.startswith(REFUSAL)), None)

    @property
    def passed(self) -> int:
        return 0 if self.refusal else sum(ok for ok, _ in self.checks)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def score(self) -> float:
        """Fraction of checks passed, in [0, 1]; 0 when lossbook's own function was used."""
        return self.passed / self.total if self.total else 0.0

    def assert_passed(self) -> Report:
        """Return this report if every check passed, else print it and raise AssertionError.

        A notebook's grader cell ends with it (``grade_entropy(entropy).assert_passed()``):
        the cell shows the report either way, and fails — no nbgrader points, ``nbgrader
        validate`` fails — unless the score is 100 %.
        """
        if self.total and self.passed == self.total:
            return self
        print(self)
        raise AssertionError(f"{self.passed} of {self.total} checks passed; every check must "
                             "pass (the report above says which failed and why)")

    def __str__(self) -> str:
        lines = [self.title]
        if self.refusal:  # graders that add up several grade() calls repeat it: say it once
            lines.append(f"  FAIL  {self.refusal}")
        else:
            lines += [f"  {'pass' if ok else 'FAIL'}  {text}" for ok, text in self.checks]
        lines.append(f"Score: {self.passed}/{self.total} ({round(100 * self.score)} %)")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


# --------------------------------------------------------------------------------------------
# Which lossbook code is the exercise's answer, and does the student's function run it?

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_GRADERS = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _kind(code: types.CodeType, cache: dict = {}) -> str | None:  # noqa: B006 (a cache)
    """"public"/"private" for a function of a lossbook family module (``lossbook/x.py``,
    ``lossbook/data/y.py``), "shared" for a private module's (``_numerics``, ``_checks``),
    None for code outside lossbook's implementation (the student's, torch's, the graders')."""
    if code not in cache:
        file = os.path.abspath(code.co_filename)
        if not file.startswith(_PACKAGE) or file.startswith(_GRADERS):
            cache[code] = None
        elif os.path.basename(file).startswith("_") and not file.endswith("__init__.py"):
            cache[code] = "shared"
        else:
            cache[code] = "private" if code.co_name.startswith("_") else "public"
    return cache[code]


def _dotted(frame: types.FrameType) -> str:
    """``lossbook.entropy`` when lossbook exports the function by that name, else its module
    path (``lossbook.distillation._soft_term``, ``lossbook.nn.CrossEntropyLoss.forward``)."""
    import lossbook

    code = frame.f_code
    if getattr(getattr(lossbook, code.co_name, None), "__code__", None) is code:
        return f"lossbook.{code.co_name}"
    module = frame.f_globals.get("__name__", "lossbook")
    if code.co_varnames[:1] == ("self",) and "self" in frame.f_locals:  # a module's forward
        return f"{module}.{type(frame.f_locals['self']).__name__}"
    return f"{module}.{getattr(code, 'co_qualname', code.co_name)}"  # co_qualname: 3.11+


class _Watch:
    """While installed with :func:`sys.setprofile`, follows calls into lossbook's code.

    Learning (the reference's first call, ``answer=None``) it collects the exercise's answer:
    ``answer`` — each public lossbook function entered from outside lossbook (the function
    under test) — and ``helpers`` — the private functions of the same module that run
    beneath it (``_soft_term`` under ``soft_target_loss``, ``_log_alpha`` under
    ``ctc_loss``). Watching (the student's call) it records the first time the student's
    function runs the answer's code, by whatever route, or calls one of its private helpers
    itself. Another public lossbook function that shares a helper (``mse_loss`` and
    ``huber_loss`` share the reduction) is a legitimate tool and is not caught.
    """

    def __init__(self, answer: dict | None = None, helpers: dict | None = None):
        self.learn = answer is None
        self.answer: dict[types.CodeType, str] = {} if answer is None else answer
        self.helpers: dict[types.CodeType, str] = {} if helpers is None else helpers
        self.stack: list[tuple[types.FrameType, str]] = []
        self.caught: str | None = None

    def __call__(self, frame, event, arg) -> None:
        if event == "call":
            kind = _kind(frame.f_code)
            if kind is None or kind == "shared":
                return
            if self.learn:
                self._collect(frame, kind)
            elif self.caught is None:
                self._check(frame)
            self.stack.append((frame, kind))
        elif event == "return" and self.stack and self.stack[-1][0] is frame:
            self.stack.pop()

    def _collect(self, frame, kind: str) -> None:
        owner = next((f for f, k in reversed(self.stack) if k == "public"), None)
        if owner is None:  # entered from outside lossbook: this is what is under test
            self.answer[frame.f_code] = _dotted(frame)
        elif (kind == "private" and owner.f_code in self.answer
              and frame.f_code.co_filename == owner.f_code.co_filename):
            self.helpers[frame.f_code] = _dotted(frame)

    def _check(self, frame) -> None:
        code = frame.f_code
        if code in self.answer:
            entry = _dotted(self.stack[0][0]) if self.stack else self.answer[code]
            self.caught = entry if entry == self.answer[code] else (
                f"{entry}, which runs {self.answer[code]}")
        elif code in self.helpers and not self.stack:  # the student calls it directly
            self.caught = self.helpers[code]

    def run(self, function: Callable, *args, **kwargs):
        previous = sys.getprofile()
        sys.setprofile(self)
        try:
            return function(*args, **kwargs)
        finally:
            sys.setprofile(previous)


_collectors: list[dict] = []


@contextmanager
def collect_answers():
    """Collect, from every :func:`grade` call inside the block, the lossbook code that is the
    exercise's answer (the function under test, its module's private helpers beneath it, and
    what the grader passes as ``also_refuse``): yields a dict ``{code object:
    "lossbook.name"}`` filled as graders run.

    ``scripts/student.py`` calls each grader on a stub inside it, to leave exactly that
    code's source out of the student notebooks — the graders are the one list of answers.
    """
    found: dict = {}
    _collectors.append(found)
    try:
        yield found
    finally:
        _collectors.remove(found)


def _unwrapped(function):
    """The function under ``functools.partial`` and ``functools.wraps`` layers."""
    for _ in range(100):
        inner = getattr(function, "func", None) or getattr(function, "__wrapped__", None)
        if inner is None:
            return function
        function = inner
    return function


def _qualified(function) -> str:
    import lossbook

    function = _unwrapped(function)
    if getattr(lossbook, function.__name__, None) is function:
        return f"lossbook.{function.__name__}"
    return f"{function.__module__}.{function.__qualname__}"


def _handed_in(student_fn, answer: dict) -> str | None:
    """The answer's name when ``student_fn`` *is* one of its functions (no call needed)."""
    code = getattr(_unwrapped(student_fn), "__code__", None)
    return answer.get(code)


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
    also_refuse: Sequence[Callable] = (),
) -> Report:
    """Compare ``student_fn`` with ``reference_fn`` on each case: value, then gradient.

    The gradient check differentiates the sum of the output with respect to every
    floating-point tensor argument. A function that raises ``NotImplementedError`` (the student
    version of an exercise) fails every check with "not implemented yet". A function that is,
    wraps or calls lossbook's implementation of the reference gets one failing line,
    "implement it yourself: your function calls lossbook.<name>", and scores 0 (see the
    module's docstring for how that is found). ``also_refuse`` names other lossbook functions
    that compute the answer and are refused too (``distillation_loss`` for
    ``soft_target_loss``).
    """
    name = getattr(student_fn, "__name__", "your function")
    reference_name = getattr(reference_fn, "__qualname__", "the reference")
    report = Report(title or f"Grading {name} against {reference_name}")
    learner: _Watch | None = None
    for case in cases:
        if learner is None:  # the first case shows which lossbook code is the answer
            learner = _Watch()
            expected = learner.run(reference_fn, *_fresh(case.args, False), **case.kwargs)
            learner.answer.update((_unwrapped(f).__code__, _qualified(f)) for f in also_refuse)
            for found in _collectors:
                found.update(learner.answer | learner.helpers)
            own = _handed_in(student_fn, learner.answer | learner.helpers)
            if own:
                return _refused(report, own)
        else:
            expected = reference_fn(*_fresh(case.args, False), **case.kwargs)
        args = _fresh(case.args, check_gradients)
        watch = _Watch(learner.answer, learner.helpers)
        try:
            actual = watch.run(student_fn, *args, **case.kwargs)
            problem = _mismatch(actual, expected, atol, rtol)
        except NotImplementedError:
            actual, problem = None, "not implemented yet"
        except Exception as error:  # the report says what went wrong instead of stopping
            actual, problem = None, f"raised {type(error).__name__}: {error}"
        if watch.caught:
            return _refused(report, watch.caught)
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


def _refused(report: Report, name: str) -> Report:
    report.checks = [(False, f"{REFUSAL}: your function calls {name}")]
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
