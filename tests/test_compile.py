"""Every catalogued loss under ``torch.compile(fullgraph=True)``, on its catalog sample.

``fullgraph=True`` makes any graph break an error, so a loss passes only if it traces as one
graph — value checks included (``_checks`` skips the data-dependent ones while tracing).
The compiled loss must give eager's value and eager's gradient in the prediction (and in
every other floating input that requires one), in float64 with ``dynamic=False``.

**Cost, and the choice.** Tracing is the part that can fail; code generation (inductor) is
what costs 4-7 s per loss on this project's 2-core machine, 105 losses about ten minutes. So:

* ``make test`` compiles **every** loss with ``backend="aot_eager"``: dynamo traces the
  forward as one graph and AOTAutograd traces its backward (custom ``autograd.Function``\\ s
  included), then runs them with eager kernels — the fullgraph guarantee, for each function
  separately, at a fraction of a second per loss;
* it also compiles a representative subset (:data:`INDUCTOR`: the losses with hand-written
  backward passes, sorting, loops or data-dependent shapes) with the default inductor backend;
* ``make compile-check`` (``LOSSBOOK_COMPILE_ALL=1``) runs inductor on every loss.
"""

from __future__ import annotations

import os

import pytest
import torch

from tests.catalog_cases import ENTRIES, call, make, moving, with_prediction

#: Compiled with inductor in ``make test``: the losses whose code is most likely to trip the
#: code generator (custom autograd Functions, sort/searchsorted, loops, scatter).
INDUCTOR = {"cross_entropy", "binary_cross_entropy_with_logits", "huber_loss",
            "multilabel_margin_loss", "multi_margin_loss", "ctc_loss", "mmd",
            "generalized_box_iou_loss", "dice_loss", "wasserstein_1d"}
#: Losses that cannot compile with ``fullgraph=True``, and why (strict xfail: a torch that
#: learns to trace them turns the test red, and the entry goes).
CANNOT = {
    "gradient_penalty": "takes the critic's input gradient with torch.autograd.grad, which "
                        "dynamo does not trace (torch._dynamo.config.trace_autograd_ops)",
    "r1_penalty": "the same: torch.autograd.grad of the critic inside the loss",
}
EVERY = os.environ.get("LOSSBOOK_COMPILE_ALL") == "1"


def _gradients(entry, sample, fn):
    """``fn``'s value on ``sample`` and its gradients in the floating tensors among the
    prediction and its kind of targets (``sample.moving``)."""
    tensors = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in moving(sample)]
    out = fn(with_prediction(sample, *tensors))
    wanted = [t for t in tensors if t.requires_grad]
    if not out.requires_grad:  # piecewise constant (zero_one_loss, hamming): no gradient
        return out.detach(), []
    grads = torch.autograd.grad(out.sum(), wanted, allow_unused=True)
    return out.detach(), [g if g is None else g.detach() for g in grads]


def _check(entry, backend):
    torch._dynamo.reset()
    sample = make(entry, seed=5)
    compiled = torch.compile(lambda s: call(entry, s), fullgraph=True, dynamic=False,
                             backend=backend)
    expected, expected_grads = _gradients(entry, sample, lambda s: call(entry, s))
    out, grads = _gradients(entry, sample, compiled)
    torch.testing.assert_close(out, expected, rtol=1e-9, atol=1e-12)
    for g, e in zip(grads, expected_grads):
        assert (g is None) == (e is None)
        if g is not None:
            torch.testing.assert_close(g, e, rtol=1e-9, atol=1e-12)


def _cases(entries):
    return [pytest.param(e, id=e.name, marks=pytest.mark.xfail(
        strict=True, raises=torch._dynamo.exc.Unsupported, reason=CANNOT[e.name]))
            if e.name in CANNOT else pytest.param(e, id=e.name) for e in entries]


@pytest.mark.parametrize("entry", _cases(ENTRIES))
def test_every_loss_traces_as_one_graph(entry):
    _check(entry, "aot_eager")


@pytest.mark.parametrize("entry", _cases(e for e in ENTRIES if EVERY or e.name in INDUCTOR))
def test_compiled_with_inductor(entry):
    _check(entry, "inductor")


def test_the_inductor_subset_names_catalogued_losses():
    assert INDUCTOR | set(CANNOT) <= {e.name for e in ENTRIES}
