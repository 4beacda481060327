"""Toy 2-D data for the GAN chapter: a ring of Gaussians and two blobs for CycleGAN.

How well a generator covers the ring is measured by :func:`lossbook.gan.mode_coverage`.

Everything is drawn on the CPU from seeded generators (see :mod:`lossbook.data`), so the
samples are identical on every device.
"""

from __future__ import annotations

import math

import torch

from lossbook.data import generator


def ring_centres(modes: int = 8, radius: float = 2.0, dtype=torch.float32) -> torch.Tensor:
    """The ``(modes, 2)`` centres, evenly spaced on a circle, the first at angle 0."""
    angles = torch.arange(modes, dtype=dtype) * (2 * math.pi / modes)
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)


def ring_of_gaussians(n: int, *, seed: int, modes: int = 8, radius: float = 2.0,
                      std: float = 0.05, device=None, dtype=torch.float32) -> torch.Tensor:
    """``n`` points from an equal mixture of ``modes`` Gaussians (s.d. ``std``) on a circle."""
    g = generator(seed)
    which = torch.randint(0, modes, (n,), generator=g)
    noise = torch.randn(n, 2, generator=g, dtype=dtype) * std
    return (ring_centres(modes, radius, dtype)[which] + noise).to(device)


def two_blobs(n: int, *, seed: int, device=None, dtype=torch.float32):
    """Two unpaired domains for the cycle-consistency demo: ``(a, b)``, each ``(n, 2)``.

    Domain A is an isotropic Gaussian around (-2, 0) with s.d. 0.5; domain B one around (2, 1)
    with s.d. 1. Any rotation about B's centre maps B onto itself, so matching the
    distributions alone leaves the pairing of points undetermined.
    """
    g = generator(seed)
    a = torch.randn(n, 2, generator=g, dtype=dtype) * 0.5 + torch.tensor([-2.0, 0.0], dtype=dtype)
    b = torch.randn(n, 2, generator=g, dtype=dtype) + torch.tensor([2.0, 1.0], dtype=dtype)
    return a.to(device), b.to(device)
