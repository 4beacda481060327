"""lossbook.nn: every module twin against its torch.nn class — constructor signature, buffers,
and PyTorch's own module test inputs (``common_modules.module_db``: value, gradient, errors)."""

from __future__ import annotations

import functools
import inspect
import io

import pytest
import torch

import lossbook
import lossbook.nn as lnn
from lossbook import catalog
from tests.conformance import compare, describe, first_line, report, torch_testing
from tests.reference import assert_matches, randn

TWINS = [getattr(lnn, name) for name in lnn.__all__ if isinstance(getattr(lnn, name), type)]
# torch.nn loss classes without a twin here: a different kind of layer, another task's.
NOT_TWINNED = {"AdaptiveLogSoftmaxWithLoss"}
# Twins that are layers as well as losses: their constructor builds parameters, so not every
# constructor argument goes to the functional.
LAYERS = {"LinearCrossEntropyLoss"}
# The twins whose torch class module_db has inputs for (the coverage test checks this list).
IN_MODULE_DB = sorted([
    "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss", "CrossEntropyLoss",
    "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss",
    "LinearCrossEntropyLoss", "LogSoftmax",
    "MSELoss", "MarginRankingLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
    "MultiMarginLoss", "NLLLoss", "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss", "Softmax",
    "Softplus"])
WITH_ERROR_INPUTS = ["CrossEntropyLoss", "HuberLoss", "MultiMarginLoss", "NLLLoss"]

pytestmark = [pytest.mark.filterwarnings("ignore:Using a target size:UserWarning"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning"),
              pytest.mark.filterwarnings("ignore:linear_cross_entropy. ..options.. ignored")]


@functools.cache
def module_db() -> dict:
    """module_db by class name; imported once per worker, on first use."""
    infos = torch_testing("common_modules").module_db
    return {info.module_cls.__name__: info for info in infos}


# --------------------------------------------------------------------------- coverage
def test_every_torch_named_loss_and_torch_loss_class_has_a_twin():
    functionals = {twin.functional for twin in TWINS}
    torch_named = {e.function for e in catalog.entries()
                   if (e.reference or "").startswith("torch.nn.functional.")}
    assert torch_named <= functionals, sorted(f.__name__ for f in torch_named - functionals)
    torch_losses = {name for name in dir(torch.nn) if name.endswith("Loss")} - NOT_TWINNED
    assert torch_losses <= {twin.__name__ for twin in TWINS}
    for name in ("CosineSimilarity", "PairwiseDistance", "Softmax", "LogSoftmax", "Softplus"):
        assert hasattr(lnn, name)


def test_the_module_db_list_is_complete():
    assert sorted(set(module_db()) & {twin.__name__ for twin in TWINS}) == IN_MODULE_DB


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.__name__)
def test_twin_is_a_module_named_and_called_like_torchs(twin):
    theirs = getattr(torch.nn, twin.__name__)
    assert twin.torch_class is theirs and twin is not theirs
    assert issubclass(twin, torch.nn.Module) and twin.__module__ == "lossbook.nn"
    ours = inspect.signature(twin).parameters
    expected = {name: p for name, p in inspect.signature(theirs).parameters.items()
                if name not in lnn.DEPRECATED}
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in expected.values()]
    forward = list(inspect.signature(twin.forward).parameters)
    assert forward == list(inspect.signature(theirs.forward).parameters)
    # the functional takes every constructor argument by name (a layer's: but its shapes)
    shapes = {"in_features", "num_classes", "out_features", "bias", "device", "dtype"}
    assert set(ours) - (shapes if twin.__name__ in LAYERS else set()) <= set(
        inspect.signature(twin.functional).parameters)
    doc = inspect.getdoc(twin)
    assert doc.startswith(f"{twin.__name__}(") and f"lossbook.{twin.functional.__name__}(" in doc


def test_arguments_after_a_deprecated_one_are_keyword_only():
    # torch: CrossEntropyLoss(weight, size_average, ignore_index, ...): a positional 5 meant
    # for ignore_index must not land anywhere else
    with pytest.raises(TypeError):
        lnn.CrossEntropyLoss(None, None, 5)
    assert lnn.CrossEntropyLoss(None, ignore_index=5).ignore_index == 5
    assert lnn.MultiMarginLoss(2, 0.5).p == 2  # before the deprecated ones: positional


# --------------------------------------------------------------------------- behaviour
def test_tensor_arguments_are_buffers_like_torchs(device):
    weight, pos_weight = torch.rand(3), torch.rand(3) + 0.5
    for cls, kwargs in ((lnn.CrossEntropyLoss, dict(weight=weight)),
                        (lnn.BCEWithLogitsLoss, dict(weight=weight, pos_weight=pos_weight)),
                        (lnn.MultiMarginLoss, dict(weight=weight))):
        ours, theirs = cls(**kwargs), getattr(torch.nn, cls.__name__)(**kwargs)
        assert ours.state_dict().keys() == theirs.state_dict().keys()
        ours.to(device=device, dtype=torch.float64)
        for name in kwargs:
            assert getattr(ours, name).device.type == device.type
            assert getattr(ours, name).dtype == torch.float64  # .to(dtype) casts buffers too
    x, y = randn(4, 3, device=device), torch.tensor([0, 2, 1, 2], device=device)
    criterion = lnn.CrossEntropyLoss(weight=weight.double()).to(device)
    torch.testing.assert_close(
        criterion(x, y), torch.nn.CrossEntropyLoss(weight=weight.double()).to(device)(x, y))


def test_attributes_can_be_changed_after_construction_like_torchs():
    criterion = lnn.MSELoss()
    x, y = randn(5), randn(5, seed=1)
    criterion.reduction = "sum"
    torch.testing.assert_close(criterion(x, y), torch.nn.MSELoss(reduction="sum")(x, y))
    assert repr(criterion) == "MSELoss(reduction='sum')"


def test_a_twin_survives_torch_save_and_load():
    buffer = io.BytesIO()
    torch.save(lnn.NLLLoss(weight=torch.ones(3), ignore_index=1), buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert type(loaded) is lnn.NLLLoss and loaded.ignore_index == 1


@pytest.mark.parametrize("kwargs", [{}, dict(out_features=(3,), bias=True, reduction="sum",
                                              ignore_index=1, label_smoothing=0.1)])
def test_linear_cross_entropy_twin_is_torchs_layer_and_loss(device, dtype, kwargs):
    out = kwargs.get("out_features", ())
    theirs = torch.nn.LinearCrossEntropyLoss(4, 5, weight=torch.rand(5, dtype=dtype), **kwargs)
    ours = lnn.LinearCrossEntropyLoss(4, 5, weight=theirs.weight, **kwargs)
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    ours.load_state_dict(theirs.state_dict())  # the same projection in both
    ours.to(device=device, dtype=dtype), theirs.to(device=device, dtype=dtype)
    x = randn(6, 4, dtype=dtype, device=device)  # logits (6, 5, *out) = W (5, *out, 4) x
    y = torch.randint(0, 5, (6, *out), generator=torch.Generator().manual_seed(0)).to(device)
    assert_matches(ours, theirs, x, y)
    grads = [torch.autograd.grad(criterion(x, y).sum(), list(criterion.linear.parameters()))
             for criterion in (ours, theirs)]
    for mine, torchs in zip(*grads):  # the projection's gradient too
        torch.testing.assert_close(mine, torchs)


def test_linear_cross_entropy_twin_refuses_what_torch_refuses():
    for kwargs in (dict(weight=torch.ones(3)), dict(label_smoothing=1.5)):
        with pytest.raises(RuntimeError):
            torch.nn.LinearCrossEntropyLoss(4, 5, **kwargs)
        with pytest.raises(RuntimeError, match="weight|label_smoothing"):
            lnn.LinearCrossEntropyLoss(4, 5, **kwargs)


def test_twins_are_exported():
    assert lossbook.nn is lnn
    assert lnn.CrossEntropyLoss.functional is lossbook.cross_entropy


# Twins whose torch class module_db has no inputs for: compared here, as a user calls them.
@pytest.mark.parametrize("kwargs", [{}, dict(margin=0.3, p=1.0, swap=True, reduction="sum")])
def test_triplet_margin_loss_twin_matches_torch(device, dtype, kwargs):
    a, p, n = (randn(6, 4, seed=s, dtype=dtype, device=device) for s in range(3))
    assert_matches(lnn.TripletMarginLoss(**kwargs), torch.nn.TripletMarginLoss(**kwargs), a, p, n)


def test_triplet_margin_with_distance_loss_twin_matches_torch(device, dtype):
    a, p, n = (randn(6, 4, seed=s, dtype=dtype, device=device) for s in range(3))
    for kwargs in ({}, dict(distance_function=lambda x, y: 1 - torch.cosine_similarity(x, y),
                            margin=0.5, swap=True, reduction="none")):
        assert_matches(lnn.TripletMarginWithDistanceLoss(**kwargs),
                       torch.nn.TripletMarginWithDistanceLoss(**kwargs), a, p, n)


def test_distance_and_similarity_twins_match_torch(device, dtype):
    x1, x2 = randn(5, 4, dtype=dtype, device=device), randn(5, 4, seed=1, dtype=dtype,
                                                            device=device)
    for kwargs in ({}, dict(p=1.0, eps=1e-3, keepdim=True)):
        assert_matches(lnn.PairwiseDistance(**kwargs), torch.nn.PairwiseDistance(**kwargs),
                       x1, x2)
    for kwargs in ({}, dict(dim=0, eps=0.5)):
        assert_matches(lnn.CosineSimilarity(**kwargs), torch.nn.CosineSimilarity(**kwargs),
                       x1, x2)


# --------------------------------------------------------------------------- module_db
def _sample(forward_input):
    """A module_db forward input as an op_db-style sample: ``input``, ``args``, ``kwargs``."""
    SampleInput = torch_testing("opinfo.core").SampleInput
    args = forward_input.args
    return SampleInput(args[0], args=tuple(args[1:]), kwargs=dict(forward_input.kwargs))


def _wrapper(name):
    """How gradients are compared: CTC's through ``log_softmax``, as op_db's ``ctc_loss``
    gradcheck wrapper does (torch's CTC gradient is defined only there; module_db skips the
    CTCLoss gradient test for that reason)."""
    if name != "CTCLoss":
        return None
    return torch_testing("common_methods_invocations").gradcheck_wrapper_ctc_loss


def _construct(cls, constructor_input):
    return cls(*constructor_input.args, **constructor_input.kwargs)


def _compare_layers(ours, theirs, forward) -> str | None:
    """Value, and the gradients of the inputs and parameters, of two modules holding the same
    parameters; None when they agree."""
    results = []
    for module in (ours, theirs):
        args = [a.detach().requires_grad_(a.requires_grad) if isinstance(a, torch.Tensor) else a
                for a in forward.args]
        value = module(*args, **forward.kwargs)
        leaves = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
        leaves += list(module.parameters())
        results.append((value, torch.autograd.grad(value.sum(), leaves, allow_unused=True)))
    try:
        torch.testing.assert_close(results[0][0], results[1][0], equal_nan=True)
        for mine, torchs in zip(results[0][1], results[1][1]):
            if mine is not None or torchs is not None:
                torch.testing.assert_close(mine, torchs, equal_nan=True)
    except (AssertionError, TypeError) as error:
        return first_line(error)
    return None


@pytest.mark.parametrize("name", IN_MODULE_DB)
def test_module_inputs_match_torch(name, dtype, device):
    """Every module_db input: the twin built with the same constructor arguments gives torch's
    value, dtype, shape and gradients (or both refuse)."""
    info, ours_class = module_db()[name], getattr(lnn, name)
    assert not info.train_and_eval_differ  # a loss does the same in both: training=True only
    failures, total = [], 0
    module_inputs = info.module_inputs_func(info, device=device, dtype=dtype,
                                            requires_grad=True, training=True)
    for index, module_input in enumerate(module_inputs):
        total += 1
        constructor = module_input.constructor_input
        label = (f"#{index} {name}(*{constructor.args}, **{constructor.kwargs})"
                 f"({describe(_sample(module_input.forward_input))})")
        try:
            theirs = _construct(info.module_cls, constructor)
        except Exception as error:  # torch refuses to build it: so must lossbook
            try:
                _construct(ours_class, constructor)
            except Exception:
                continue
            failures.append(f"{label}: built; torch raises {first_line(error)}")
            continue
        try:
            ours = _construct(ours_class, constructor)
        except Exception as error:
            failures.append(f"{label}: construction refused: {first_line(error)}")
            continue
        theirs.to(device), ours.to(device)
        if name in LAYERS:  # the same parameters in both, compared in the sample's dtype
            ours.load_state_dict(theirs.state_dict())
            problem = _compare_layers(ours, theirs, module_input.forward_input)
        else:
            problem = compare(ours, theirs, _sample(module_input.forward_input), _wrapper(name))
        if problem is not None:
            failures.append(f"{label}: {problem}")
    assert total > 0, f"{name}: module_db gave no inputs"
    assert not failures, report(name, failures, total)


@pytest.mark.parametrize("name", WITH_ERROR_INPUTS)
def test_module_error_inputs_raise_torchs_error_type(name, device):
    """Every module_db error input: the twin raises torch's error type, at construction or in
    ``forward`` as torch does."""
    ModuleErrorEnum = torch_testing("common_modules").ModuleErrorEnum
    info, ours_class = module_db()[name], getattr(lnn, name)
    failures, total = [], 0
    errors = info.module_error_inputs_func(info, device=device, dtype=torch.float32,
                                           requires_grad=False, training=True)
    for index, error_input in enumerate(errors):
        total += 1
        module_input, wanted = error_input.module_error_input, error_input.error_type
        constructor = module_input.constructor_input
        try:
            ours = _construct(ours_class, constructor)
            if error_input.error_on == ModuleErrorEnum.FORWARD_ERROR:
                forward = module_input.forward_input
                ours.to(device)(*forward.args, **forward.kwargs)
        except wanted:
            continue
        except Exception as error:
            failures.append(f"#{index}: raised {first_line(error)}, torch raises {wanted}")
            continue
        failures.append(f"#{index}: accepted; torch raises {wanted.__name__} "
                        f"({error_input.error_regex})")
    assert total > 0
    assert not failures, report(name, failures, total)


def test_the_error_input_list_is_complete():
    with_errors = [name for name in IN_MODULE_DB
                   if module_db()[name].module_error_inputs_func is not None]
    assert with_errors == WITH_ERROR_INPUTS
