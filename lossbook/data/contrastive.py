"""Paired readings of handwritten digits for the contrastive chapter: two "modalities".

:func:`digit_images` splits scikit-learn's 8×8 digits (nothing is downloaded) into train and
test images with intensities in [0, 1]. :class:`TwoSensors` reads each digit twice: a
*camera* returns its 64 pixels, a *scrambled sensor* returns the same 64 intensities in a
fixed random order, and each reading adds its own Gaussian noise. No pixel-by-pixel
comparison matches a camera reading with its scrambled reading, so a model must learn what
the two modalities have in common — the situation of CLIP's images and captions, in
miniature. Noise is drawn on the CPU from seeded generators (see :mod:`lossbook.data`), so
the readings are identical on every device.
"""

from __future__ import annotations

import numpy as np
import torch

from lossbook.data import generator, shipped


def digit_images(*, seed: int = 0, test_fraction: float = 0.25, device=None,
                 dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """``(train, test)`` images as (n, 64) rows, intensities in [0, 1], split stratified by
    class with ``seed`` (:func:`lossbook.data.shipped.split_indices`)."""
    features, target = shipped.raw("digits")
    train, _, test = shipped.split_indices(target, (0.0, test_fraction), seed, stratify=True)
    images = torch.as_tensor(features / 16.0)  # the pixels are counts 0..16

    def part(rows: np.ndarray) -> torch.Tensor:
        return images[torch.as_tensor(rows)].to(device=device, dtype=dtype)

    return part(train), part(test)


class TwoSensors:
    """Two noisy readings of each image: the camera's and the scrambled sensor's.

    ``order`` (a permutation of the 64 pixels, drawn from ``seed``) is fixed for the sensor.
    Both readings are centred on the training images' mean and divided by their overall
    standard deviation (a sensor's calibration), so a randomly initialised network starts
    from embeddings that are not all alike.
    """

    def __init__(self, train_images: torch.Tensor, *, noise: float = 0.2, seed: int = 0):
        if not noise >= 0:
            raise ValueError(f"noise: expected a standard deviation >= 0, got {noise}")
        self.noise = noise
        self.order = torch.randperm(64, generator=generator(seed)).to(train_images.device)
        self.mean = train_images.mean(dim=0)
        self.scale = train_images.std()

    def __call__(self, images: torch.Tensor, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(camera, scrambled)`` readings of (n, 64) ``images``; the noise is fixed by
        ``seed``."""
        g = generator(seed)
        noise = torch.randn(2, *images.shape, generator=g, dtype=images.dtype)
        noise = self.noise * noise.to(images.device)
        camera = (images + noise[0] - self.mean) / self.scale
        scrambled = (images + noise[1] - self.mean) / self.scale
        return camera, scrambled[:, self.order]
