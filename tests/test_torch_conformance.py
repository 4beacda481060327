"""lossbook against PyTorch's own test inputs: every torch-named function gives torch's value,
dtype, shape and gradient on every sample PyTorch tests its built-in with, and refuses every
input PyTorch refuses.

The inputs ship inside the torch wheel (``torch.testing._internal``, which needs
``expecttest``): ``common_methods_invocations.op_db`` holds, per operator, ``sample_inputs``
(and, for some, a larger ``reference_inputs``: NaN/inf, broadcasting, 0-d and empty inputs,
every reduction, weights, ...) and ``error_inputs`` (each with the exception type torch
raises). The suite is parametrized by operator and dtype, not by sample, so collection stays
small; one test walks every sample and reports each one that differs, by index and shape.

No sample is skipped: where torch raises on a sample, lossbook must raise too (any
exception); where torch raises a given type on an error input, lossbook's error must be an
instance of that type (lossbook's errors are ``ValueError`` *and* ``RuntimeError``, see
``lossbook._checks``). The module twins (``lossbook.nn``) are checked the same way against
``common_modules.module_db`` in ``tests/test_nn.py``.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest
import torch

import lossbook
from lossbook import catalog
from tests.reference import TOLERANCES

# torch's own warnings about the samples it is given (a target broadcast against the input,
# kl_div's 'mean'): the samples are meant to exercise exactly that.
pytestmark = [pytest.mark.filterwarnings("ignore:Using a target size:UserWarning"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")]

# torch's operator (op_db name, ".variant" when it has one) -> lossbook's function name.
# Written out, not derived, so that a name changing on either side fails loudly.
OPS = {
    "nn.functional.binary_cross_entropy": "binary_cross_entropy",
    "nn.functional.binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits",
    "nn.functional.cosine_embedding_loss": "cosine_embedding_loss",
    "nn.functional.cosine_similarity": "cosine_similarity",
    "nn.functional.cross_entropy": "cross_entropy",
    "nn.functional.ctc_loss": "ctc_loss",
    "nn.functional.gaussian_nll_loss": "gaussian_nll_loss",
    "nn.functional.hinge_embedding_loss": "hinge_embedding_loss",
    "nn.functional.huber_loss": "huber_loss",
    "nn.functional.kl_div": "kl_div",
    "nn.functional.l1_loss": "l1_loss",
    "nn.functional.margin_ranking_loss": "margin_ranking_loss",
    "nn.functional.mse_loss": "mse_loss",
    "nn.functional.multi_margin_loss": "multi_margin_loss",
    "nn.functional.multilabel_margin_loss": "multilabel_margin_loss",
    "nn.functional.multilabel_soft_margin_loss": "multilabel_soft_margin_loss",
    "nn.functional.nll_loss": "nll_loss",
    "nn.functional.pairwise_distance": "pairwise_distance",
    "nn.functional.pdist": "pdist",
    "nn.functional.poisson_nll_loss": "poisson_nll_loss",
    "nn.functional.smooth_l1_loss": "smooth_l1_loss",
    "nn.functional.soft_margin_loss": "soft_margin_loss",
    "nn.functional.softplus": "softplus",
    "nn.functional.triplet_margin_loss": "triplet_margin_loss",
    "nn.functional.triplet_margin_with_distance_loss": "triplet_margin_with_distance_loss",
    "softmax": "softmax",
    "softmax.with_dtype": "softmax",
    "log_softmax": "log_softmax",
    "log_softmax.with_dtype": "log_softmax",
    "logsumexp": "logsumexp",
}
# The operators op_db has error inputs for (the coverage test checks this list).
ERROR_OPS = sorted(f"nn.functional.{name}" for name in (
    "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "l1_loss", "margin_ranking_loss",
    "multi_margin_loss", "multilabel_margin_loss", "poisson_nll_loss", "soft_margin_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss"))
# torch-named functions that are not losses, so the catalog does not list them.
NUMERICS = {"softmax", "log_softmax", "logsumexp", "softplus", "cosine_similarity", "pdist",
            "pairwise_distance"}


@functools.cache
def op_db() -> dict:
    """op_db by ``name[.variant]``; imported once per worker, on first use (≈ 4 s)."""
    from torch.testing._internal.common_methods_invocations import op_db as ops

    return {o.name + (f".{o.variant_test_name}" if o.variant_test_name else ""): o for o in ops}


def test_every_torch_named_function_is_covered():
    torch_named = {e.name for e in catalog.entries()
                   if (e.reference or "").startswith("torch.nn.functional.")}
    missing = sorted((torch_named | NUMERICS) - set(OPS.values()))
    assert not missing, f"torch-named functions without op_db samples in OPS: {missing}"
    absent = sorted(set(OPS) - set(op_db()))
    assert not absent, f"OPS names operators op_db does not have: {absent}"
    with_errors = sorted(name for name in OPS if op_db()[name].error_inputs_func is not None)
    assert with_errors == ERROR_OPS


# --------------------------------------------------------------------------- comparison
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


def _first_line(error: BaseException) -> str:
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
        return f"accepted; torch raises {_first_line(error)}"
    try:
        actual = evaluate(ours, sample, wrapper)
    except Exception as error:
        return f"refused: {_first_line(error)}"
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
    from torch.testing._internal.opinfo.core import OpInfo

    default = next(f.default for f in dataclasses.fields(OpInfo) if f.name == "gradcheck_wrapper")
    return None if op.gradcheck_wrapper is default else op.gradcheck_wrapper


def report(op_name: str, failures: list[str], total: int) -> str:
    return (f"{op_name}: {len(failures)} of {total} samples differ from torch:\n  "
            + "\n  ".join(failures))


# --------------------------------------------------------------------------- the suite
@pytest.mark.parametrize("op_name", sorted(OPS))
def test_samples_match_torch(op_name, dtype, device):
    """Every reference input (a superset of the sample inputs) in value, dtype and gradient."""
    op = op_db()[op_name]
    ours = getattr(lossbook, OPS[op_name])
    failures, total = [], 0
    for index, sample in enumerate(op.reference_inputs(device, dtype, requires_grad=True)):
        total += 1
        problem = compare(ours, op.op, sample, gradcheck_wrapper(op))
        if problem is not None:
            failures.append(f"#{index} {describe(sample)}: {problem}")
    assert total > 0, f"{op_name}: op_db gave no samples"
    assert not failures, report(op_name, failures, total)


@pytest.mark.parametrize("op_name", ERROR_OPS)
def test_error_inputs_raise_torchs_error_type(op_name, device):
    """Every input torch refuses, lossbook refuses with an error of the type torch raises."""
    op = op_db()[op_name]
    ours = getattr(lossbook, OPS[op_name])
    failures, total = [], 0
    for index, error_input in enumerate(op.error_inputs(device)):
        total += 1
        s = error_input.sample_input
        wanted = error_input.error_type
        with pytest.raises(wanted):  # torch itself, so a changed op_db shows here
            op.op(s.input, *s.args, **s.kwargs)
        try:
            ours(s.input, *s.args, **s.kwargs)
        except wanted:
            continue
        except Exception as error:
            failures.append(f"#{index} {describe(s)}: raised {_first_line(error)}, "
                            f"torch raises {wanted.__name__}")
            continue
        failures.append(f"#{index} {describe(s)}: accepted; torch raises "
                        f"{wanted.__name__} ({error_input.error_regex})")
    assert not failures, report(op_name, failures, total)
