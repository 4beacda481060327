"""Distances between vectors, and distances and divergences between distributions.

Chapter: *Distances and divergences* (``chapters/12_distances``).

**Vector distances** (:func:`euclidean` to :func:`bray_curtis`) compare ``u`` and ``v`` along
``dim`` (default: the last) and broadcast over every other dimension, so one call gives a
batch of distances. They match ``scipy.spatial.distance`` in value, including its conventions
for degenerate input (stated in each docstring), and are differentiable wherever the distance
is. Like scipy's functions and torch's ``pairwise_distance`` they return one distance per pair:
the default ``reduction`` is ``'none'``; ``'mean'`` and ``'sum'`` turn a batch of distances
into a loss.

**Distribution distances** compare probability vectors ``p`` and ``q`` along ``dim``
(:func:`js_distance`, :func:`hellinger_distance`, :func:`bhattacharyya_distance`; the JS
*divergence* lives in :mod:`lossbook.information`) or samples (:func:`mmd`,
:func:`wasserstein_1d`, :func:`sinkhorn_distance`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from lossbook import _checks as check
from lossbook import _samples as samples
from lossbook._numerics import (
    broadcastable,
    full_precision,
    largest,
    logsumexp,
    safe_pow,
    vector_norm,
    widened,
)
from lossbook._reduce import reduce
from lossbook._samples import sample
from lossbook.catalog import Depends, Entry
from lossbook.information import js_divergence


# --------------------------------------------------------------------------- helpers
def _difference(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``u - v`` after checking both are floating tensors whose shapes broadcast."""
    check.floating("u", u)
    check.floating("v", v)
    broadcastable("v", v, "u", u)
    return u - v


# --------------------------------------------------------------------------- vector distances
def euclidean(u: torch.Tensor, v: torch.Tensor, *, dim: int = -1,
              reduction: str = "none") -> torch.Tensor:
    r"""Euclidean distance $\|u - v\|_2 = \sqrt{\sum_i (u_i - v_i)^2}$ along ``dim``.

    Differentiable everywhere except at $u = v$, where the gradient returned is 0 (a
    subgradient; a plain ``sqrt`` would give NaN there). The differences are divided by the
    largest before squaring (:func:`lossbook._numerics.vector_norm`), so float32 vectors
    of $10^{\pm 20}$ and float16 ones with entries in the hundreds neither overflow nor
    underflow.

    Reference: ``scipy.spatial.distance.euclidean``; ``torch.linalg.vector_norm(u - v)``.
    """
    d = _difference(u, v)
    return reduce(vector_norm(d, 2, dim), reduction)


def manhattan(u: torch.Tensor, v: torch.Tensor, *, dim: int = -1,
              reduction: str = "none") -> torch.Tensor:
    r"""Manhattan (city-block, $L_1$) distance $\|u - v\|_1 = \sum_i |u_i - v_i|$ along ``dim``.

    Reference: ``scipy.spatial.distance.cityblock``.
    """
    d = _difference(u, v)
    return reduce(d.abs().sum(dim=dim), reduction)


def chebyshev(u: torch.Tensor, v: torch.Tensor, *, dim: int = -1,
              reduction: str = "none") -> torch.Tensor:
    r"""Chebyshev ($L_\infty$) distance $\|u - v\|_\infty = \max_i |u_i - v_i|$ along ``dim``.

    The gradient goes to the coordinate(s) with the largest difference (shared evenly on ties).

    Reference: ``scipy.spatial.distance.chebyshev``.
    """
    d = _difference(u, v)
    return reduce(d.abs().amax(dim=dim), reduction)


def minkowski(u: torch.Tensor, v: torch.Tensor, p: float = 2.0, *, dim: int = -1,
              reduction: str = "none") -> torch.Tensor:
    r"""Minkowski distance $\|u - v\|_p = \left(\sum_i |u_i - v_i|^p\right)^{1/p}$ along ``dim``.

    $p = 1$ is :func:`manhattan`, $p = 2$ :func:`euclidean`, $p = \infty$ (``math.inf``)
    :func:`chebyshev`. Like scipy, any $p > 0$ is accepted, but for $p < 1$ the triangle
    inequality fails and the result is not a metric.

    Stability: the differences are divided by their largest magnitude $m$ before the power
    and multiplied back after the root, $\|d\|_p = m\,\|d / m\|_p$, so a large $p$ neither
    overflows ($10^{p}$) nor underflows ($0.1^{p}$ to 0); $m$ needs no gradient of its own
    because the identity holds for any $m > 0$ (:func:`lossbook._numerics.vector_norm`).

    Reference: ``scipy.spatial.distance.minkowski``.
    """
    if not p > 0:
        raise check.ArgumentError(f"p: expected p > 0, got {p}")
    d = _difference(u, v)
    if math.isinf(p):
        return reduce(d.abs().amax(dim=dim), reduction)
    return reduce(vector_norm(d, p, dim), reduction)


def standardized_euclidean(u: torch.Tensor, v: torch.Tensor, variances: torch.Tensor, *,
                           dim: int = -1, reduction: str = "none") -> torch.Tensor:
    r"""Standardised Euclidean distance $\sqrt{\sum_i (u_i - v_i)^2 / V_i}$ along ``dim``.

    Each coordinate is measured in units of its own standard deviation $\sqrt{V_i}$, so a
    feature in millimetres does not outweigh one in kilometres. ``variances`` broadcasts
    against ``u - v`` (usually shape ``(d,)``, the per-feature variance of a data set) and
    must be positive. It is the Mahalanobis distance with a diagonal covariance.

    Reference: ``scipy.spatial.distance.seuclidean`` (its ``V``).
    """
    d = _difference(u, v)
    check.floating("variances", variances)
    check.values(("variances", variances, variances > 0, "positive variances"))
    return reduce(vector_norm(d / torch.sqrt(variances), 2, dim), reduction)  # rescaled


def mahalanobis(u: torch.Tensor, v: torch.Tensor, inverse_covariance: torch.Tensor, *,
                reduction: str = "none") -> torch.Tensor:
    r"""Mahalanobis distance $\sqrt{(u - v)^\top \Sigma^{-1} (u - v)}$ along the last dim.

    ``inverse_covariance`` is $\Sigma^{-1}$, shape ``(d, d)`` (scipy's ``VI``): symmetric
    positive definite, which is not checked (that would need an eigendecomposition). With
    $\Sigma^{-1} = I$ this is the Euclidean distance; with a diagonal $\Sigma$ it is
    :func:`standardized_euclidean`. Gradient 0 at $u = v$. Computed as
    $m \sqrt{(d/m)^\top \Sigma^{-1} (d/m)}$ with $m = \max_i |d_i|$, in float32 for half
    inputs, so the quadratic form does not overflow.

    Reference: ``scipy.spatial.distance.mahalanobis``; Mahalanobis (1936).
    """
    d = _difference(u, v)
    check.floating("inverse_covariance", inverse_covariance)
    size = d.shape[-1]
    check.shape("inverse_covariance", inverse_covariance, (size, size),
                "one row and column per coordinate of u - v")
    wide = widened(d)
    m = largest(wide, -1)
    scaled = wide / m
    with full_precision(d):  # a matrix product: autocast would round it to half precision
        quadratic = torch.einsum("...i,ij,...j->...", scaled,
                                 inverse_covariance.to(wide.dtype), scaled)
    return reduce((m.squeeze(-1) * safe_pow(quadratic, 0.5)).to(d.dtype), reduction)


def cosine_distance(u: torch.Tensor, v: torch.Tensor, *, dim: int = -1,
                    reduction: str = "none") -> torch.Tensor:
    r"""Cosine distance $1 - \dfrac{u \cdot v}{\|u\|_2 \|v\|_2}$ along ``dim``, in $[0, 2]$.

    0 for vectors pointing the same way whatever their lengths, 1 for orthogonal ones, 2 for
    opposite ones. Not a metric (no triangle inequality). scipy's conventions: the result is
    clipped to $[0, 2]$ against rounding, and a **zero vector gives NaN** ($0/0$; the angle is
    undefined). torch's ``1 - cosine_similarity`` differs there: it clamps the norms at
    ``eps=1e-8`` and returns 1.

    The cosine does not change when a vector is rescaled, so each is first divided by its
    largest entry (:func:`lossbook._numerics.largest`): float32 vectors of $10^{\pm 20}$ and
    float16 ones in the hundreds give the right distance instead of ``inf``/``inf`` or
    $0/0$. Half-precision inputs are computed in float32 and the result converted back.

    Reference: ``scipy.spatial.distance.cosine``; ``torch.nn.functional.cosine_similarity``.
    """
    check.floating("u", u)
    check.floating("v", v)
    broadcastable("v", v, "u", u)
    dtype = torch.promote_types(u.dtype, v.dtype)
    return reduce((1 - _cosine(widened(u), widened(v), dim)).clamp(0, 2).to(dtype), reduction)


def _cosine(u: torch.Tensor, v: torch.Tensor, dim: int) -> torch.Tensor:
    r"""$u \cdot v / \lVert u \rVert \lVert v \rVert$ of ``u / max|u|`` and ``v / max|v|``."""
    u, v = u / largest(u, dim), v / largest(v, dim)  # scale-invariant: rescale each first
    uv, uu, vv = (u * v).sum(dim=dim), (u * u).sum(dim=dim), (v * v).sum(dim=dim)
    return uv / torch.sqrt(uu * vv)


def correlation_distance(u: torch.Tensor, v: torch.Tensor, *, dim: int = -1,
                         reduction: str = "none") -> torch.Tensor:
    r"""Correlation distance $1 - r_{uv}$, with $r$ Pearson's correlation, along ``dim``.

    $r_{uv}$ is the cosine of the centred vectors, so this is
    ``cosine_distance(u - ū, v - v̄)``: in $[0, 2]$, 0 for perfectly correlated vectors, 2
    for perfectly anti-correlated ones, unchanged by adding a constant to or (positively)
    rescaling either vector. scipy's convention: a **constant vector gives NaN** (its
    centred version is the zero vector; its correlation is undefined).

    Reference: ``scipy.spatial.distance.correlation``; Pearson (1895).
    """
    check.floating("u", u)
    check.floating("v", v)
    broadcastable("v", v, "u", u)
    dtype = torch.promote_types(u.dtype, v.dtype)
    u, v = widened(u), widened(v)  # float32 for half inputs, converted back at the end
    centred_u = u - u.mean(dim=dim, keepdim=True)
    centred_v = v - v.mean(dim=dim, keepdim=True)
    correlation = _cosine(centred_u, centred_v, dim)
    return reduce((1 - correlation).clamp(0, 2).to(dtype), reduction)


def hamming(u: torch.Tensor, v: torch.Tensor, *, dim: int = -1,
            reduction: str = "none") -> torch.Tensor:
    r"""Hamming distance: the **fraction** of coordinates where $u_i \ne v_i$, along ``dim``.

    As in scipy it is a proportion in $[0, 1]$, not a count (multiply by the length for the
    count). Works on any dtype (bits, integers, floats). Piecewise constant, so the result
    carries no gradient.

    Reference: ``scipy.spatial.distance.hamming``; Hamming (1950).
    """
    check.tensor("u", u)
    check.tensor("v", v)
    broadcastable("v", v, "u", u)
    dtype = u.dtype if u.is_floating_point() else torch.get_default_dtype()
    return reduce((u != v).to(dtype).mean(dim=dim), reduction)


def bray_curtis(u: torch.Tensor, v: torch.Tensor, *, dim: int = -1,
                reduction: str = "none") -> torch.Tensor:
    r"""Bray–Curtis dissimilarity $\sum_i |u_i - v_i| \,/\, \sum_i |u_i + v_i|$ along ``dim``.

    Meant for non-negative vectors such as species counts, where it lies in $[0, 1]$. Not a
    metric (no triangle inequality). scipy's convention: two zero vectors give NaN ($0/0$).
    The two sums are taken in float32 for half inputs (a float16 sum of counts in the
    hundreds overflows and would give 0).

    Reference: ``scipy.spatial.distance.braycurtis``; Bray & Curtis (1957).
    """
    d = widened(_difference(u, v))
    total = (widened(u) + widened(v)).abs().sum(dim=dim)
    return reduce((d.abs().sum(dim=dim) / total).to(torch.promote_types(u.dtype, v.dtype)),
                  reduction)


# --------------------------------------------------------------------------- distributions
def _check_distributions(p: torch.Tensor, q: torch.Tensor) -> None:
    check.floating("p", p)
    check.floating("q", q)
    check.same_shape("p", p, "q", q)
    check.unit_interval(p=p, q=q)


def js_distance(p: torch.Tensor, q: torch.Tensor, *, dim: int = -1, base: float | None = None,
                reduction: str = "none") -> torch.Tensor:
    r"""Jensen–Shannon distance $\sqrt{\mathrm{JS}(p, q)}$, a metric (Endres & Schindelin, 2003).

    The square root of :func:`lossbook.js_divergence`; this is what
    ``scipy.spatial.distance.jensenshannon`` returns. In $[0, \sqrt{\log 2}]$ (1 with
    ``base=2``). scipy first renormalises ``p`` and ``q`` to sum to 1; lossbook expects
    distributions already. Gradient 0 at $p = q$.

    Reference: ``scipy.spatial.distance.jensenshannon``.
    """
    js = js_divergence(p, q, dim=dim, base=base)  # checks p and q
    return reduce(safe_pow(js.clamp(min=0), 0.5), reduction)  # rounding can make JS -1e-17


def hellinger_distance(p: torch.Tensor, q: torch.Tensor, *, dim: int = -1,
                       reduction: str = "none") -> torch.Tensor:
    r"""Hellinger distance $H(p, q) = \tfrac{1}{\sqrt 2}\,\|\sqrt p - \sqrt q\|_2$ along ``dim``.

    Equivalently $H = \sqrt{1 - \mathrm{BC}(p, q)}$ with BC the
    :func:`bhattacharyya_coefficient`. A metric, in $[0, 1]$ (1 for disjoint supports); some
    authors leave out the $1/\sqrt 2$. Computed as the norm of a difference rather than
    $\sqrt{1 - \mathrm{BC}}$, which loses every digit to cancellation when $p \approx q$.
    Where $p_i = 0$ the derivative is infinite; lossbook returns 0 there, so that an empty
    bin shared by both histograms does not turn the whole gradient into NaN.

    Reference: Hellinger (1909); the formula as ``scipy.spatial.distance.euclidean(√p, √q)/√2``.
    """
    _check_distributions(p, q)
    root_difference = safe_pow(p, 0.5) - safe_pow(q, 0.5)
    return reduce(safe_pow((root_difference**2).sum(dim=dim), 0.5) / math.sqrt(2), reduction)


def bhattacharyya_coefficient(p: torch.Tensor, q: torch.Tensor, *, dim: int = -1) -> torch.Tensor:
    r"""Bhattacharyya coefficient $\mathrm{BC}(p, q) = \sum_x \sqrt{p(x)\,q(x)}$ along ``dim``.

    The overlap of two distributions: 1 when they are equal, 0 when their supports are
    disjoint. A similarity, not a distance.

    Reference: Bhattacharyya (1943).
    """
    _check_distributions(p, q)
    return safe_pow(p * q, 0.5).sum(dim=dim)


def bhattacharyya_distance(p: torch.Tensor, q: torch.Tensor, *, dim: int = -1,
                           reduction: str = "none") -> torch.Tensor:
    r"""Bhattacharyya distance $D_B(p, q) = -\log \mathrm{BC}(p, q)$ along ``dim``.

    0 for equal distributions and $+\infty$ for disjoint supports. Despite the name it is not
    a metric (no triangle inequality); $\sqrt{1 - \mathrm{BC}}$, the
    :func:`hellinger_distance`, is.

    Reference: Bhattacharyya (1943); Kailath (1967).
    """
    return reduce(-torch.log(bhattacharyya_coefficient(p, q, dim=dim)), reduction)


# --------------------------------------------------------------------------- MMD
def _squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """All $\\|x_i - y_j\\|^2$, shape (..., n, m), from explicit differences.

    Exact (no $\\|x\\|^2 + \\|y\\|^2 - 2x^\\top y$ cancellation) at the price of $O(nmd)$ memory.
    """
    return ((x.unsqueeze(-2) - y.unsqueeze(-3)) ** 2).sum(dim=-1)


def _squared_distances_by_products(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""All $\|x_i - y_j\|^2 = \|x_i\|^2 + \|y_j\|^2 - 2\,x_i^\top y_j$, shape (..., n, m),
    from one matrix product, clamped at 0.

    $O(nm)$ memory and a matrix product instead of the $(n, m, d)$ differences of
    :func:`_squared_distances`. The price is **cancellation**: for two points close to each
    other and far from the origin, $\|x_i\|^2 + \|y_j\|^2$ and $2\,x_i^\top y_j$ are large
    and nearly equal, and their difference carries an absolute error of about
    $\varepsilon(\|x_i\|^2 + \|y_j\|^2)$ ($\varepsilon$ the dtype's machine epsilon) — a
    tiny distance can come out slightly negative, hence the clamp. Both samples are first
    shifted by a common centre (distances do not change), which keeps the norms, and so the
    error, as small as the spread of the points allows. Fine inside $e^{-d^2/2\sigma^2}$,
    whose value barely moves; not for a $p$-th root of a distance near 0 (Sinkhorn uses
    :func:`_squared_distances`). ``torch.cdist`` makes the same trade above 25 points.
    Half-precision inputs are computed in float32 (bfloat16's $\varepsilon = 2^{-8}$ would
    leave little of a distance), and so is the result.
    """
    x, y = widened(x), widened(y)
    centre = (x.detach().mean(dim=-2, keepdim=True) + y.detach().mean(dim=-2, keepdim=True)) / 2
    x, y = x - centre, y - centre
    with full_precision(x):  # autocast would round the product to half precision
        cross = x @ y.transpose(-2, -1)
    norms = (x * x).sum(dim=-1).unsqueeze(-1) + (y * y).sum(dim=-1).unsqueeze(-2)
    return (norms - 2 * cross).clamp(min=0)


def gaussian_kernel(x: torch.Tensor, y: torch.Tensor, bandwidth: float = 1.0) -> torch.Tensor:
    r"""Gaussian (RBF) Gram matrix $k(x_i, y_j) = \exp(-\|x_i - y_j\|_2^2 / 2\sigma^2)$.

    $\sigma$ is ``bandwidth``; ``x`` is (..., n, d), ``y`` is (..., m, d), the result (..., n, m).
    The squared distances come from one matrix product (see
    ``_squared_distances_by_products`` for the cancellation that costs).

    Reference: ``sklearn.metrics.pairwise.rbf_kernel`` with ``gamma`` $= 1/2\sigma^2$.
    """
    squared = _squared_distances_by_products(x, y)  # float32 for half inputs
    return torch.exp(squared / (-2 * bandwidth**2)).to(x.dtype)


def laplacian_kernel(x: torch.Tensor, y: torch.Tensor, bandwidth: float = 1.0) -> torch.Tensor:
    r"""Laplacian Gram matrix $k(x_i, y_j) = \exp(-\|x_i - y_j\|_1 / \sigma)$.

    $\sigma$ is ``bandwidth``. The $L_1$ distance, as in scikit-learn (some authors use the
    Euclidean one).

    Reference: ``sklearn.metrics.pairwise.laplacian_kernel`` with ``gamma`` $= 1/\sigma$.
    """
    return torch.exp(-(x.unsqueeze(-2) - y.unsqueeze(-3)).abs().sum(dim=-1) / bandwidth)


def linear_kernel(x: torch.Tensor, y: torch.Tensor, bandwidth: float = 1.0) -> torch.Tensor:
    r"""Gram matrix $k(x_i, y_j) = x_i^\top y_j$ (``bandwidth`` is ignored).

    Not characteristic: its MMD only compares the means, $\mathrm{MMD}^2 = \|\mu_x - \mu_y\|^2$.

    Reference: ``sklearn.metrics.pairwise.linear_kernel``.
    """
    with full_precision(x):  # no half-precision product under autocast
        return x @ y.transpose(-2, -1)


KERNELS = {"gaussian": gaussian_kernel, "laplacian": laplacian_kernel, "linear": linear_kernel}


def _kernel_function(kernel: str | Callable) -> Callable:
    if callable(kernel):
        return kernel
    if kernel not in KERNELS:
        options = ", ".join(repr(k) for k in KERNELS)
        raise check.ArgumentError(
            f"kernel: expected one of {options} or a callable, got {kernel!r}")
    return KERNELS[kernel]


def _check_samples(x: torch.Tensor, y: torch.Tensor, unbiased: bool, bandwidth: float) -> None:
    check.floating("x", x)
    check.floating("y", y)
    for name, t in (("x", x), ("y", y)):
        if t.dim() < 2:
            raise check.ArgumentError(f"{name}: expected samples of shape (..., n, d), got "
                             f"{tuple(t.shape)}")
        if unbiased and t.shape[-2] < 2:
            raise check.ArgumentError(
                f"{name}: the unbiased estimate needs at least 2 samples, got "
                             f"{t.shape[-2]}")
    if x.shape[-1] != y.shape[-1]:
        raise check.ArgumentError(f"y: expected {x.shape[-1]} features per sample (like x), got "
                         f"{y.shape[-1]}")
    if not bandwidth > 0:
        raise check.ArgumentError(f"bandwidth: expected a positive number, got {bandwidth}")


def mmd(x: torch.Tensor, y: torch.Tensor, *, kernel: str | Callable = "gaussian",
        bandwidth: float = 1.0, unbiased: bool = False) -> torch.Tensor:
    r"""Squared maximum mean discrepancy $\mathrm{MMD}^2$ between samples ``x`` and ``y``.

    ``x`` is (..., n, d) and ``y`` is (..., m, d); leading dimensions are a batch. With a
    kernel $k$ (``"gaussian"``, ``"laplacian"``, ``"linear"`` or a callable returning the
    Gram matrix of two sample sets), the population value is
    $\mathbb{E}k(x, x') + \mathbb{E}k(y, y') - 2\,\mathbb{E}k(x, y)$. The **biased**
    (V-statistic) estimate averages over all pairs,

    $$\widehat{\mathrm{MMD}}{}^2_b = \frac{1}{n^2}\sum_{i,j} k(x_i, x_j)
      + \frac{1}{m^2}\sum_{i,j} k(y_i, y_j) - \frac{2}{nm}\sum_{i,j} k(x_i, y_j),$$

    and is always $\ge 0$ but too large on average, because the $i = j$ terms
    $k(x_i, x_i)$ compare a sample with itself. The **unbiased** (U-statistic) estimate
    (``unbiased=True``) drops them and divides by $n(n-1)$ and $m(m-1)$; its expectation is
    exactly $\mathrm{MMD}^2$, so it can come out slightly negative. No square root is taken.

    Reference: Gretton et al. (2012), eqs. (3) and (5).
    """
    _check_samples(x, y, unbiased, bandwidth)
    k = _kernel_function(kernel)
    kxx, kyy, kxy = k(x, x, bandwidth), k(y, y, bandwidth), k(x, y, bandwidth)
    n, m = x.shape[-2], y.shape[-2]
    if unbiased:  # leave out the i = j terms
        xx = (kxx.sum((-2, -1)) - kxx.diagonal(dim1=-2, dim2=-1).sum(-1)) / (n * (n - 1))
        yy = (kyy.sum((-2, -1)) - kyy.diagonal(dim1=-2, dim2=-1).sum(-1)) / (m * (m - 1))
    else:
        xx, yy = kxx.mean((-2, -1)), kyy.mean((-2, -1))
    return xx + yy - 2 * kxy.mean((-2, -1))


def _mmd_of_splits(gram: torch.Tensor, in_x: torch.Tensor, unbiased: bool) -> torch.Tensor:
    """MMD² for each split of the pooled sample: row ``b`` of ``in_x`` marks the x's."""
    a = in_x.to(gram.dtype)
    b = 1 - a
    n, m = a[0].sum(), b[0].sum()
    xx = torch.einsum("bi,ij,bj->b", a, gram, a)
    yy = torch.einsum("bi,ij,bj->b", b, gram, b)
    xy = torch.einsum("bi,ij,bj->b", a, gram, b)
    if unbiased:
        diagonal = gram.diagonal()
        return ((xx - a @ diagonal) / (n * (n - 1)) + (yy - b @ diagonal) / (m * (m - 1))
                - 2 * xy / (n * m))
    return xx / n**2 + yy / m**2 - 2 * xy / (n * m)


def mmd_permutation_test(x: torch.Tensor, y: torch.Tensor, *,
                         kernel: str | Callable = "gaussian", bandwidth: float = 1.0,
                         unbiased: bool = False, permutations: int = 200,
                         seed: int = 0) -> tuple[torch.Tensor, float]:
    r"""Two-sample test of $P_x = P_y$: the :func:`mmd` statistic and its permutation p-value.

    Under the null hypothesis the labels "x" and "y" are exchangeable, so the observed MMD² is
    compared with its values on ``permutations`` random relabellings of the pooled sample:
    $p = (1 + \#\{b : \mathrm{MMD}^2_b \ge \mathrm{MMD}^2\}) / (1 + B)$ (the $+1$ counts the
    observed split, so $p > 0$). The kernel matrix of the pooled sample is computed once.
    The permutations are drawn on the CPU from ``seed``, so the p-value is the same on every
    device. ``x`` is (n, d), ``y`` is (m, d).

    Reference: Gretton et al. (2012), sec. 5; Phipson & Smyth (2010) for the $+1$.
    """
    _check_samples(x, y, unbiased, bandwidth)
    if x.dim() != 2 or y.dim() != 2:
        raise check.ArgumentError("x: the test takes unbatched samples of shape (n, d)")
    pooled = torch.cat([x, y])
    gram = _kernel_function(kernel)(pooled, pooled, bandwidth)
    generator = torch.Generator().manual_seed(seed)  # CPU: same permutations on every device
    shuffles = torch.stack([torch.randperm(len(pooled), generator=generator)
                            for _ in range(permutations)])
    observed = torch.arange(len(pooled)) < len(x)
    # Permutation b puts pooled[shuffles[b, :n]] in x and the rest in y.
    shuffled = torch.zeros_like(shuffles, dtype=torch.bool)
    shuffled.scatter_(1, shuffles[:, :len(x)], True)
    in_x = torch.cat([observed[None], shuffled]).to(pooled.device)
    statistics = _mmd_of_splits(gram, in_x, unbiased)
    exceed = int((statistics[1:] >= statistics[0]).sum())  # the one sync
    return statistics[0], (1 + exceed) / (1 + permutations)


# --------------------------------------------------------------------------- Wasserstein
def _check_weights(name: str, weights: torch.Tensor | None, values: torch.Tensor) -> torch.Tensor:
    """``weights`` normalised to sum to 1 (uniform when None)."""
    if weights is None:
        return torch.full_like(values, 1 / values.shape[-1])
    check.floating(name, weights)
    check.same_shape(name.replace("weights", "values"), values, name, weights)
    total = weights.sum(dim=-1, keepdim=True)
    expected = "non-negative weights with a positive sum"
    check.values((name, weights, weights >= 0, expected), (name, total, total > 0, expected))
    return weights / total


def wasserstein_1d(u_values: torch.Tensor, v_values: torch.Tensor,
                   u_weights: torch.Tensor | None = None, v_weights: torch.Tensor | None = None,
                   *, p: float = 1.0) -> torch.Tensor:
    r"""$p$-Wasserstein distance between two 1-D empirical distributions, by sorting.

    In one dimension optimal transport is monotone: the $t$-quantile of one distribution goes
    to the $t$-quantile of the other, so with quantile functions $F^{-1}, G^{-1}$

    $$W_p(u, v) = \left(\int_0^1 |F^{-1}(t) - G^{-1}(t)|^p\,dt\right)^{1/p}.$$

    Both quantile functions are step functions; between consecutive levels of their merged
    cumulative weights both are constant, so the integral is a finite sum. For equal sizes and
    uniform weights it is $\bigl(\frac1n\sum_i |u_{(i)} - v_{(i)}|^p\bigr)^{1/p}$ over the sorted
    samples. Supported: any $p \ge 1$, **unequal** sizes and (non-negative, normalised)
    weights. Leading dimensions are a batch (values (..., n) and (..., m)). Gradients flow to
    the values and the weights.

    For $p = 1$ this equals ``scipy.stats.wasserstein_distance`` (which integrates
    $|F - G|$ instead; for $p \ne 1$ the two integrals differ, and scipy's private
    ``_cdf_distance(2, ...)`` is the Cramér/energy distance, not $W_2$).

    Reference: ``scipy.stats.wasserstein_distance`` ($p = 1$); Villani (2009);
    Peyré & Cuturi (2019), Remark 2.30.
    """
    check.floating("u_values", u_values)
    check.floating("v_values", v_values)
    if not p >= 1:
        raise check.ArgumentError(f"p: expected p >= 1, got {p}")
    if u_values.shape[:-1] != v_values.shape[:-1] or min(u_values.dim(), v_values.dim()) < 1:
        raise check.ArgumentError(f"v_values: expected the batch shape of u_values "
                         f"{tuple(u_values.shape[:-1])}, got {tuple(v_values.shape[:-1])}")
    for name, values in (("u_values", u_values), ("v_values", v_values)):
        if values.shape[-1] == 0:  # a distribution needs mass somewhere
            raise check.ArgumentError(f"{name}: expected at least one sample, got shape "
                                      f"{tuple(values.shape)}")
    u_sorted, u_cdf = _sorted_with_cdf(u_values, _check_weights("u_weights", u_weights, u_values))
    v_sorted, v_cdf = _sorted_with_cdf(v_values, _check_weights("v_weights", v_weights, v_values))
    levels = torch.cat([u_cdf, v_cdf], dim=-1).sort(dim=-1).values  # every step of F⁻¹ and G⁻¹
    widths = torch.diff(levels, dim=-1, prepend=torch.zeros_like(levels[..., :1]))
    # On (t_{k-1}, t_k] the quantile is the first sorted value whose cdf reaches t_k.
    u_quantiles = u_sorted.gather(-1, _first_reaching(u_cdf, levels))
    v_quantiles = v_sorted.gather(-1, _first_reaching(v_cdf, levels))
    integral = (widths * safe_pow((u_quantiles - v_quantiles).abs(), p)).sum(dim=-1)
    return safe_pow(integral, 1 / p)


def _sorted_with_cdf(values: torch.Tensor, weights: torch.Tensor):
    order = values.argsort(dim=-1)
    return values.gather(-1, order), weights.gather(-1, order).cumsum(dim=-1)


def _first_reaching(cdf: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    # A cdf that rounds to 0.9999999 still ends at the last sample.
    index = torch.searchsorted(cdf.detach().contiguous(), levels.detach().contiguous())
    return index.clamp(max=cdf.shape[-1] - 1)


# --------------------------------------------------------------------------- Sinkhorn
def sinkhorn_plan(cost: torch.Tensor, a: torch.Tensor, b: torch.Tensor, *,
                  epsilon: float = 0.1, iterations: int = 100) -> torch.Tensor:
    r"""Entropy-regularised transport plan between weights ``a`` (n) and ``b`` (m), log domain.

    Solves $\min_P \langle P, C\rangle - \varepsilon H(P)$ over plans with row sums $a$ and
    column sums $b$. The solution is $P_{ij} = \exp((f_i + g_j - C_{ij})/\varepsilon)$; Sinkhorn's
    iterations fit the row sums and the column sums in turn:

    $$f_i = \varepsilon \log a_i - \varepsilon \log\sum_j e^{(g_j - C_{ij})/\varepsilon},\qquad
      g_j = \varepsilon \log b_j - \varepsilon \log\sum_i e^{(f_i - C_{ij})/\varepsilon}.$$

    Stability: the potentials $f, g$ are updated with log-sum-exp, never forming
    $e^{-C/\varepsilon}$, which underflows to 0 for small $\varepsilon$ (the classic
    $u = a / Kv$ form then divides 0 by 0). After the last step the column sums are exact and
    the row sums close. ``cost`` is (..., n, m); gradients flow through the unrolled loop.
    ``iterations`` is at least 1 (the plan is defined by the last update of each potential).

    Reference: Cuturi (2013); Peyré & Cuturi (2019), Remark 4.23.
    """
    if not iterations >= 1:
        raise check.ArgumentError(f"iterations: expected at least 1, got {iterations}")
    g = torch.zeros_like(cost[..., 0, :])
    log_a, log_b = torch.log(a), torch.log(b)
    for _ in range(iterations):
        f = epsilon * (log_a - logsumexp((g.unsqueeze(-2) - cost) / epsilon, dim=-1))
        g = epsilon * (log_b - logsumexp((f.unsqueeze(-1) - cost) / epsilon, dim=-2))
    return torch.exp((f.unsqueeze(-1) + g.unsqueeze(-2) - cost) / epsilon)


def sinkhorn_distance(x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None = None,
                      b: torch.Tensor | None = None, *, p: float = 2.0, epsilon: float = 0.1,
                      iterations: int = 100) -> torch.Tensor:
    r"""Entropic optimal-transport cost $\langle P_\varepsilon, C\rangle$ between point clouds.

    The cost is $C_{ij} = \|x_i - y_j\|_2^p$; ``x`` (..., n, d) and ``y`` (..., m, d) carry
    weights ``a`` and ``b`` (uniform when omitted; positive, normalised to sum to 1), and
    $P_\varepsilon$ is :func:`sinkhorn_plan`. No root is taken: the value approximates
    $W_p^p$, the quantity :func:`wasserstein_1d` raises to $1/p$.

    As $\varepsilon \to 0$ it converges to the exact optimal-transport cost — from above, and
    within $\varepsilon \log n$ for uniform weights and $n = m$ — but the smaller
    $\varepsilon$, the more ``iterations`` it needs (until then the plan's row sums are off;
    check them). $\varepsilon$ is in the units of the cost: choose it relative to the
    typical $C_{ij}$. Half-precision points are computed in float32 (the potentials carry
    costs divided by $\varepsilon$) and the result is returned in their dtype.

    Reference: Cuturi (2013), "Sinkhorn distances"; Peyré & Cuturi (2019), ch. 4.
    """
    _check_samples(x, y, False, 1.0)
    if not p >= 1:
        raise check.ArgumentError(f"p: expected p >= 1, got {p}")
    if not epsilon > 0:
        raise check.ArgumentError(f"epsilon: expected a positive number, got {epsilon}")
    dtype, x, y = x.dtype, widened(x), widened(y)  # float32 for half inputs
    a = _positive_weights("a", a, x, "x")
    b = _positive_weights("b", b, y, "y")
    cost = safe_pow(_squared_distances(x, y), p / 2)
    plan = sinkhorn_plan(cost, a, b, epsilon=epsilon, iterations=iterations)
    return (plan * cost).sum(dim=(-2, -1)).to(dtype)


def _positive_weights(name: str, weights: torch.Tensor | None, points: torch.Tensor,
                      points_name: str):
    if points.shape[-2] == 0:
        raise check.ArgumentError(f"{points_name}: expected at least one point, got shape "
                                  f"{tuple(points.shape)}")
    if weights is None:
        return torch.full_like(points[..., 0], 1 / points.shape[-2])
    check.floating(name, weights)
    weights = widened(weights).to(points.dtype)
    check.shape(name, weights, points.shape[:-1], "one weight per point")
    check.values((name, weights, weights > 0, "positive weights (drop points of weight 0)"))
    return weights / weights.sum(dim=-1, keepdim=True)


CATALOG = (
    Entry(euclidean, chapter="12_distances", task="vector distance / regression",
          summary=r"$\Vert u - v\Vert_2$", reference="scipy.spatial.distance.euclidean",
          input_kind="vectors", convex=True, bounded=False, robust=True,
          inputs=sample("vectors", "vectors")),
    Entry(manhattan, chapter="12_distances", task="vector distance / regression",
          summary=r"$\Vert u - v\Vert_1$", reference="scipy.spatial.distance.cityblock",
          input_kind="vectors", convex=True, bounded=False, robust=True,
          inputs=sample("vectors", "vectors")),
    Entry(chebyshev, chapter="12_distances", task="vector distance",
          summary=r"$\max_i \vert u_i - v_i\vert$", reference="scipy.spatial.distance.chebyshev",
          input_kind="vectors", convex=True, bounded=False, robust=True,
          inputs=sample("vectors", "vectors")),
    Entry(minkowski, chapter="12_distances", task="vector distance",
          summary=r"$(\sum_i \vert u_i - v_i\vert^p)^{1/p}$",
          reference="scipy.spatial.distance.minkowski", input_kind="vectors",
          convex=None, bounded=False, robust=True,
          inputs=sample("vectors", "vectors", p=3.0),
          depends=(Depends("convex", holds={"p": 3.0}, fails={"p": 0.5}),)),
    Entry(standardized_euclidean, chapter="12_distances", task="vector distance",
          summary=r"$\sqrt{\sum_i (u_i - v_i)^2 / V_i}$",
          reference="scipy.spatial.distance.seuclidean", input_kind="vectors",
          convex=True, bounded=False, robust=True,
          inputs=samples.weighted_vectors("variances")),
    Entry(mahalanobis, chapter="12_distances", task="vector distance",
          summary=r"$\sqrt{(u - v)^\top \Sigma^{-1} (u - v)}$",
          reference="scipy.spatial.distance.mahalanobis", input_kind="vectors",
          convex=True, bounded=False, robust=True,
          inputs=samples.weighted_vectors("inverse")),
    Entry(cosine_distance, chapter="12_distances", task="embedding similarity",
          summary=r"$1 - u \cdot v / \Vert u\Vert \Vert v\Vert$",
          reference="scipy.spatial.distance.cosine",
          input_kind="vectors", convex=False, bounded=True, robust=True,
          inputs=sample("vectors", "vectors")),
    Entry(correlation_distance, chapter="12_distances", task="vector distance",
          summary=r"$1 - \mathrm{Pearson}(u, v)$",
          reference="scipy.spatial.distance.correlation", input_kind="vectors",
          convex=False, bounded=True, robust=True,
          inputs=sample("vectors", "vectors")),
    Entry(hamming, chapter="12_distances", task="code / label distance (evaluation)",
          summary=r"fraction of $i$ with $u_i \neq v_i$",
          reference="scipy.spatial.distance.hamming", input_kind="vectors (any dtype)",
          convex=False, bounded=True, robust=True,
          inputs=sample("codes", "codes")),
    Entry(bray_curtis, chapter="12_distances", task="count / composition dissimilarity",
          summary=r"$\sum_i \vert u_i - v_i\vert / \sum_i \vert u_i + v_i\vert$",
          reference="scipy.spatial.distance.braycurtis", input_kind="non-negative vectors",
          convex=False, bounded=True, robust=True,
          inputs=sample("amounts", "amounts")),
    Entry(js_distance, chapter="12_distances", task="distribution matching",
          summary=r"$\sqrt{\mathrm{JS}(p, q)}$",
          reference="scipy.spatial.distance.jensenshannon", input_kind="probabilities",
          convex=False, bounded=True, robust=False,
          inputs=sample("distributions", "distributions")),
    Entry(hellinger_distance, chapter="12_distances", task="distribution matching",
          summary=r"$\frac{1}{\sqrt 2}\Vert \sqrt p - \sqrt q\Vert_2$", reference=None,
          input_kind="probabilities", convex=False, bounded=True, robust=False,
          inputs=sample("distributions", "distributions")),
    Entry(bhattacharyya_distance, chapter="12_distances", task="distribution matching",
          summary=r"$-\log \sum_x \sqrt{p(x) q(x)}$", reference=None,
          input_kind="probabilities", convex=True, bounded=False, robust=False,
          inputs=sample("distributions", "distributions")),
    Entry(mmd, chapter="12_distances", task="two-sample test / generative models",
          summary=r"$\mathbb{E}k(x,x') + \mathbb{E}k(y,y') - 2\mathbb{E}k(x,y)$",
          reference=None, input_kind="samples", convex=None, bounded=None, robust=None,
          inputs=sample("samples", "samples"),
          depends=(Depends("convex", holds={"kernel": "linear"}, fails={"kernel": "gaussian"}),
                   Depends("bounded", holds={"kernel": "gaussian"}, fails={"kernel": "linear"}),
                   Depends("robust", holds={"kernel": "gaussian"}, fails={"kernel": "linear"}))),
    Entry(wasserstein_1d, chapter="12_distances", task="distribution matching (1-D)",
          summary=r"$(\int_0^1 \vert F^{-1} - G^{-1}\vert^p\,dt)^{1/p}$",
          reference="scipy.stats.wasserstein_distance", input_kind="samples",
          convex=False, bounded=False, robust=True,
          inputs=sample("samples", "samples"),
          section="wasserstein-distance-in-one-dimension"),
    Entry(sinkhorn_distance, chapter="12_distances", task="distribution matching",
          summary=r"$\langle P_\varepsilon, C \rangle$, entropic OT", reference=None,
          input_kind="samples", convex=False, bounded=False, robust=None,
          inputs=sample("samples", "samples"),
          depends=(Depends("robust", holds={"p": 1.0}, fails={"p": 2.0}),)),
)
