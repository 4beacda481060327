"""Data for *Maximum likelihood — where losses come from*: coin flips, counts, noisy curves.

Everything is generated on the CPU from a seeded generator and then moved to ``device``, so
CPU and CUDA runs see the same numbers.
"""

from __future__ import annotations

import torch

from lossbook.data import generator

#: The source note's ten flips: six heads (H) and four tails (T).
NOTE_FLIPS = "HHTHHTHTHT"


def flips(sequence: str = NOTE_FLIPS, *, device=None, dtype=torch.float64) -> torch.Tensor:
    """A string of ``H``/``T`` as a tensor of 1 (heads) and 0 (tails)."""
    if set(sequence) - {"H", "T"}:
        raise ValueError(f"sequence: expected only 'H' and 'T', got {sequence!r}")
    return torch.tensor([c == "H" for c in sequence], dtype=dtype).to(device)


def coin(n: int, theta: float, *, seed: int, device=None, dtype=torch.float64) -> torch.Tensor:
    """``n`` flips of a coin with probability ``theta`` of heads, as 1/0."""
    heads = torch.rand(n, generator=generator(seed), dtype=torch.float64) < theta
    return heads.to(dtype).to(device)


def tails_before_heads(n: int, theta: float, *, seed: int, device=None) -> torch.Tensor:
    """``n`` draws of the number of tails before the first head (Geometric(``theta``)).

    Drawn by inversion, $\\lfloor \\log U / \\log(1 - \\theta) \\rfloor$ for uniform $U$, as
    ``torch.long``.
    """
    u = torch.rand(n, generator=generator(seed), dtype=torch.float64)
    u = u.clamp(min=torch.finfo(torch.float64).tiny)  # log 0 is never taken
    draws = torch.floor(torch.log(u) / torch.log1p(torch.tensor(-theta, dtype=torch.float64)))
    return draws.long().to(device)


def counts(n: int, intercept: float, slope: float, *, seed: int, device=None,
           dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Count data for Poisson regression: ``x`` uniform in [0, 2] and
    ``y ~ Poisson(exp(intercept + slope * x))``. Returns ``(x, y)``, both floating."""
    g = generator(seed)
    x = 2 * torch.rand(n, generator=g, dtype=torch.float64)
    y = torch.poisson(torch.exp(intercept + slope * x), generator=g)
    return x.to(dtype).to(device), y.to(dtype).to(device)


def noise_std(x: torch.Tensor) -> torch.Tensor:
    """The true noise level of :func:`heteroscedastic`: 0.05 at x = 0, 0.55 at |x| = 3."""
    return 0.05 + x.abs() / 6


def heteroscedastic(n: int, *, seed: int, device=None,
                    dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """``y = sin(x) + noise_std(x) * N(0, 1)`` for ``x`` uniform in [-3, 3].

    Returns ``(x, y)`` as columns, shape (n, 1): ready for a network with one input.
    """
    g = generator(seed)
    x = 6 * torch.rand(n, 1, generator=g, dtype=torch.float64) - 3
    y = torch.sin(x) + noise_std(x) * torch.randn(n, 1, generator=g, dtype=torch.float64)
    return x.to(dtype).to(device), y.to(dtype).to(device)
