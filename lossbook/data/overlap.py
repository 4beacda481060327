"""Toy data for *Detection and segmentation losses*: images of small, rare objects.

:func:`small_objects` draws noisy greyscale images, each holding a few small square objects
(a few pixels each) on an empty background, so that the foreground is a percent or so of the
pixels: the heavy class imbalance under which segmentation losses differ.
:func:`objects_found` scores a predicted mask per object rather than per pixel.

Everything is drawn on the CPU from a seeded generator in float64 and then converted and moved
to ``device``, so a chapter sees the same images on CPU and CUDA.
"""

from __future__ import annotations

import torch

from lossbook import _checks as check
from lossbook.data import generator


def _positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise check.ArgumentError(f"{name}: expected a positive int, got {value!r}")


def small_objects(
    n: int, *, seed: int, size: int = 32, objects: tuple[int, int] = (2, 4), side: int = 2,
    contrast: float = 1.0, noise: float = 0.5, device=None, dtype=torch.float32,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` noisy ``size`` × ``size`` images, each with a few small square objects.

    Each image holds between ``objects[0]`` and ``objects[1]`` (inclusive) squares of
    ``side`` × ``side`` pixels of brightness ``contrast`` at random places, at least one
    pixel apart from each other, on a background of 0; then Gaussian noise of standard
    deviation ``noise`` is added to every pixel. Returns ``(images, masks, labels)``:

    * ``images``: (n, 1, size, size), ``dtype``;
    * ``masks``: (n, 1, size, size), ``dtype``, 1 on the objects and 0 elsewhere;
    * ``labels``: (n, size, size), ``torch.long``, 0 on the background and ``k`` on the
      pixels of the image's ``k``-th object (``k = 1, 2, ...``).
    """
    for name, value in (("n", n), ("size", size), ("side", side)):
        _positive_int(name, value)
    low, high = objects
    if not 0 <= low <= high:
        raise check.ArgumentError(f"objects: expected (low, high) with 0 <= low <= high, "
                                  f"got {objects!r}")
    if size < side + 2:
        raise check.ArgumentError(f"size: expected at least side + 2 = {side + 2}, got {size}")
    g = generator(seed)
    labels = torch.zeros(n, size, size, dtype=torch.long)
    for image in labels:
        taken = torch.zeros(size, size, dtype=torch.bool)  # objects and their margins
        count = int(torch.randint(low, high + 1, (), generator=g))
        for k in range(1, count + 1):
            for _ in range(1000):  # rejection sampling: a free place, away from the edge
                top, left = torch.randint(1, size - side, (2,), generator=g).tolist()
                if not taken[top - 1:top + side + 1, left - 1:left + side + 1].any():
                    break
            else:
                raise check.ArgumentError(
                    f"objects: {count} objects of side {side} do not fit in {size} x {size}")
            taken[top - 1:top + side + 1, left - 1:left + side + 1] = True
            image[top:top + side, left:left + side] = k
    masks = (labels > 0).unsqueeze(1).to(torch.float64)
    images = contrast * masks + noise * torch.randn(masks.shape, generator=g,
                                                    dtype=torch.float64)
    return images.to(dtype).to(device), masks.to(dtype).to(device), labels.to(device)


def objects_found(predicted: torch.Tensor, labels: torch.Tensor, *,
                  fraction: float = 0.5) -> torch.Tensor:
    """For every object in ``labels``, whether ``predicted`` covers ``fraction`` of its pixels.

    ``predicted`` is a boolean (or 0/1) mask of shape (n, 1, H, W) or (n, H, W); ``labels``
    is (n, H, W) as returned by :func:`small_objects`. An object counts as **found** when at
    least ``fraction`` of its pixels are predicted foreground. Returns a 1-D boolean tensor
    with one entry per object (image by image, objects in label order); its mean is the
    per-object recall. Counts are integer sums, the same on every device.
    """
    check.tensor("predicted", predicted)
    check.integer("labels", labels, "object labels")
    if predicted.dim() == labels.dim() + 1:
        predicted = predicted.squeeze(1)
    check.same_shape("predicted", predicted, "labels", labels)
    if not 0 < fraction <= 1:
        raise check.ArgumentError(f"fraction: expected a number in (0, 1], got {fraction!r}")
    count = int(labels.max()) if labels.numel() else 0
    ids = torch.arange(1, count + 1, device=labels.device)
    member = labels.unsqueeze(1) == ids.view(1, -1, 1, 1)  # (n, K, H, W)
    pixels = member.sum(dim=(2, 3))
    hit = (member & (predicted != 0).unsqueeze(1)).sum(dim=(2, 3))
    present = pixels > 0
    return (hit >= fraction * pixels)[present]
