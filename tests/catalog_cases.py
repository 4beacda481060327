"""Calling catalogued losses on their own sample inputs: the machinery the catalog-driven tests
(``test_catalog_numerics.py``, ``test_catalog_properties.py``) share."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from lossbook import _checks as check
from lossbook import _samples, catalog

ENTRIES = catalog.entries()


def ids(entry: catalog.Entry) -> str:
    return entry.name


def make(entry: catalog.Entry, dtype=torch.float64, device="cpu", seed=0, **options
         ) -> catalog.Sample:
    """The entry's sample drawn from ``seed`` (``options``: ``batch``, ``realistic``)."""
    return entry.inputs(torch.Generator().manual_seed(seed), dtype, device, **options)


def call(entry: catalog.Entry, sample: catalog.Sample, **kwargs) -> torch.Tensor:
    return entry.function(*sample.args, **{**sample.kwargs, **kwargs})


def prediction(sample: catalog.Sample) -> torch.Tensor:
    return _samples.tensor_of(sample.args[0])


def with_prediction(sample: catalog.Sample, tensor: torch.Tensor, *others: torch.Tensor
                    ) -> catalog.Sample:
    """``sample`` with its prediction (and the other ``moving`` arguments, in order) replaced."""
    args = list(sample.args)
    args[0] = _samples.with_tensor(args[0], tensor)
    for position, other in zip(sample.moving[1:], others):
        args[position] = _samples.with_tensor(args[position], other)
    return sample._replace(args=tuple(args))


def moving(sample: catalog.Sample) -> list[torch.Tensor]:
    """The prediction and the targets of its kind, as ``with_prediction`` takes them."""
    return [_samples.tensor_of(sample.args[i]) for i in sample.moving]


@dataclass
class Slot:
    """One floating tensor of a sample: the argument's name, its value, and how to replace it."""

    name: str
    value: torch.Tensor
    replace: Callable[[torch.Tensor], catalog.Sample]


def slots(entry: catalog.Entry, sample: catalog.Sample) -> Iterator[Slot]:
    """Every floating-point tensor among the sample's arguments (a critic's weight included)."""
    names = list(inspect.signature(entry.function).parameters)
    for i, value in enumerate(sample.args):
        tensor = _samples.tensor_of(value)
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point():
            def replace(t, i=i, value=value):
                args = list(sample.args)
                args[i] = _samples.with_tensor(value, t)
                return sample._replace(args=tuple(args))
            yield Slot(names[i], tensor, replace)
    for key, value in sample.kwargs.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            yield Slot(key, value, lambda t, key=key: sample._replace(
                kwargs={**sample.kwargs, key: t}))


def names_an_argument(entry: catalog.Entry, error: Exception) -> bool:
    """The error is lossbook's and its message starts with the function's argument names."""
    if not isinstance(error, (check.ArgumentError, check.ArgumentTypeError)):
        return False
    parameters = set(inspect.signature(entry.function).parameters)
    head = str(error).split(":", 1)[0]
    return all(part.split("[")[0].strip() in parameters for part in head.split(","))


def _floating(value) -> bool:
    tensor = _samples.tensor_of(value)
    return isinstance(tensor, torch.Tensor) and tensor.is_floating_point()


def leaves_of(sample: catalog.Sample) -> list[torch.Tensor]:
    """The floating tensors among ``args`` (a critic's weight, a layer's maps included)."""
    return [_samples.tensor_of(value) for value in sample.args if _floating(value)]


def with_leaves(sample: catalog.Sample, tensors) -> catalog.Sample:
    """``sample`` with the tensors of :func:`leaves_of` replaced by ``tensors``, in order."""
    tensors, args = iter(tensors), []
    for value in sample.args:
        args.append(_samples.with_tensor(value, next(tensors)) if _floating(value) else value)
    return sample._replace(args=tuple(args))


def differentiable_leaves(sample: catalog.Sample) -> tuple[catalog.Sample, list[torch.Tensor]]:
    """A copy of ``sample`` whose floating tensors in ``args`` are fresh leaves needing grad."""
    leaves = [t.detach().clone().requires_grad_() for t in leaves_of(sample)]
    return with_leaves(sample, leaves), leaves


def reference_call(entry: catalog.Entry) -> Callable | None:
    """torch's function of the same name, called like lossbook's (same signature), or None.

    Other references (scipy, scikit-learn, torchvision, kornia) take other arguments; the
    family modules' tests compare with those.
    """
    if not (entry.reference or "").startswith("torch.nn.functional."):
        return None
    return entry.reference_callable()
