"""The loss zoo's property columns are claims the tests hold: for every catalogued loss, convex,
bounded and robust (as defined in :class:`lossbook.catalog.Entry`) are checked numerically on
the loss's own sample inputs, in float64, in the prediction ``args[0]``.

* **convex**: midpoint convexity $f(\\tfrac12(a + b)) \\le \\tfrac12(f(a) + f(b))$ (up to
  rounding, 1e-9 relative) for pairs of valid predictions drawn at scales 0.1, 1 and 10
  (near the corners, for the unit cube and the simplex); ``False`` needs a violating pair,
  ``True`` none in 90 pairs.
* **bounded**: the loss (summed over its output) along paths to the domain's edges, for six
  random directions, the prediction and its same-kind targets moving together: real
  predictions $x_0 + 10^k d$, $k = 0 \\dots 6$; probabilities and distributions
  $v + 10^{-k}(x_0 - v)$ towards a random corner $v$, $k = 0 \\dots 12$; log-probabilities
  $\\mathrm{log\\_softmax}(x_0 + 10^k d)$; boxes moving and growing. The loss is unbounded
  along a path when the last step still grows by at least half the step before it (and by
  more than 1e-3 of its size) or reaches ``inf``: a loss that converges grows by
  ever-smaller steps (a factor 10 per decade for $1 - c/t$), one that grows without limit
  by equal (logarithmic) or larger (power) steps.
* **robust**: the same criterion on the largest absolute derivative in the prediction.

Where a property is ``None``, the entry's :class:`lossbook.catalog.Depends` names keyword
arguments under which it holds and under which it fails, and both are checked.
"""

from __future__ import annotations

import math

import pytest
import torch

from lossbook import catalog
from tests.catalog_cases import ENTRIES, call, ids, make, moving, prediction, with_prediction

PROPERTIES = ("convex", "bounded", "robust")
SCALES = (0.1, 1.0, 10.0)
DIRECTIONS = 6
STEPS = {"unit": 12, "simplex": 12}  # decades towards a corner; 6 elsewhere


def value(entry, sample) -> float:
    return float(call(entry, sample).detach().sum())


# --------------------------------------------------------------------------- convexity
def corner(x: torch.Tensor, domain: str, generator: torch.Generator) -> torch.Tensor:
    """A random corner of the unit cube, or a random vertex of the simplex (per row)."""
    if domain == "unit":
        return torch.randint(0, 2, x.shape, generator=generator).to(x)
    index = torch.randint(0, x.shape[-1], x.shape[:-1], generator=generator)
    return torch.nn.functional.one_hot(index, x.shape[-1]).to(x)


def point(entry, sample, seed: int, mode: int, scale: float) -> torch.Tensor:
    """A valid prediction for ``sample``'s targets: another draw's, at ``scale``; for real
    predictions also sparse (``mode`` 1: half the entries 0) and around a target of the same
    kind (``mode`` 2)."""
    x = prediction(make(entry, seed=seed))
    generator = torch.Generator().manual_seed(seed)
    domain = sample.domain
    if domain in ("unit", "simplex"):  # scale 10 is closest to a corner
        return towards_corner(x, domain, generator, {0.1: 1.0, 1.0: 0.3, 10.0: 0.01}[scale])
    if domain == "log_simplex":
        return torch.log_softmax(x * scale, dim=-1)
    if domain == "nonnegative":
        return x.abs() * scale
    if domain == "boxes":
        return x * scale  # a scaled box is a box
    if mode == 1:  # sparse: zeros are where l0 and the kinks are
        x = x * torch.randint(0, 2, x.shape, generator=generator).to(x)
    targets = moving(sample)[1:]
    base = targets[seed % len(targets)] if targets and mode == 2 else 0.0
    return base + x * scale


def along_one_entry(a: torch.Tensor, b: torch.Tensor, seed: int) -> torch.Tensor:
    """``a`` with one entry taken from ``b``: a line along one coordinate, where an
    element-wise loss's curvature is not averaged away by the other entries."""
    index = int(torch.randint(0, a.numel(), (1,), generator=torch.Generator().manual_seed(seed)))
    moved = a.clone()
    moved.view(-1)[index] = b.reshape(-1)[index]
    return moved


def towards_corner(x: torch.Tensor, domain: str, generator: torch.Generator, weight: float):
    v = corner(x, domain, generator)
    return v + (x - v) * weight


def convexity_violation(entry, sample) -> str | None:
    """A pair of predictions whose midpoint breaks convexity, described; None if none found.

    The targets vary too (other draws; for probabilities, also close to a corner).
    """
    for seed in range(12):
        targets = make(entry, seed=300 + seed)._replace(kwargs=sample.kwargs)
        if sample.domain in ("unit", "simplex") and seed % 4 == 2:
            generator = torch.Generator().manual_seed(seed)
            targets = with_prediction(targets, *[towards_corner(t, sample.domain, generator, 0.01)
                                                 for t in moving(targets)])
        for scale_a in SCALES:
            for scale_b in SCALES:
                a = point(entry, targets, 100 + seed, seed % 4, scale_a)
                b = point(entry, targets, 200 + seed, seed % 4, scale_b)
                lines = [(a, b)]
                if seed % 4 == 3 and sample.domain in ("real", "nonnegative", "unit"):
                    lines = [(a, along_one_entry(a, b, seed + i)) for i in range(5)]
                for a, b in lines:
                    fa, fb = value(entry, with_prediction(targets, a)), value(
                        entry, with_prediction(targets, b))
                    fm = value(entry, with_prediction(targets, (a + b) / 2))
                    if fm > (fa + fb) / 2 + 1e-9 * (1 + abs(fa) + abs(fb)):
                        return (f"f(a) = {fa:.6g}, f(b) = {fb:.6g}, f((a + b)/2) = {fm:.6g} "
                                f"(seed {seed}, scales {scale_a}, {scale_b})")
    return None


# --------------------------------------------------------------------------- edges
def direction(x: torch.Tensor, domain: str, generator: torch.Generator) -> torch.Tensor:
    """Where a path from ``x`` goes: a corner for the cube and the simplex, else a vector."""
    if domain in ("unit", "simplex"):
        return corner(x, domain, generator)
    d = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    if domain == "nonnegative":
        return d.abs()
    if domain == "boxes":  # move the corner, grow the size: x1 <= x2, y1 <= y2 stay true
        return torch.cat([d[..., :2], d[..., :2] + d[..., 2:].abs()], dim=-1)
    return d


def along(x: torch.Tensor, d: torch.Tensor, domain: str, k: int) -> torch.Tensor:
    """The path's point at step ``k``: further from ``x`` as ``k`` grows."""
    if domain in ("unit", "simplex"):
        return d + (x - d) * 10.0**-k
    if domain == "log_simplex":
        return torch.log_softmax(x + 10.0**k * d, dim=-1)
    return x + 10.0**k * d


def diverges(values: list[float]) -> bool:
    """Grows without limit: ``inf``, or a last step at least half the step before it."""
    assert not any(math.isnan(v) for v in values), f"NaN on a valid input: {values}"
    if values[-1] == math.inf:
        return True
    last, before = values[-1] - values[-2], values[-2] - values[-3]
    return last > 1e-3 * max(1.0, abs(values[-1])) and last >= 0.5 * before


def paths(entry, sample):
    """For each random direction, the samples along a path to the domain's edges."""
    starts = moving(sample)
    for seed in range(DIRECTIONS):
        generator = torch.Generator().manual_seed(seed)
        ends = [direction(x, sample.domain, generator) for x in starts]
        yield [with_prediction(sample, *[along(x, d, sample.domain, k)
                                         for x, d in zip(starts, ends)])
               for k in range(STEPS.get(sample.domain, 6) + 1)]


def unbounded_path(entry, sample) -> str | None:
    for path in paths(entry, sample):
        values = [value(entry, s) for s in path]
        if diverges(values):
            return f"the loss grows without limit: {values}"
    return None


def slope(entry, sample) -> float:
    """The largest absolute derivative of the loss in the prediction."""
    x = prediction(sample).clone().requires_grad_()
    out = call(entry, with_prediction(sample, x)).sum()
    if not out.requires_grad:
        return 0.0
    (gradient,) = torch.autograd.grad(out, x, allow_unused=True)
    return 0.0 if gradient is None else float(gradient.abs().max())


def unbounded_slope(entry, sample) -> str | None:
    for path in paths(entry, sample):
        slopes = [slope(entry, s) for s in path]
        if diverges(slopes):
            return f"the derivative grows without limit: {slopes}"
    return None


#: property -> a witness that it fails (a description), or None where it holds.
WITNESS = {"convex": convexity_violation, "bounded": unbounded_path, "robust": unbounded_slope}


def holds(entry, sample, name: str) -> tuple[bool, str | None]:
    witness = WITNESS[name](entry, sample)
    return witness is None, witness


# --------------------------------------------------------------------------- the claims
@pytest.mark.parametrize("name", PROPERTIES)
@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_catalog_property_is_what_the_loss_does(entry, name):
    claim = getattr(entry, name)
    sample = make(entry)
    if claim is None:  # depends on a hyper-parameter: both behaviours are shown
        (depends,) = [d for d in entry.depends if d.property == name]
        for kwargs, expected in ((depends.holds, True), (depends.fails, False)):
            with_kwargs = sample._replace(kwargs={**sample.kwargs, **kwargs})
            found, witness = holds(entry, with_kwargs, name)
            assert found == expected, f"{name} with {kwargs}: expected {expected}, {witness}"
        return
    found, witness = holds(entry, sample, name)
    assert found == claim, f"{entry.name} is catalogued {name}={claim}, but: {witness}"


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_depends_explains_exactly_the_none_properties(entry):
    explained = sorted(d.property for d in entry.depends)
    assert explained == sorted(p for p in PROPERTIES if getattr(entry, p) is None)
    assert all(isinstance(d, catalog.Depends) for d in entry.depends)
