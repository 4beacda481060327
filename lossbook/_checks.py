"""Input validation shared by every loss.

Each check raises a ``TypeError`` or ``ValueError`` whose message starts with the argument's
name and says what was expected and what arrived, e.g.
``target: class indices must be in [0, 5), got 7``.

Value checks (ranges, class indices) need the data, which on a GPU means one device-to-host
synchronisation. Every check here costs at most one, and a loss calls at most one of them
(``unit_interval`` takes several tensors for that reason).
"""

from __future__ import annotations

import torch

REDUCTIONS = ("none", "mean", "sum")


def tensor(name: str, value) -> None:
    """``value`` must be a ``torch.Tensor``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")


def floating(name: str, value) -> None:
    """``value`` must be a floating-point tensor (float16, bfloat16, float32, float64)."""
    tensor(name, value)
    if not value.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got {value.dtype}")


def integer(name: str, value, what: str = "class indices") -> None:
    """``value`` must be an integer tensor (class indices are never floats)."""
    tensor(name, value)
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"{name}: expected integer {what} (e.g. torch.long), got {value.dtype}")


def same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """``b`` must have exactly the shape of ``a``."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_b}: expected shape {tuple(a.shape)} (the shape of {name_a}), "
            f"got {tuple(b.shape)}"
        )


def shape(name: str, value: torch.Tensor, expected: tuple[int, ...], meaning: str = "") -> None:
    """``value.shape`` must equal ``expected``; ``meaning`` explains where it comes from."""
    if tuple(value.shape) != tuple(expected):
        hint = f" ({meaning})" if meaning else ""
        raise ValueError(
            f"{name}: expected shape {tuple(expected)}{hint}, got {tuple(value.shape)}"
        )


def reduction(value: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"reduction: expected one of {options}, got {value!r}")


def unit_interval(**tensors: torch.Tensor) -> None:
    """Every named tensor must lie in [0, 1] (probabilities); NaN is rejected too.

    All tensors are tested with a single device synchronisation.
    """
    names = list(tensors)
    bad = [~((t >= 0) & (t <= 1)) for t in tensors.values()]
    flags = torch.stack([b.any() for b in bad]).tolist()  # the one sync
    for name, flag, mask, t in zip(names, flags, bad, tensors.values()):
        if flag:
            first = t[mask].flatten()[0].item()
            raise ValueError(f"{name}: expected probabilities in [0, 1], got {first:g}")


def class_indices(
    name: str, target: torch.Tensor, num_classes: int, ignore_index: int | None = None
) -> None:
    """Class indices must lie in [0, num_classes), except entries equal to ``ignore_index``."""
    out_of_range = (target < 0) | (target >= num_classes)
    if ignore_index is not None:
        out_of_range &= target != ignore_index
    if bool(out_of_range.any()):  # the one sync
        first = target[out_of_range].flatten()[0].item()
        raise ValueError(f"{name}: class indices must be in [0, {num_classes}), got {first}")


def values_in(name: str, value: torch.Tensor, allowed: tuple[float, ...]) -> None:
    """Every entry of ``value`` must be one of ``allowed`` (e.g. labels in {-1, +1})."""
    ok = torch.zeros_like(value, dtype=torch.bool)
    for a in allowed:
        ok |= value == a
    if not bool(ok.all()):  # the one sync
        first = value[~ok].flatten()[0].item()
        options = ", ".join(f"{a:g}" for a in allowed)
        raise ValueError(f"{name}: expected values in {{{options}}}, got {first:g}")
