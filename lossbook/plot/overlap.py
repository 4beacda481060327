"""Segmentation masks drawn by their errors: what a prediction found, added and missed."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.patches import Patch

from lossbook import plot

#: Colour of each kind of pixel (Okabe & Ito): found, false positive, missed, background.
COLOURS = {"found": plot.PALETTE[2], "false positive": plot.PALETTE[4],
           "missed": plot.PALETTE[0], "background": "#FFFFFF"}


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])


def error_map(predicted: torch.Tensor, truth: torch.Tensor) -> np.ndarray:
    """An (H, W, 3) RGB image of a binary prediction against the true mask, both (H, W).

    True positives are green, false positives orange, false negatives (missed pixels) blue
    and true negatives white (:data:`COLOURS`).
    """
    predicted = predicted.detach().cpu().bool().numpy()
    truth = truth.detach().cpu().bool().numpy()
    if predicted.shape != truth.shape or predicted.ndim != 2:
        raise ValueError(f"predicted, truth: expected two (H, W) masks, got "
                         f"{predicted.shape} and {truth.shape}")
    image = np.tile(_rgb(COLOURS["background"]), (*truth.shape, 1))
    for kind, where in (("found", predicted & truth), ("false positive", predicted & ~truth),
                        ("missed", ~predicted & truth)):
        image[where] = _rgb(COLOURS[kind])
    return image


def show_errors(ax, predicted: torch.Tensor, truth: torch.Tensor, title: str = "") -> None:
    """Draw :func:`error_map` on ``ax``, titled, with no ticks."""
    ax.imshow(error_map(predicted, truth), interpolation="nearest")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():  # a frame: the white background is part of the map
        spine.set_visible(True)
        spine.set_color("grey")


def error_legend() -> list[Patch]:
    """Legend handles for the three error colours (``fig.legend(handles=error_legend())``)."""
    return [Patch(facecolor=COLOURS[k], edgecolor="grey", label=k)
            for k in ("found", "false positive", "missed")]
