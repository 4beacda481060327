"""Every catalogued loss, driven by its own sample maker (``Entry.inputs``): value against torch
where torch has the loss, dtype, device, float32 against float64, gradcheck, NaN and infinity
propagation, empty inputs, half precision at realistic scales, autocast, extreme scales.

Adding a loss to a family's ``CATALOG`` adds it to every test here.

Tolerances (``TOLERANCE``), stated as ``|ours - float64| <= rtol * max(|float64|, 1)``:

* float32 against float64 on the small samples: rtol 1e-4;
* float16 at realistic scale against float64 *of the same float16 inputs* (so only the
  computation's rounding counts, not the inputs'): rtol 1e-2 (about 10 float16 ulps);
* bfloat16 likewise: rtol 5e-2 (about 6 bfloat16 ulps);
* autocast (CPU: bfloat16; CUDA: float16) against the float32 result without it: that
  dtype's tolerance, and the float32 dtype out that torch's losses give under autocast;
* results beyond the dtype's range must be that dtype's ``inf`` (the true value rounded), and
  a finite float64 value within range must be finite in half precision: an intermediate that
  overflows (areas, mask sums, squared norms, products of norms) is computed in float32.
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lossbook import _samples, catalog
from tests.catalog_cases import (
    ENTRIES,
    call,
    ids,
    make,
    moving,
    names_an_argument,
    prediction,
    reference_call,
    slots,
    with_prediction,
)

HALF = [torch.float16, torch.bfloat16]
TOLERANCE = {torch.float32: 1e-4, torch.float16: 1e-2, torch.bfloat16: 5e-2}
QUICK = settings(max_examples=6, deadline=None, derandomize=True, database=None)
WITH_REFERENCE = [e for e in ENTRIES if reference_call(e) is not None]
#: Losses whose result carries no gradient: piecewise constant, so it is 0 wherever it exists.
PIECEWISE_CONSTANT = {"zero_one_loss", "hamming"}
#: Losses whose gradient is deliberately not the derivative of their value.
NOT_THE_DERIVATIVE = {
    "complete_box_iou_loss": "alpha is a constant in the gradient (Zheng et al.; torchvision)",
}
#: Losses where a NaN input legitimately gives a finite value.
NAN_IS_A_VALUE = {
    "hamming": "NaN != anything is a difference, the fraction of differences is finite (scipy)",
}


def close(ours: torch.Tensor, expected: torch.Tensor, rtol: float) -> bool:
    """Within ``rtol * max(|expected|, 1)``; infinities and NaN must match exactly."""
    ours, expected = ours.detach().double().cpu(), expected.detach().double().cpu()
    if ours.shape != expected.shape:
        return False
    same_special = (torch.isnan(ours) == torch.isnan(expected)).all() and (
        ours[torch.isinf(expected)] == expected[torch.isinf(expected)]).all()
    finite = torch.isfinite(expected)
    error = (ours[finite] - expected[finite]).abs()
    return bool(same_special and (error <= rtol * expected[finite].abs().clamp(min=1)).all())


def rounded_to(value: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``value`` rounded to ``dtype``: what a correct computation in ``dtype`` returns."""
    return value.detach().to(dtype).double()


# --------------------------------------------------------------------------- the catalog
def test_every_entry_has_a_sample_maker():
    missing = [e.name for e in ENTRIES if not callable(e.inputs)]
    assert not missing, f"entries without inputs=: {missing}"
    assert not hasattr(catalog.Entry, "qualified_name")


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_sample_is_valid_deterministic_and_keeps_dtype_and_device(entry, device):
    sample = make(entry, torch.float32, device)
    out = call(entry, sample)
    assert out.dtype == prediction(sample).dtype and out.device.type == device.type
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, call(entry, make(entry, torch.float32, device)))
    if device.type != "cpu":  # the same numbers on every device
        torch.testing.assert_close(out.cpu(), call(entry, make(entry, torch.float32)))
    assert sample.domain in {"real", "nonnegative", "unit", "simplex", "log_simplex", "boxes"}


@pytest.mark.parametrize("entry", WITH_REFERENCE, ids=ids)
def test_value_and_gradient_match_torch(entry):
    """In value, and in the gradient in the prediction (torch refuses some targets'); for
    log-probabilities, in the gradient in the logits before them (where torch's CTC gradient
    is defined, see :func:`lossbook.ctc_loss`)."""
    sample = make(entry)
    ours_x, theirs_x = (prediction(sample).clone().requires_grad_() for _ in range(2))

    def input_of(x):
        return torch.log_softmax(x, dim=-1) if sample.domain == "log_simplex" else x

    ours = call(entry, with_prediction(sample, input_of(ours_x)))
    theirs_sample = with_prediction(sample, input_of(theirs_x))
    theirs = reference_call(entry)(*theirs_sample.args, **theirs_sample.kwargs)
    torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-10)
    weights = torch.rand(ours.shape, generator=torch.Generator().manual_seed(1),
                         dtype=torch.float64)
    ours_grad = torch.autograd.grad((ours * weights).sum(), ours_x)
    theirs_grad = torch.autograd.grad((theirs * weights).sum(), theirs_x)
    torch.testing.assert_close(ours_grad, theirs_grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_float32_agrees_with_float64(entry):
    sample64 = make(entry, seed=3)
    sample32 = make(entry, torch.float32, seed=3)
    assert close(call(entry, sample32), call(entry, sample64), TOLERANCE[torch.float32])


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_gradcheck_in_float64(entry):
    """In the prediction (labels and class indices have no gradient to check)."""
    sample = make(entry, batch=2, seed=4)
    x = prediction(sample).clone().requires_grad_()
    out = call(entry, with_prediction(sample, x))
    if entry.name in PIECEWISE_CONSTANT:
        assert not out.requires_grad  # the gradient is 0 wherever it exists
        return
    if entry.name in NOT_THE_DERIVATIVE:
        (gradient,) = torch.autograd.grad(out.sum(), x)
        assert torch.isfinite(gradient).all()
        return
    torch.autograd.gradcheck(lambda t: call(entry, with_prediction(sample, t)), x,
                             atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if make(e).domain in ("unit", "simplex")],
                         ids=ids)
def test_gradient_is_finite_at_zero_and_one_probabilities(entry):
    """Empty bins and saturated probabilities (in the prediction and in its targets of the same
    kind): a finite gradient, where the derivative exists and (by convention, like torch's
    clamped BCE) where it is infinite — never NaN."""
    sample = make(entry)
    edges = []
    for t in moving(sample):
        t = t.clone()
        t.view(-1)[0], t.view(-1)[-1] = 0.0, 1.0 if sample.domain == "unit" else 0.0
        edges.append(t / t.sum(-1, keepdim=True) if sample.domain == "simplex" else t)
    x = edges[0].requires_grad_()
    out = call(entry, with_prediction(sample, x, *edges[1:]))
    (gradient,) = torch.autograd.grad(out.sum(), x)
    assert torch.isfinite(gradient).all(), gradient


# --------------------------------------------------------------------------- NaN and infinity
@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
@QUICK
@given(data=st.data())
def test_nan_anywhere_gives_nan_or_names_the_argument(entry, data):
    sample = make(entry)
    for slot in slots(entry, sample):
        position = data.draw(st.integers(0, slot.value.numel() - 1), label=slot.name)
        poisoned = slot.value.clone()
        poisoned.view(-1)[position] = math.nan
        try:
            out = call(entry, slot.replace(poisoned))
        except (ValueError, RuntimeError) as error:
            assert names_an_argument(entry, error), f"{slot.name}: {error!r}"
            continue
        reference = reference_call(entry)
        if reference is not None:  # torch's result, NaN or not
            changed = slot.replace(poisoned)
            expected = reference(*changed.args, **changed.kwargs)
            # NaN where torch gives NaN; where torch's kernel drops the NaN (multi_margin_loss:
            # `if (z > 0)` is false for NaN) lossbook may still give NaN, never another number
            assert torch.isnan(out)[torch.isnan(expected)].all(), slot.name
            finite = ~torch.isnan(out)
            torch.testing.assert_close(out[finite], expected[finite], rtol=1e-10, atol=1e-10)
        elif entry.name not in NAN_IS_A_VALUE:
            assert torch.isnan(out).any(), f"{slot.name}: NaN in, {out} out"


def limit(entry, slot, position: int, sign: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The loss with ``slot``'s entry at ``position`` set to ``sign * 1e100``, ``sign * 1e200``."""
    values = []
    for big in (1e100, 1e200):
        moved = slot.value.clone()
        moved.view(-1)[position] = sign * big
        values.append(call(entry, slot.replace(moved)))
    return values[0], values[1]


#: Which infinities an entry of the prediction can take (boxes: only x2 and y2, +inf).
INFINITIES = {"real": (1.0, -1.0), "nonnegative": (1.0,), "log_simplex": (-1.0,),
              "boxes": (1.0,), "unit": (), "simplex": ()}


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
@QUICK
@given(data=st.data())
def test_infinite_input_gives_the_limit_or_a_non_finite_value(entry, data):
    """Never a finite value where the math is infinite or undefined: a finite result with an
    infinite entry must be the loss's limit as that entry grows (checked at 1e100, 1e200)."""
    sample = make(entry)
    for slot in slots(entry, sample):
        is_prediction = slot.value is prediction(sample)
        kinds = INFINITIES[sample.domain] if is_prediction else (1.0, -1.0)
        position = data.draw(st.integers(0, slot.value.numel() - 1), label=slot.name)
        if is_prediction and sample.domain == "boxes":
            position = position // 4 * 4 + 2 + position % 2  # x2 or y2: still a valid box
        for sign in kinds:
            infinite = slot.value.clone()
            infinite.view(-1)[position] = sign * math.inf
            try:
                out = call(entry, slot.replace(infinite))
            except (ValueError, RuntimeError) as error:
                assert names_an_argument(entry, error), f"{slot.name}: {error!r}"
                continue
            if not torch.isfinite(out).all():
                continue
            near, far = limit(entry, slot, position, sign)
            assert close(out, far, 1e-6) and close(near, far, 1e-6), (
                f"{slot.name} = {sign} inf gives {out}; at 1e100: {near}, at 1e200: {far}")


# --------------------------------------------------------------------------- empty inputs
#: torch's kernels return uninitialised memory (e.g. 4.6e-310) for the mean over no samples;
#: lossbook returns 0/0 = NaN there, like torch's mse_loss.
TORCH_EMPTY_MEAN_IS_GARBAGE = {"multi_margin_loss", "multilabel_margin_loss"}
@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_empty_input_gives_torchs_result_or_names_the_argument(entry):
    """A batch of 0: torch's result where torch has one (also where torch raises, lossbook may
    return its 0/0 = NaN or 0), else a value or an error naming an argument — never an
    IndexError, ZeroDivisionError or UnboundLocalError from deep inside."""
    sample = make(entry, batch=0)
    try:
        out = call(entry, sample)
    except (ValueError, RuntimeError, TypeError) as error:
        assert names_an_argument(entry, error), repr(error)
        return
    assert out.dtype == prediction(sample).dtype
    if entry.name in TORCH_EMPTY_MEAN_IS_GARBAGE:
        assert torch.isnan(out)
        return
    reference = reference_call(entry)
    try:
        expected = reference(*sample.args, **sample.kwargs) if reference else None
    except (ValueError, RuntimeError):  # torch has no result (ctc_loss: "must not be empty")
        expected = None
    if expected is not None:
        torch.testing.assert_close(out, expected, equal_nan=True)


# --------------------------------------------------------------------------- half precision
@pytest.mark.parametrize("dtype", HALF, ids=str)
@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
@settings(max_examples=2, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**16))
@example(seed=6)
def test_half_precision_at_realistic_scale(entry, dtype, seed):
    half = make(entry, dtype, realistic=True, seed=seed)
    exact = catalog_to_float64(half)  # float64 of the very same half inputs: only the
    # computation's rounding counts, not the inputs'
    out = call(entry, half)
    assert out.dtype == dtype
    expected = rounded_to(call(entry, exact), dtype)
    assert close(out, expected, TOLERANCE[dtype]), (out, expected)


def catalog_to_float64(sample):
    """``sample`` with every floating tensor converted to float64 (on the CPU)."""
    return sample._replace(args=_samples.convert(sample.args, torch.float64, "cpu"),
                           kwargs=_samples.convert(sample.kwargs, torch.float64, "cpu"))


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_autocast_behaves_like_torch(entry, device):
    """CPU autocast to bfloat16 (CUDA: float16): the loss runs in float32, as torch's do."""
    sample = make(entry, torch.float32, device, realistic=True, seed=7)
    expected = call(entry, sample)
    low = torch.bfloat16 if device.type == "cpu" else torch.float16
    with torch.autocast(device.type, dtype=low):
        out = call(entry, sample)
        reference = reference_call(entry)
        if reference is not None:
            assert out.dtype == reference(*sample.args, **sample.kwargs).dtype
    assert out.dtype == expected.dtype
    assert close(out, expected, TOLERANCE[low]), (out, expected)


# --------------------------------------------------------------------------- extreme scales
#: Losses that are homogeneous in the prediction and its targets: f(c x, c y) = c^k f(x, y).
HOMOGENEOUS = {"l1_norm": 1, "l2_norm": 1, "lp_norm": 1, "linf_norm": 1, "rmse_loss": 1,
               "euclidean": 1, "manhattan": 1, "chebyshev": 1, "minkowski": 1,
               "standardized_euclidean": 1, "mahalanobis": 1, "cosine_distance": 0,
               "correlation_distance": 0, "bray_curtis": 0, "wasserstein_1d": 1}


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.name in HOMOGENEOUS], ids=ids)
@QUICK
@given(exponent=st.integers(-20, 20))
@example(exponent=20)
@example(exponent=-20)
def test_scale_invariant_quantities_are_right_from_1e_minus_20_to_1e20(entry, exponent):
    """In float32, like scipy's float64 and unlike a plain sum of squares (which overflows
    beyond 1e19 and underflows below 1e-23): the largest entry is divided out first."""
    sample = make(entry, torch.float32, seed=8)
    scale = 10.0**exponent
    scaled = with_prediction(sample, *[t * scale for t in moving(sample)])
    exact = catalog_to_float64(sample)
    expected = call(entry, exact) * scale ** HOMOGENEOUS[entry.name]
    assert close(call(entry, scaled) / scale ** HOMOGENEOUS[entry.name],
                 expected / scale ** HOMOGENEOUS[entry.name], TOLERANCE[torch.float32])
