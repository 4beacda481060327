"""Generated data for *Norms and regularisation* and *Regression losses*.

Everything is drawn on the CPU from seeded generators (see :mod:`lossbook.data`) and then moved
to ``device``, so every device sees the same numbers.
"""

from __future__ import annotations

import torch

from lossbook.data import generator


def sparse_regression(n_samples: int = 100, n_features: int = 50, n_informative: int = 5, *,
                      noise: float = 0.5, seed: int = 0, device=None, dtype=torch.float64):
    r"""A linear model $y = Xw + \varepsilon$ in which only ``n_informative`` weights are non-zero.

    $X$ has independent standard normal entries; the informative weights sit at random positions
    with magnitudes in [1, 3] and random signs; $\varepsilon \sim \mathcal N(0, \text{noise}^2)$.
    Returns ``(X, y, w)`` with shapes (n_samples, n_features), (n_samples,), (n_features,).
    """
    g = generator(seed)
    X = torch.randn(n_samples, n_features, generator=g, dtype=dtype)
    w = torch.zeros(n_features, dtype=dtype)
    where = torch.randperm(n_features, generator=g)[:n_informative]
    sizes = 1 + 2 * torch.rand(n_informative, generator=g, dtype=dtype)
    signs = torch.randint(0, 2, (n_informative,), generator=g).to(dtype) * 2 - 1
    w[where] = sizes * signs
    y = X @ w + noise * torch.randn(n_samples, generator=g, dtype=dtype)
    return X.to(device), y.to(device), w.to(device)


def collinear_design(n_samples: int = 50, *, closeness: float = 1e-3, seed: int = 0,
                     device=None, dtype=torch.float64):
    r"""A design with two nearly identical columns, $x_2 = x_1 + \text{closeness}\cdot z$.

    $x_1, z$ are standard normal. ``closeness`` → 0 makes $X^\top X$ singular. Returns ``X``
    of shape (n_samples, 2).
    """
    g = generator(seed)
    x1 = torch.randn(n_samples, generator=g, dtype=dtype)
    x2 = x1 + closeness * torch.randn(n_samples, generator=g, dtype=dtype)
    return torch.stack([x1, x2], dim=1).to(device)


def line_with_outliers(n_samples: int = 40, n_outliers: int = 4, *, slope: float = 2.0,
                       intercept: float = 1.0, noise: float = 0.5, shift: float = 25.0,
                       seed: int = 0, device=None, dtype=torch.float64):
    r"""Points on $y = \text{slope}\cdot x + \text{intercept}$ plus noise, some pushed far up.

    $x$ is uniform on [0, 5]; noise is $\mathcal N(0, \text{noise}^2)$; the ``n_outliers``
    points with the largest $x$ get ``shift`` added to $y$ (gross errors at one end, which tilt
    a least-squares line most). Returns ``(x, y, is_outlier)``, each of shape (n_samples,).
    """
    g = generator(seed)
    x = 5 * torch.rand(n_samples, generator=g, dtype=dtype)
    y = slope * x + intercept + noise * torch.randn(n_samples, generator=g, dtype=dtype)
    is_outlier = torch.zeros(n_samples, dtype=torch.bool)
    is_outlier[x.argsort(descending=True)[:n_outliers]] = True
    y = torch.where(is_outlier, y + shift, y)
    return x.to(device), y.to(device), is_outlier.to(device)
