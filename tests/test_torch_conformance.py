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

import ast
import functools
import inspect
import re

import pytest
import torch
import torch.nn.functional as F

import lossbook
from lossbook import catalog
from tests.conformance import (
    compare,
    describe,
    first_line,
    gradcheck_wrapper,
    report,
    torch_testing,
)

# torch's own warnings about the samples it is given (a target broadcast against the input,
# kl_div's 'mean'): the samples are meant to exercise exactly that.
pytestmark = [pytest.mark.filterwarnings("ignore:Using a target size:UserWarning"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning"),
              pytest.mark.filterwarnings("ignore:linear_cross_entropy. ..options.. ignored")]

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
    "nn.functional.linear_cross_entropy": "linear_cross_entropy",
    "nn.functional.linear_cross_entropy.chunked": "linear_cross_entropy",
    "nn.functional.linear_cross_entropy.chunked_none": "linear_cross_entropy",
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
    "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "l1_loss",
    "linear_cross_entropy", "linear_cross_entropy.chunked", "linear_cross_entropy.chunked_none",
    "margin_ranking_loss",
    "multi_margin_loss", "multilabel_margin_loss", "poisson_nll_loss", "soft_margin_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss"))
# torch-named functions that are not losses, so the catalog does not list them.
NUMERICS = {"softmax", "log_softmax", "logsumexp", "softplus", "cosine_similarity", "pdist",
            "pairwise_distance"}


@functools.cache
def op_db() -> dict:
    """op_db by ``name[.variant]``; imported once per worker, on first use (≈ 4 s)."""
    ops = torch_testing("common_methods_invocations").op_db
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


def test_loading_op_db_leaves_torch_backends_settable():
    op_db()
    assert not torch.backends.flags_frozen()  # lossbook.runtime.setup sets cudnn flags


# --------------------------------------------------------------------------- signatures
def documented_signature(function) -> list[tuple[str, object]]:
    """``[(name, default), ...]`` from the first line of a builtin's docstring, which is all
    ``inspect`` has for torch's C functions: ``pdist(input, p=2) -> Tensor``."""
    found = re.search(rf"{function.__name__}\((.*?)\)", function.__doc__)
    parameters = []
    for parameter in found.group(1).split(","):
        name, _, default = parameter.strip().partition("=")
        if name in ("*", "out"):
            continue
        parameters.append((name, ast.literal_eval(default) if default else inspect.Parameter.empty))
    return parameters


TORCH_NUMERICS = {  # lossbook name -> torch's function; the catalog test covers the losses
    "softmax": F.softmax, "log_softmax": F.log_softmax, "logsumexp": torch.logsumexp,
    "softplus": F.softplus, "cosine_similarity": F.cosine_similarity, "pdist": F.pdist,
    "pairwise_distance": F.pairwise_distance,
}


@pytest.mark.parametrize("name", sorted(TORCH_NUMERICS))
def test_numerics_keep_torchs_signature(name):
    theirs = TORCH_NUMERICS[name]
    try:
        expected = [(p.name, p.default) for p in inspect.signature(theirs).parameters.values()
                    if p.name != "_stacklevel"]
    except ValueError:  # a builtin
        expected = documented_signature(theirs)
    ours = inspect.signature(getattr(lossbook, name)).parameters.values()
    assert [(p.name, p.default) for p in ours] == expected
    assert set(TORCH_NUMERICS) == NUMERICS


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
            failures.append(f"#{index} {describe(s)}: raised {first_line(error)}, "
                            f"torch raises {wanted.__name__}")
            continue
        failures.append(f"#{index} {describe(s)}: accepted; torch raises "
                        f"{wanted.__name__} ({error_input.error_regex})")
    assert not failures, report(op_name, failures, total)
