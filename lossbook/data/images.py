"""Photographs that ship inside installed packages, as image tensors: nothing is downloaded.

scikit-image ships ``astronaut``, ``chelsea`` (a cat), ``coffee`` and ``camera`` (greyscale);
matplotlib ships ``grace_hopper``. :func:`load` returns any of them as a float tensor of shape
(1, C, size, size) with values in [0, 1]: centre-cropped to a square, then resized with
antialiasing. Resizing happens on the CPU in float64, so the pixels are the same whichever
device the tensor is then moved to.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

NAMES = ("astronaut", "chelsea", "coffee", "camera", "grace_hopper")

# ITU-R BT.601 luma weights, the usual RGB -> grey conversion.
_LUMA = (0.299, 0.587, 0.114)


def _pixels(name: str) -> np.ndarray:
    """The image as shipped: uint8, (H, W, 3) or (H, W)."""
    if name == "grace_hopper":
        import matplotlib.cbook
        import matplotlib.pyplot as plt

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
            return plt.imread(file, format="jpg")
    try:
        import skimage.data
    except ImportError as error:
        raise ImportError(f"name: {name!r} ships with scikit-image "
                          "(pip install scikit-image)") from error
    return getattr(skimage.data, name)()


def _centre_square(image: torch.Tensor) -> torch.Tensor:
    height, width = image.shape[-2:]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[..., top:top + side, left:left + side]


def load(name: str, size: int = 64, *, box: tuple[int, int, int] | None = None,
         gray: bool = False, device=None, dtype=torch.float32) -> torch.Tensor:
    """The shipped image ``name`` as a (1, C, size, size) tensor with values in [0, 1].

    ``box = (top, left, side)`` picks a square of the shipped image, in its own pixels, before
    resizing (the default is the largest centred square). ``C`` is 3 (RGB), or 1 with
    ``gray=True`` (luma). ``camera`` is greyscale already; its one channel is repeated to make
    RGB unless ``gray=True``.
    """
    if name not in NAMES:
        raise ValueError(f"name: expected one of {', '.join(NAMES)}, got {name!r}")
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"size: expected a positive int, got {size!r}")
    pixels = torch.from_numpy(np.asarray(_pixels(name), dtype=np.float64) / 255.0)
    if pixels.dim() == 2:
        pixels = pixels.unsqueeze(-1).expand(-1, -1, 3)
    image = pixels.permute(2, 0, 1).unsqueeze(0)  # (1, 3, height, width)
    image = _centre_square(image) if box is None else crop(image, *box)
    image = F.interpolate(image, size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False).clamp(0, 1)
    if gray:
        luma = torch.tensor(_LUMA, dtype=image.dtype).view(1, 3, 1, 1)
        image = (image * luma).sum(dim=1, keepdim=True)
    return image.to(dtype).to(device)


def crop(image: torch.Tensor, top: int, left: int, size: int) -> torch.Tensor:
    """The ``size`` × ``size`` window of ``image`` (…, H, W) starting at (``top``, ``left``)."""
    height, width = image.shape[-2:]
    if not (size >= 1 and 0 <= top <= height - size and 0 <= left <= width - size):
        raise ValueError(f"box: a {size} x {size} window at ({top}, {left}) does not fit "
                         f"in {height} x {width}")
    return image[..., top:top + size, left:left + size]
