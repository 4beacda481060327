"""Batch normalisation, written out: what it standardises and what it remembers.

Appendix: *Activations and normalisation around the loss*
(``chapters/A2_activations_normalisation``). Not a loss, so not in the catalog; it is here
because every deep classifier's loss sits on top of it, and because the source notes describe
it wrongly (it does not make features standard normal, and at inference it does not use
statistics of the whole training set).
"""

from __future__ import annotations

import torch

from lossbook import _checks as check


def batch_norm(
    input: torch.Tensor,
    running_mean: torch.Tensor | None,
    running_var: torch.Tensor | None,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-05,
) -> torch.Tensor:
    r"""Batch normalisation per channel, $y = \gamma (x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta$.

    ``input`` is (N, C) or (N, C, L, ...): channel statistics are taken over every dimension
    except dim 1. In training, $\mu$ and $\sigma^2$ are the batch mean and the **biased** batch
    variance, and the running buffers are updated in place as exponential moving averages,

    $$\hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu, \qquad
      \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\tfrac{n}{n-1}\,\sigma^2$$

    with the **unbiased** variance ($n$ values per channel) and ``momentum`` $m$. In
    evaluation the running estimates are used instead of the batch's. Only the first two
    moments change: the shape of each channel's distribution (its skewness, say) is untouched.

    Reference: ``torch.nn.functional.batch_norm``; Ioffe & Szegedy (2015).
    """
    check.floating("input", input)
    if input.dim() < 2:
        raise check.ArgumentError(
            f"input: expected (N, C) or (N, C, ...), got shape {tuple(input.shape)}")
    reduce_dims = [0] + list(range(2, input.dim()))
    per_channel = [1, -1] + [1] * (input.dim() - 2)  # broadcast a (C,) vector over input
    if training:
        count = input.numel() // input.shape[1]
        if count < 2:
            raise check.ArgumentError(
                f"input: expected more than 1 value per channel when training, got shape "
                f"{tuple(input.shape)}"
            )
        mean = input.mean(dim=reduce_dims)
        var = input.var(dim=reduce_dims, unbiased=False)
        with torch.no_grad():  # the running buffers are statistics, not part of the graph
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(momentum * mean)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(momentum * var * count / (count - 1))
    else:
        if running_mean is None or running_var is None:
            raise check.ArgumentError(
                "running_mean: required (with running_var) when training=False")
        mean, var = running_mean.detach(), running_var.detach()  # buffers, as in torch
    out = (input - mean.view(per_channel)) / torch.sqrt(var.view(per_channel) + eps)
    if weight is not None:
        out = out * weight.view(per_channel)
    if bias is not None:
        out = out + bias.view(per_channel)
    return out


def skewness(x: torch.Tensor, dim: int = 0) -> torch.Tensor:
    r"""Sample skewness $\mathbb{E}[(x - \bar x)^3] / \sigma^3$ (biased moments) along ``dim``.

    Invariant under $x \mapsto a x + b$ with $a > 0$, which is why batch normalisation cannot
    remove it. Reference: ``scipy.stats.skew`` (its default ``bias=True``).
    """
    centred = x - x.mean(dim=dim, keepdim=True)
    return (centred**3).mean(dim=dim) / (centred**2).mean(dim=dim) ** 1.5
