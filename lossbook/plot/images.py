"""Showing image tensors: (1, C, H, W), (C, H, W) or (H, W), values in [0, 1], any device.

A photograph's axes are pixel indices and say nothing, so image panels carry a title (and,
where it helps, a caption as the x label) instead of ticks and axis labels.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from lossbook import plot


def as_array(image: torch.Tensor):
    """A NumPy array matplotlib can show: (H, W, 3) or (H, W), clipped to [0, 1], on the CPU."""
    image = image.detach().cpu().float()
    if image.dim() == 4:
        if image.shape[0] != 1:
            raise ValueError(f"image: expected one image, got a batch of {image.shape[0]}")
        image = image[0]
    if image.dim() == 3:
        image = image[0] if image.shape[0] == 1 else image.permute(1, 2, 0)
    if image.dim() != 2 and not (image.dim() == 3 and image.shape[-1] == 3):
        raise ValueError(f"image: expected (1, C, H, W), (C, H, W) or (H, W) with C = 1 or 3, "
                         f"got {tuple(image.shape)}")
    return image.clamp(0, 1).numpy()


def show(ax, image: torch.Tensor, title: str = "", caption: str = "") -> None:
    """Draw ``image`` on ``ax`` (greyscale for one channel), titled, with no ticks."""
    array = as_array(image)
    ax.imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel(caption)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def grid(images: Mapping[str, torch.Tensor], ncols: int | None = None,
         captions: Mapping[str, str] | None = None, size: float = 2.0, title: str = ""):
    """One panel per ``{title: image}``, ``ncols`` to a row, each ``size`` inches wide.

    Returns ``(fig, axes)`` like :func:`lossbook.plot.figure`; end the cell with
    ``plt.show()``.
    """
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    fig, axes = plot.figure(ncols, nrows, width=size * ncols, height=size * nrows + 0.4)
    axes = [axes] if not hasattr(axes, "__len__") else list(axes)
    for ax in axes[len(images):]:
        ax.axis("off")
    captions = captions or {}
    for ax, (name, image) in zip(axes, images.items()):
        show(ax, image, name, captions.get(name, ""))
    if title:
        fig.suptitle(title)
    return fig, axes
