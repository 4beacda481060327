"""Input validation shared by every loss.

Each check raises an error whose message starts with the argument's name and says what was
expected and what arrived, e.g. ``target: class indices must be in [0, 5), got 7``.

**Error types.** lossbook is a drop-in for ``torch.nn.functional``, whose own checks raise
``RuntimeError`` (mostly) or ``ValueError`` (sometimes) for the same mistake. So that code
written against torch keeps working, lossbook's errors are *both*:

* :class:`ArgumentError` — a bad value, shape or range — is a ``ValueError`` and a
  ``RuntimeError``;
* :class:`ArgumentTypeError` — a tensor of the wrong kind (integer where floats are needed,
  a plain number where a tensor is) — is a ``TypeError``, a ``ValueError`` and a
  ``RuntimeError``;
* :class:`ArgumentIndexError` — a class index out of range — is an :class:`ArgumentError`
  and an ``IndexError``.

``except ValueError``, ``except RuntimeError``, and for types ``except TypeError``, for
indices ``except IndexError``, all catch them. Raise them through these helpers, never a bare
``ValueError``.

**One synchronisation.** Value checks (ranges, class indices) need the data, which on a GPU
means one device-to-host synchronisation. :func:`values` takes every rule of a call at once
and syncs once; the other value checks are written with it. Under ``torch.compile`` the data
are not known while tracing, so value checks are skipped there (``torch.compiler
.is_compiling()``); shape and type checks, which need no data, always run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

REDUCTIONS = ("none", "mean", "sum")


class ArgumentError(ValueError, RuntimeError):
    """A bad argument value, shape or range; caught by ``except ValueError`` or
    ``except RuntimeError`` (torch raises either for the same mistake)."""


class ArgumentTypeError(TypeError, ValueError, RuntimeError):
    """An argument of the wrong type or dtype; also a ``ValueError`` and a ``RuntimeError``."""


class ArgumentIndexError(ArgumentError, IndexError):
    """A class index out of range; also an ``IndexError``, which torch's ``nll_loss`` and
    ``cross_entropy`` raise for it on the CPU."""


def compiling() -> bool:
    """True while ``torch.compile`` traces: data-dependent checks must not run then."""
    return torch.compiler.is_compiling()


def tensor(name: str, value) -> None:
    """``value`` must be a ``torch.Tensor``."""
    if not isinstance(value, torch.Tensor):
        raise ArgumentTypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")


def floating(name: str, value) -> None:
    """``value`` must be a floating-point tensor (float16, bfloat16, float32, float64)."""
    tensor(name, value)
    if not value.is_floating_point():
        raise ArgumentTypeError(f"{name}: expected a floating-point tensor, got {value.dtype}")


def integer(name: str, value, what: str = "class indices", dtypes: tuple = ()) -> None:
    """``value`` must be an integer tensor (class indices are never floats), and one of
    ``dtypes`` when they are given (torch's ``nll_loss`` takes int64 or uint8 indices only)."""
    tensor(name, value)
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise ArgumentTypeError(
            f"{name}: expected integer {what} (e.g. torch.long), got {value.dtype}")
    if dtypes and value.dtype not in dtypes:
        allowed = " or ".join(str(d) for d in dtypes)
        raise ArgumentTypeError(f"{name}: expected {what} of dtype {allowed}, got {value.dtype}")


def same_dtype(name: str, value: torch.Tensor, like_name: str, like: torch.Tensor) -> None:
    """``value`` must have ``like``'s dtype (torch refuses, e.g., a float64 weight for float32
    logits rather than converting it)."""
    if value.dtype != like.dtype:
        raise ArgumentTypeError(
            f"{name}: expected dtype {like.dtype} (the dtype of {like_name}), got {value.dtype}")


def same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """``b`` must have exactly the shape of ``a``."""
    if a.shape != b.shape:
        raise ArgumentError(
            f"{name_b}: expected shape {tuple(a.shape)} (the shape of {name_a}), "
            f"got {tuple(b.shape)}"
        )


def shape(name: str, value: torch.Tensor, expected: tuple[int, ...], meaning: str = "") -> None:
    """``value.shape`` must equal ``expected``; ``meaning`` explains where it comes from."""
    if tuple(value.shape) != tuple(expected):
        hint = f" ({meaning})" if meaning else ""
        raise ArgumentError(
            f"{name}: expected shape {tuple(expected)}{hint}, got {tuple(value.shape)}"
        )


def reduction(value: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    """``value`` must be one of ``allowed``."""
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ArgumentError(f"reduction: expected one of {options}, got {value!r}")


def number(name: str, value, ok: bool, expected: str) -> None:
    """A plain-number hyper-parameter: ``ok`` must hold, else ``name: expected …, got value``."""
    if not ok:
        raise ArgumentError(f"{name}: expected {expected}, got {value!r}")


class Rule(NamedTuple):
    """One value check for :func:`values`: ``ok`` must hold wherever ``values`` is defined.

    ``ok`` has the shape of ``values`` (or one that ``values`` broadcasts to), or the
    shape of its leading dimensions when a whole row is judged at once (a box, a
    distribution); the message then shows the first bad row. ``error`` and ``message``
    (with ``{name}``, ``{expected}``, ``{got}``) default to ``ArgumentError`` and
    ``"name: expected <expected>, got <first bad value>"``. A rule may instead give a 0-d
    ``ok`` (computed in one pass, e.g. from ``aminmax``) and a ``mask`` function that
    computes the elementwise ``ok`` only when the rule fails, to find the bad value.
    """

    name: str
    values: torch.Tensor
    ok: torch.Tensor
    expected: str
    error: type = ArgumentError
    message: str = "{name}: expected {expected}, got {got}"
    mask: Callable[[], torch.Tensor] | None = None


def _first_bad(rule: Rule):
    value = rule.values
    ok = rule.mask() if rule.mask is not None else rule.ok
    if value.dim() > ok.dim():  # ok judges rows: show the row
        return value[~ok][0].tolist()
    return value.expand_as(ok)[~ok].flatten()[0].item()


def _first_failure(rules) -> tuple[int, object] | None:
    """``(index of the first failing rule, its first bad value)``, or None; one sync."""
    rules = [(i, r) for i, r in enumerate(rules) if r.values.numel() and r.ok.numel()]
    if not rules or compiling():
        return None
    flags = torch.stack([r.ok if r.mask is not None else r.ok.all()
                         for _, r in rules]).tolist()  # the one sync
    for (i, rule), flag in zip(rules, flags):
        if not flag:
            return i, _first_bad(rule)
    return None


def _in_range(t: torch.Tensor, low, high) -> torch.Tensor:
    """0-d: every entry of ``t`` lies in [low, high] (NaN does not); one pass over the data."""
    if not t.numel():
        return torch.ones((), dtype=torch.bool, device=t.device)
    smallest, largest = torch.aminmax(t)
    return (smallest >= low) & (largest <= high)


def bounds(t: torch.Tensor) -> tuple | None:
    """``(smallest, largest)`` entry of ``t`` as Python numbers, with one sync; None when ``t``
    is empty or while ``torch.compile`` traces. For a fast path that the bounds prove safe
    (``nll_loss`` with no entry to ignore): where they prove nothing, the full check follows."""
    if not t.numel() or compiling():
        return None
    return tuple(torch.stack(torch.aminmax(t)).tolist())


def _text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else f"{value}"


def values(*rules: Rule | tuple) -> None:
    """Each rule is a :class:`Rule` or a tuple ``(name, values, ok, expected)``: ``ok``
    (broadcast from ``values``) must hold everywhere, else
    ``ArgumentError("name: expected <expected>, got <first bad value>")``.

    All rules are tested with a single device synchronisation; empty tensors pass; nothing is
    tested while ``torch.compile`` traces. Every check of a loss that needs the data goes
    through here (or through :func:`bounds`), so that no check syncs twice or breaks a
    compiled graph.
    """
    rules = [Rule(*rule) for rule in rules]
    failure = _first_failure(rules)
    if failure is not None:
        index, first = failure
        rule = rules[index]
        raise rule.error(rule.message.format(name=rule.name, expected=rule.expected,
                                             got=_text(first)))


def unit_interval(**tensors: torch.Tensor) -> None:
    """Every named tensor must lie in [0, 1] (probabilities); NaN is rejected, as torch's
    ``binary_cross_entropy`` rejects it.

    All tensors are tested with a single device synchronisation.
    """
    values(*(probabilities_rule(name, t) for name, t in tensors.items()))


def probabilities_rule(name: str, t: torch.Tensor) -> Rule:
    """The rule of :func:`unit_interval` for one tensor, to combine with others."""
    return Rule(name, t, _in_range(t, 0, 1), "probabilities in [0, 1]",
                mask=lambda: (t >= 0) & (t <= 1))


def indices_rule(
    name: str, target: torch.Tensor, num_classes: int, ignore_index: int | None = None,
    also: str = "",
) -> Rule:
    """The rule of :func:`class_indices`, to combine with others in one :func:`values` call."""

    def mask():
        ok = (target >= 0) & (target < num_classes)
        return ok | (target == ignore_index) if ignore_index is not None else ok

    kept = target if ignore_index is None else target.masked_fill(target == ignore_index, 0)
    return Rule(name, target, _in_range(kept, 0, num_classes - 1), f"[0, {num_classes}){also}",
                ArgumentIndexError, "{name}: class indices must be in {expected}, got {got}",
                mask)


def class_indices(
    name: str, target: torch.Tensor, num_classes: int, ignore_index: int | None = None,
    also: str = "",
) -> None:
    """Class indices must lie in [0, num_classes), except entries equal to ``ignore_index``;
    ``also`` names the exception in the message (e.g. ``" or -1 (padding)"``)."""
    values(indices_rule(name, target, num_classes, ignore_index, also))


def values_in(name: str, value: torch.Tensor, allowed: tuple[float, ...]) -> None:
    """Every entry of ``value`` must be one of ``allowed`` (e.g. labels in {-1, +1})."""
    options = ", ".join(f"{a:g}" for a in allowed)

    def mask():
        ok = torch.zeros_like(value, dtype=torch.bool)
        for a in allowed:
            ok |= value == a
        return ok

    if sorted(allowed) == [-1, 1] and value.dtype != torch.bool:  # |v| = 1: one pass
        values(Rule(name, value, _in_range(value.abs(), 1, 1), f"values in {{{options}}}",
                    mask=mask))
    else:
        values((name, value, mask(), f"values in {{{options}}}"))
