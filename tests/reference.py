"""Comparing a lossbook function with its independent reference, in value and in gradient."""

from __future__ import annotations

import torch

TOLERANCES = {
    torch.float16: dict(atol=1e-3, rtol=1e-3),
    torch.bfloat16: dict(atol=1e-2, rtol=1e-2),
    torch.float32: dict(atol=1e-5, rtol=1e-5),
    torch.float64: dict(atol=1e-10, rtol=1e-10),
}


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0, dtype=torch.float64, device="cpu", scale=1.0) -> torch.Tensor:
    """Standard normal samples from a seeded CPU generator, moved to ``device``."""
    return (torch.randn(*shape, generator=generator(seed), dtype=dtype) * scale).to(device)


def rand(*shape, seed=0, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """Uniform [0, 1) samples from a seeded CPU generator, moved to ``device``."""
    return torch.rand(*shape, generator=generator(seed), dtype=dtype).to(device)


def classes(*shape, num_classes, seed=0, device="cpu") -> torch.Tensor:
    """Class indices in [0, num_classes) from a seeded CPU generator, moved to ``device``."""
    return torch.randint(0, num_classes, shape, generator=generator(seed)).to(device)


def leaf(t: torch.Tensor) -> torch.Tensor:
    """A fresh leaf tensor that requires grad (floating point) or a plain copy (integer)."""
    t = t.detach().clone()
    return t.requires_grad_() if t.is_floating_point() else t


def assert_matches(ours, theirs, *args, grad: bool = True, atol=None, rtol=None, **kwargs):
    """``ours(*args, **kwargs)`` equals ``theirs(...)`` in value and, for every floating-point
    tensor argument, in the gradient of a random projection of the output."""
    a_args = [leaf(a) if isinstance(a, torch.Tensor) else a for a in args]
    b_args = [leaf(a) if isinstance(a, torch.Tensor) else a for a in args]
    a, b = ours(*a_args, **kwargs), theirs(*b_args, **kwargs)
    dtype = a.dtype if a.is_floating_point() else torch.float64
    tol = dict(TOLERANCES[dtype])
    tol.update({k: v for k, v in (("atol", atol), ("rtol", rtol)) if v is not None})
    torch.testing.assert_close(a, b, equal_nan=True, **tol)
    if not grad:
        return
    leaves_a = [t for t in a_args if isinstance(t, torch.Tensor) and t.requires_grad]
    leaves_b = [t for t in b_args if isinstance(t, torch.Tensor) and t.requires_grad]
    projection = torch.rand(a.shape, generator=generator(0), dtype=torch.float64).to(a)
    grads_a = torch.autograd.grad((a * projection).sum(), leaves_a, allow_unused=True)
    grads_b = torch.autograd.grad((b * projection).sum(), leaves_b, allow_unused=True)
    for ga, gb in zip(grads_a, grads_b):
        if ga is None and gb is None:
            continue
        ga = torch.zeros_like(gb) if ga is None else ga  # unused input: zero gradient
        gb = torch.zeros_like(ga) if gb is None else gb
        torch.testing.assert_close(ga, gb, equal_nan=True, **tol)
