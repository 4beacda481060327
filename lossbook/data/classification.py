"""Toy data for *Classification losses beyond plain cross-entropy*: generated, seeded, small.

Both sets are drawn on the CPU from a seeded generator and then moved to ``device``, so a
chapter prints the same numbers on CPU and CUDA.
"""

from __future__ import annotations

import math

import torch

from lossbook.data import generator


def imbalanced_blobs(
    n_majority: int, ratio: int = 100, *, seed: int, shift: float = 2.5, device=None,
    dtype=torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two overlapping 2-D Gaussian classes, ``ratio`` : 1 (a 1:100 set by default).

    Class 0 (the majority, ``n_majority`` points) is a standard normal blob at the origin;
    class 1 (the rare class, ``n_majority // ratio`` points) is a standard normal blob shifted
    by ``shift`` along the diagonal. Returns ``(x, y)``: features (N, 2) and labels (N,) as
    ``torch.long``, majority first.
    """
    n_rare = n_majority // ratio
    g = generator(seed)
    majority = torch.randn(n_majority, 2, generator=g, dtype=torch.float64)
    rare = torch.randn(n_rare, 2, generator=g, dtype=torch.float64) + shift / math.sqrt(2)
    x = torch.cat([majority, rare]).to(dtype)
    y = torch.cat([torch.zeros(n_majority, dtype=torch.long), torch.ones(n_rare, dtype=torch.long)])
    return x.to(device), y.to(device)


def ring_blobs(
    n_per_class: int, num_classes: int = 4, *, seed: int, radius: float = 2.0, std: float = 1.0,
    device=None, dtype=torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``num_classes`` 2-D Gaussian blobs with centres evenly spaced on a circle.

    Neighbouring blobs overlap when ``std`` is comparable to the gap between centres. Returns
    ``(x, y)``: points (N, 2) and labels (N,) as ``torch.long``, grouped by class.
    """
    g = generator(seed)
    angles = torch.arange(num_classes, dtype=torch.float64) * (2 * math.pi / num_classes)
    centres = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    noise = torch.randn(num_classes, n_per_class, 2, generator=g, dtype=torch.float64) * std
    x = (centres[:, None, :] + noise).reshape(-1, 2).to(dtype)
    y = torch.arange(num_classes).repeat_interleave(n_per_class)
    return x.to(device), y.to(device)
