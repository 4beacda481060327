"""Comparing a lossbook callable with torch's on one of PyTorch's own samples (op_db's
``SampleInput``s, module_db's ``ModuleInput``s): value, dtype, shape, gradients, or both
refusing. Used by ``tests/test_torch_conformance.py`` and ``tests/test_nn.py``."""

from __future__ import annotations

import dataclasses
import importlib

import torch

from tests.reference import TOLERANCES


def torch_testing(module: str):
    """``torch.testing._internal.<module>``, imported without its one side effect on this
    process: ``common_utils`` freezes the ``torch.backends`` flags on import (for PyTorch's own
    suite), after which ``lossbook.runtime.setup`` — run by later tests in the same worker —
    could no longer set ``cudnn.deterministic``."""
    frozen = torch.backends.flags_frozen()
    imported = importlib.import_module(f"torch.testing._internal.{module}")
    if not frozen:
        torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True
    return imported


def _tensors(value):
    """Every tensor in an argument (tensors inside lists, tuples and dicts included)."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)


def _leaves(sample) -> list[torch.Tensor]:
    everything = _tensors([sample.input, list(sample.args), dict(sample.kwargs)])
    return [t for t in everything if t.requires_grad]


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        return f"{dtype}{list(value.shape)}" + ("" if value.is_contiguous() else " strided")
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return getattr(value, "__name__", None) or repr(value)


def describe(sample) -> str:
    """A sample in one short line: ``float32[5, 3], int64[5]; reduction='sum'``."""
    args = ", ".join(_describe(a) for a in (sample.input, *sample.args))
    kwargs = ", ".join(f"{k}={_describe(v)}" for k, v in sample.kwargs.items())
    return args + (f"; {kwargs}" if kwargs else "")


def _tolerance(dtype: torch.dtype) -> dict:
    return TOLERANCES.get(dtype, TOLERANCES[torch.float64])


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:200]


def evaluate(function, sample, wrapper=None) -> list[torch.Tensor]:
    """``[value, *gradients]`` of ``function`` on ``sample``: the gradients of the value's sum
    with respect to every input that requires grad (zeros where an input is unused), empty
    when the value has no gradient. Raises whatever ``function`` raises.

    ``wrapper(function, *args, **kwargs)``, when given, is the op's ``gradcheck_wrapper``:
    gradients are taken through it, as PyTorch's own gradient tests do (for ``ctc_loss`` it
    applies ``log_softmax`` first, the only space where torch's gradient is defined).
    """
    args, kwargs = sample.args, sample.kwargs
    value = function(sample.input, *args, **kwargs)
    leaves = _leaves(sample)
    if not leaves or not value.requires_grad:
        return [value]
    out = value if wrapper is None else wrapper(function, sample.input, *args, **kwargs)
    grads = torch.autograd.grad(out.sum(), leaves, allow_unused=True)
    return [value, *(torch.zeros_like(t) if g is None else g for g, t in zip(grads, leaves))]


def _in_float64(value):
    """A copy of a sample's argument with every floating tensor in float64."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().double().requires_grad_(value.requires_grad)
    if isinstance(value, (list, tuple)):
        return type(value)(_in_float64(v) for v in value)
    if isinstance(value, dict):
        return {k: _in_float64(v) for k, v in value.items()}
    return value


def _differs(actual, expected, **tolerance) -> str | None:
    """What ``assert_close`` says (value, NaN, dtype, shape), or None; dtype's tolerance."""
    tolerance = tolerance or _tolerance(expected.dtype)
    try:
        torch.testing.assert_close(actual, expected, equal_nan=True, **tolerance)
    except AssertionError as error:
        return " ".join(str(error).split())[:300]
    return None


def _as_accurate(actual, expected, exact) -> bool:
    """``actual`` is as close to ``exact`` (the float64 result) as torch's ``expected`` is:
    within the dtype's tolerance plus torch's own largest error."""
    if actual.dtype != expected.dtype or actual.shape != expected.shape:
        return False
    exact = exact.double()
    error = (expected.double() - exact).abs().nan_to_num(0.0, 0.0, 0.0)
    tolerance = dict(_tolerance(expected.dtype))
    tolerance["atol"] += error.max().item() if error.numel() else 0.0
    return _differs(actual.double(), exact, **tolerance) is None


def compare(ours, theirs, sample, wrapper=None) -> str | None:
    """``None`` if ``ours`` agrees with ``theirs`` on ``sample``, else what differs.

    Agreement: both raise, or both give the same value (NaN where NaN), dtype, shape and
    gradients (see :func:`evaluate`). Below float64 a difference is forgiven where lossbook is
    as close as torch to the float64 result (torch's float32 ``ctc_loss`` gradient, for one,
    is less accurate than lossbook's).
    """
    try:
        expected = evaluate(theirs, sample, wrapper)
    except Exception as error:  # torch refuses: lossbook must refuse too
        try:
            ours(sample.input, *sample.args, **sample.kwargs)
        except Exception:
            return None
        return f"accepted; torch raises {first_line(error)}"
    try:
        actual = evaluate(ours, sample, wrapper)
    except Exception as error:
        return f"refused: {first_line(error)}"
    if len(actual) < len(expected):
        return "gradient: lossbook's result does not require grad"
    exact = None
    for i, (a, e) in enumerate(zip(actual, expected)):
        problem = _differs(a, e)
        if problem is None:
            continue
        if e.dtype in (torch.float32, torch.float16, torch.bfloat16):
            if exact is None:
                float64 = sample.transform(_in_float64)
                exact = evaluate(theirs, float64, wrapper)
            if _as_accurate(a, e, exact[i]):
                continue
        return f"{'value' if i == 0 else f'gradient of argument {i - 1}'}: {problem}"
    return None


def gradcheck_wrapper(op):
    """The op's own ``gradcheck_wrapper``, or None where it is OpInfo's default (a plain call)."""
    OpInfo = torch_testing("opinfo.core").OpInfo
    default = next(f.default for f in dataclasses.fields(OpInfo) if f.name == "gradcheck_wrapper")
    return None if op.gradcheck_wrapper is default else op.gradcheck_wrapper


def report(op_name: str, failures: list[str], total: int) -> str:
    return (f"{op_name}: {len(failures)} of {total} samples differ from torch:\n  "
            + "\n  ".join(failures))
