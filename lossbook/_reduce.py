"""Reductions, with torch's names and meanings.

``'none'`` returns the per-element loss, ``'sum'`` adds it up, ``'mean'`` averages it over
every element, and ``'batchmean'`` (only :func:`lossbook.kl_div` has it) divides the sum by the
batch size, the first dimension. Losses whose ``'mean'`` is a weighted mean (``nll_loss`` with
``weight``) divide by the weights themselves and do not come here for it.
"""

from __future__ import annotations

import torch

from lossbook import _checks as check


def reduce(loss: torch.Tensor, reduction: str, allowed=check.REDUCTIONS) -> torch.Tensor:
    """Apply ``reduction`` to an element-wise ``loss``."""
    check.reduction(reduction, allowed)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "batchmean":
        return loss.sum() / loss.shape[0] if loss.dim() > 0 else loss.sum()
    if loss.dtype in (torch.float32, torch.float64):
        # The mean as sum / n (0 / 0 = NaN when empty, as torch's): autograd's backward of
        # sum() is a view of the one gradient, that of mean() writes n copies of it / n.
        return loss.sum() / loss.numel()
    return loss.mean()  # half precision: mean() accumulates in float32, a sum would overflow
