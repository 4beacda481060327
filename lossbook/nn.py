"""Module forms of the torch-named functions, for code written against ``torch.nn``.

A torch user writes ``criterion = nn.CrossEntropyLoss(weight=w)`` once and calls
``criterion(logits, target)`` in the loop. ``lossbook.nn.CrossEntropyLoss`` takes the same
constructor arguments and its ``forward`` calls :func:`lossbook.cross_entropy` with them, so
``import lossbook.nn as nn`` swaps every such loss at once.

Every class here is made by one function, :func:`twin`, from two things: lossbook's
functional and the ``torch.nn`` class it stands in for. From torch's class it reads

* the constructor's signature — names, defaults, order — without the deprecated
  ``size_average`` and ``reduce`` (the arguments after them become keyword-only, so a
  positional call written for torch's order raises instead of shifting silently);
* which arguments torch keeps as **buffers** (``weight``, ``pos_weight``): they are buffers
  here too, so ``.to(device)`` moves them and ``state_dict()`` saves them, under torch's names;
* ``forward``'s argument names.

The other constructor arguments are plain attributes (``criterion.reduction = "sum"`` works,
as in torch) passed to the functional by name on every call.

A few torch constructors check their arguments (``HuberLoss``'s ``delta`` must be a number,
``MultiMarginLoss``'s ``p`` 1 or 2, ``TripletMarginLoss``'s ``margin`` positive). So that a
twin refuses at construction exactly what torch refuses there, its constructor builds torch's
module once with the same arguments and drops it; the loss itself is always lossbook's (the
functional checks the same arguments again, with lossbook's messages, on every call).
"""

from __future__ import annotations

import inspect
import math

import torch

from lossbook import _checks, _numerics
from lossbook.embedding import (
    cosine_embedding_loss,
    cosine_similarity,
    pairwise_distance,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from lossbook.information import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    kl_div,
    nll_loss,
)
from lossbook.language import linear_cross_entropy
from lossbook.likelihood import gaussian_nll_loss, poisson_nll_loss
from lossbook.margin import (
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)
from lossbook.regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss
from lossbook.sequence import ctc_loss

DEPRECATED = ("size_average", "reduce")


def constructor_signature(torch_class: type) -> inspect.Signature:
    """``torch_class.__init__``'s signature without ``self`` and the deprecated arguments;
    what followed a dropped argument becomes keyword-only."""
    kept, keyword_only = [], False
    for parameter in list(inspect.signature(torch_class.__init__).parameters.values())[1:]:
        if parameter.name in DEPRECATED:
            keyword_only = True
        elif keyword_only and parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            kept.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))
        else:
            kept.append(parameter)
    return inspect.Signature(kept)


def twin(functional, torch_class: type) -> type:
    """A ``torch.nn.Module`` subclass named like ``torch_class`` whose ``forward(*inputs)``
    returns ``functional(*inputs, **constructor_arguments)``; the class keeps both as
    ``functional`` and ``torch_class``."""
    signature = constructor_signature(torch_class)
    forward_signature = inspect.signature(torch_class.forward)
    inputs = list(forward_signature.parameters)[1:]
    buffers = tuple(torch_class()._buffers)  # what torch registers as buffers, by name
    name = torch_class.__name__

    def __init__(self, *args, **kwargs):
        torch.nn.Module.__init__(self)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        torch_class(**bound.arguments)  # torch's constructor checks; its module is dropped
        for argument, value in bound.arguments.items():
            if argument in buffers:
                self.register_buffer(argument, value)
            else:
                setattr(self, argument, value)

    def forward(self, *args, **kwargs):
        bound = forward_signature.bind(self, *args, **kwargs)
        options = {argument: getattr(self, argument) for argument in signature.parameters}
        return functional(*bound.args[1:], **options)

    def extra_repr(self) -> str:  # the arguments that differ from the defaults
        return ", ".join(f"{argument}={getattr(self, argument)!r}"
                         for argument, parameter in signature.parameters.items()
                         if argument not in buffers
                         and repr(getattr(self, argument)) != repr(parameter.default))

    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = signature.replace(
        parameters=[self_parameter, *signature.parameters.values()])
    forward.__signature__ = forward_signature
    namespace = dict(__init__=__init__, forward=forward, extra_repr=extra_repr,
                     functional=staticmethod(functional), torch_class=torch_class,
                     __module__=__name__, __qualname__=name,
                     __doc__=_docstring(name, functional, signature, inputs, buffers))
    for method in (__init__, forward, extra_repr):
        method.__qualname__ = f"{name}.{method.__name__}"
    return type(name, (torch.nn.Module,), namespace)


def _docstring(name, functional, signature, inputs, buffers) -> str:
    summary = inspect.getdoc(functional).split("\n\n")[0]
    signature = signature.replace(  # without torch's type annotations, for reading
        parameters=[p.replace(annotation=p.empty) for p in signature.parameters.values()],
        return_annotation=inspect.Signature.empty)
    call = ", ".join([*inputs, *(f"{a}=self.{a}" for a in signature.parameters)])
    stored = (f" Tensor arguments ({', '.join(f'``{b}``' for b in buffers)}) are buffers, as "
              f"in torch: ``.to(device)`` moves them, ``state_dict()`` saves them."
              if buffers else "")
    return (f"{name}{signature}: ``torch.nn.{name}`` computed by lossbook.\n\n"
            f"``forward({', '.join(inputs)})`` returns "
            f"``lossbook.{functional.__name__}({call})``.{stored}\n\n"
            f"{functional.__name__}: {summary}")


# --------------------------------------------------------------------------- the twins
# Information (chapter 04)
CrossEntropyLoss = twin(cross_entropy, torch.nn.CrossEntropyLoss)
NLLLoss = twin(nll_loss, torch.nn.NLLLoss)
BCELoss = twin(binary_cross_entropy, torch.nn.BCELoss)
BCEWithLogitsLoss = twin(binary_cross_entropy_with_logits, torch.nn.BCEWithLogitsLoss)
KLDivLoss = twin(kl_div, torch.nn.KLDivLoss)
# Regression (chapter 02) and likelihood (chapter 03)
L1Loss = twin(l1_loss, torch.nn.L1Loss)
MSELoss = twin(mse_loss, torch.nn.MSELoss)
SmoothL1Loss = twin(smooth_l1_loss, torch.nn.SmoothL1Loss)
HuberLoss = twin(huber_loss, torch.nn.HuberLoss)
PoissonNLLLoss = twin(poisson_nll_loss, torch.nn.PoissonNLLLoss)
GaussianNLLLoss = twin(gaussian_nll_loss, torch.nn.GaussianNLLLoss)
# Margin (chapter 06)
MarginRankingLoss = twin(margin_ranking_loss, torch.nn.MarginRankingLoss)
HingeEmbeddingLoss = twin(hinge_embedding_loss, torch.nn.HingeEmbeddingLoss)
SoftMarginLoss = twin(soft_margin_loss, torch.nn.SoftMarginLoss)
MultiLabelMarginLoss = twin(multilabel_margin_loss, torch.nn.MultiLabelMarginLoss)
MultiLabelSoftMarginLoss = twin(multilabel_soft_margin_loss, torch.nn.MultiLabelSoftMarginLoss)
MultiMarginLoss = twin(multi_margin_loss, torch.nn.MultiMarginLoss)
# Embedding (chapter 07)
TripletMarginLoss = twin(triplet_margin_loss, torch.nn.TripletMarginLoss)
TripletMarginWithDistanceLoss = twin(triplet_margin_with_distance_loss,
                                     torch.nn.TripletMarginWithDistanceLoss)
CosineEmbeddingLoss = twin(cosine_embedding_loss, torch.nn.CosineEmbeddingLoss)
CosineSimilarity = twin(cosine_similarity, torch.nn.CosineSimilarity)
PairwiseDistance = twin(pairwise_distance, torch.nn.PairwiseDistance)
# Sequence (chapter 09)
CTCLoss = twin(ctc_loss, torch.nn.CTCLoss)
# The softmax family and softplus
Softmax = twin(_numerics.softmax, torch.nn.Softmax)
LogSoftmax = twin(_numerics.log_softmax, torch.nn.LogSoftmax)
Softplus = twin(_numerics.softplus, torch.nn.Softplus)

# Language models (chapter 15). torch's class is a layer *and* a loss: it owns the projection
# (an ``nn.Linear`` of ``num_classes * prod(out_features)`` outputs) and passes its weight,
# reshaped, to the functional. Not a ``twin`` — its constructor builds parameters — but the
# same contract: torch's constructor signature and parameter names, lossbook's loss.
class LinearCrossEntropyLoss(torch.nn.Module):
    """LinearCrossEntropyLoss(in_features, num_classes, *, out_features=(), bias=False,
    device=None, dtype=None, reduction='mean', weight=None, ignore_index=None,
    label_smoothing=0.0, options=None): ``torch.nn.LinearCrossEntropyLoss`` computed by lossbook.

    ``forward(input, target)`` returns ``lossbook.linear_cross_entropy(input, W, target,
    linear_bias=b, weight=self.weight, reduction=..., ignore_index=..., label_smoothing=...,
    options=...)`` with ``W = self.linear.weight`` reshaped to ``(num_classes, *out_features,
    in_features)`` (and ``b`` likewise), as torch's does; ``self.linear`` and the ``weight``
    buffer have torch's names, so a ``state_dict`` moves between the two.
    """

    functional = staticmethod(linear_cross_entropy)
    torch_class = torch.nn.LinearCrossEntropyLoss

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple[int, ...] = (),
                 bias: bool = False, device=None, dtype=None, reduction: str = "mean",
                 weight: torch.Tensor | None = None, ignore_index: int | None = None,
                 label_smoothing: float = 0.0, options=None) -> None:
        super().__init__()
        if weight is not None and weight.shape != (num_classes,):
            raise _checks.ArgumentError(
                f"weight: expected shape {(num_classes,)}, got {tuple(weight.shape)}")
        _checks.number("label_smoothing", label_smoothing, 0.0 <= label_smoothing <= 1.0,
                       "a number in [0, 1]")
        self.register_buffer("weight", weight)
        self.num_classes, self.out_features = num_classes, tuple(out_features)
        self.reduction, self.ignore_index = reduction, ignore_index
        self.label_smoothing, self.options = label_smoothing, options
        self.linear = torch.nn.Linear(in_features, math.prod(out_features, start=num_classes),
                                      bias=bias, device=device, dtype=dtype)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        shape = (self.num_classes, *self.out_features)
        bias = None if self.linear.bias is None else self.linear.bias.reshape(shape)
        return linear_cross_entropy(
            input, self.linear.weight.reshape(*shape, self.linear.in_features), target,
            linear_bias=bias, weight=self.weight, reduction=self.reduction,
            ignore_index=self.ignore_index, label_smoothing=self.label_smoothing,
            options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}")


__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss", "CosineSimilarity",
    "CrossEntropyLoss", "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss",
    "L1Loss", "LinearCrossEntropyLoss", "LogSoftmax", "MSELoss", "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss", "PairwiseDistance",
    "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss", "Softmax", "Softplus",
    "TripletMarginLoss", "TripletMarginWithDistanceLoss", "constructor_signature", "twin",
]
