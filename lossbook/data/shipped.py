"""Real data that ships inside scikit-learn: nothing is downloaded.

:func:`load` returns a data set split into train / validation / test with a fixed seed, the
features standardised with the *training* mean and standard deviation (so no statistic of the
test set leaks into training), as tensors on the requested device::

    digits = lossbook.data.shipped.load("digits", seed=0, device=device)
    digits.x_train.shape, digits.y_train.dtype        # (1347, 64), torch.int64

=================  =======  ========  =======  ===============================
name               samples  features  classes  target
=================  =======  ========  =======  ===============================
``digits``         1797     64        10       class indices (8×8 handwriting)
``breast_cancer``  569      30        2        class indices (1 = benign)
``wine``           178      13        3        class indices
``iris``           150      4         3        class indices
``diabetes``       442      10        —        disease progression (real)
=================  =======  ========  =======  ===============================

Classification splits are stratified (each split keeps the class proportions). The split is
made on the CPU with NumPy's seeded generator, so it is the same on every machine and device.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

NAMES = ("digits", "breast_cancer", "wine", "iris", "diabetes")
REGRESSION = ("diabetes",)


class Split(NamedTuple):
    """A data set split three ways; ``target_scale`` undoes a standardised regression target
    (``y * target_scale + target_mean``; 1 and 0 for classification)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    target_mean: float = 0.0
    target_scale: float = 1.0

    @property
    def num_features(self) -> int:
        return self.x_train.shape[1]

    @property
    def num_classes(self) -> int:
        """The number of classes (classification only)."""
        return int(torch.cat([self.y_train, self.y_val, self.y_test]).max()) + 1


def raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(features, target)`` as scikit-learn ships them (float64, and int64 or float64)."""
    if name not in NAMES:
        raise ValueError(f"name: expected one of {', '.join(NAMES)}, got {name!r}")
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, f"load_{name}")()
    target = bunch.target.astype(np.float64 if name in REGRESSION else np.int64)
    return bunch.data.astype(np.float64), target


def split_indices(target: np.ndarray, fractions: tuple[float, float], seed: int,
                  stratify: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of train, validation and test; ``fractions`` = (validation, test).

    Stratified: each class is shuffled and cut in the same proportions, so a rare class is
    present in every split.
    """
    validation, test = fractions
    if not (0 <= validation and 0 < test and validation + test < 1):
        raise ValueError(f"fractions: expected 0 <= validation, 0 < test, sum < 1, got {fractions}")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(target == c) for c in np.unique(target)] if stratify else [
        np.arange(len(target))]
    parts = ([], [], [])
    for group in groups:
        group = rng.permutation(group)
        n_test = max(1, round(test * len(group)))
        n_val = round(validation * len(group))
        parts[2].append(group[:n_test])
        parts[1].append(group[n_test:n_test + n_val])
        parts[0].append(group[n_test + n_val:])
    return tuple(np.sort(np.concatenate(p)) for p in parts)


def load(name: str, *, seed: int = 0, test_fraction: float = 0.25,
         validation_fraction: float = 0.0, device=None, dtype=torch.float32) -> Split:
    """``name`` split with ``seed``, features standardised by the training split's statistics.

    A regression target (``diabetes``) is standardised the same way; ``target_mean`` and
    ``target_scale`` in the result undo it. Class targets are ``torch.long``.
    """
    features, target = raw(name)
    regression = name in REGRESSION
    train, val, test = split_indices(target, (validation_fraction, test_fraction), seed,
                                     stratify=not regression)
    mean, std = features[train].mean(0), features[train].std(0)
    features = (features - mean) / np.where(std > 0, std, 1.0)
    target_mean, target_scale = 0.0, 1.0
    if regression:
        target_mean, target_scale = float(target[train].mean()), float(target[train].std())
        target = (target - target_mean) / target_scale

    def x(rows):
        return torch.as_tensor(features[rows]).to(device=device, dtype=dtype)

    def y(rows):
        values = torch.as_tensor(target[rows])
        return values.to(device=device, dtype=dtype if regression else torch.long)

    return Split(x(train), y(train), x(val), y(val), x(test), y(test), target_mean, target_scale)
