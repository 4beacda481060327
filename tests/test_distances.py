"""lossbook.distances against scipy, scikit-learn, exact solvers and formulas written here from
their published definitions: values, gradients, scipy's conventions for degenerate input, the
metric axioms, estimator bias, Sinkhorn's convergence, bad input and the chapter's graders."""

import math

import numpy as np
import pytest
import scipy.spatial.distance as spd
import scipy.stats
import sklearn.metrics.pairwise as skp
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

import lossbook
import lossbook.distances as dist
from lossbook.grading.distances import grade_mmd_unbiased, grade_wasserstein_sorted
from tests.reference import assert_matches, generator, rand, randn

REDUCTIONS = ["none", "mean", "sum"]


def probabilities(*shape, seed=0, dtype=torch.float64, device="cpu"):
    return torch.softmax(randn(*shape, seed=seed, dtype=dtype, scale=2), dim=-1).to(device)


def scipy_rows(function, u, v, **kwargs):
    """``function`` (a scipy distance of two 1-D arrays) applied to every broadcast row pair."""
    u, v = torch.broadcast_tensors(u, v)
    u = u.detach().cpu().double().reshape(-1, u.shape[-1]).numpy()
    v = v.detach().cpu().double().reshape(-1, v.shape[-1]).numpy()
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 -> nan, without the warning
        return np.array([function(a, b, **kwargs) for a, b in zip(u, v)])


def check_against_scipy(ours, theirs, u, v, *args, **kwargs):
    result = ours(u, v, *args)
    expected = scipy_rows(theirs, u, v, **kwargs).reshape(result.shape)
    tol = 1e-12 if result.dtype == torch.float64 else 1e-5
    np.testing.assert_allclose(result.cpu().double().numpy(), expected, rtol=tol, atol=tol)


# --------------------------------------------------------------------------- vector distances
# (lossbook function, scipy function, independent torch formula for the gradient)
VECTOR_DISTANCES = {
    "euclidean": (dist.euclidean, spd.euclidean, lambda u, v: torch.linalg.vector_norm(u - v,
                                                                                     dim=-1)),
    "manhattan": (dist.manhattan, spd.cityblock,
                  lambda u, v: torch.linalg.vector_norm(u - v, ord=1, dim=-1)),
    "chebyshev": (dist.chebyshev, spd.chebyshev,
                  lambda u, v: torch.linalg.vector_norm(u - v, ord=math.inf, dim=-1)),
    "cosine": (dist.cosine_distance, spd.cosine, lambda u, v: 1 - F.cosine_similarity(u, v, -1)),
    "correlation": (dist.correlation_distance, spd.correlation,
                    lambda u, v: 1 - F.cosine_similarity(u - u.mean(-1, keepdim=True),
                                                         v - v.mean(-1, keepdim=True), -1)),
}


@pytest.mark.parametrize("name", VECTOR_DISTANCES)
def test_vector_distance_matches_scipy_in_value_and_torch_formula_in_gradient(device, dtype,
                                                                             name):
    ours, theirs, formula = VECTOR_DISTANCES[name]
    u = randn(3, 4, 5, dtype=dtype, device=device)
    v = randn(4, 5, seed=1, dtype=dtype, device=device)  # broadcasts against u
    check_against_scipy(ours, theirs, u, v)
    assert ours(u, v).shape == (3, 4)
    assert_matches(ours, formula, u, v)


@pytest.mark.parametrize("p", [0.5, 1.0, 1.5, 2.0, 3.0, 7.0, math.inf])
def test_minkowski_matches_scipy_and_vector_norm(device, dtype, p):
    u, v = randn(6, 4, dtype=dtype, device=device), randn(6, 4, seed=1, dtype=dtype, device=device)
    check_against_scipy(dist.minkowski, spd.minkowski, u, v, p, p=p)

    def norm(u, v, p):
        return torch.linalg.vector_norm(u - v, ord=p, dim=-1)

    assert_matches(dist.minkowski, norm, u, v, p)


def test_minkowski_special_cases_are_the_named_distances():
    u, v = randn(5, 3), randn(5, 3, seed=1)
    torch.testing.assert_close(dist.minkowski(u, v, 1), dist.manhattan(u, v))
    torch.testing.assert_close(dist.minkowski(u, v, 2), dist.euclidean(u, v))
    torch.testing.assert_close(dist.minkowski(u, v, math.inf), dist.chebyshev(u, v))


def test_minkowski_large_p_neither_underflows_nor_overflows():
    small = torch.full((4,), 0.1)  # 0.1 ** 200 is 0 in float32 (and float64)
    assert dist.minkowski(small, torch.zeros(4), 200).item() == pytest.approx(
        0.1 * 4 ** (1 / 200), rel=1e-6)
    large = torch.full((4,), 1e3)  # 1e3 ** 200 is inf
    assert dist.minkowski(large, torch.zeros(4), 200).item() == pytest.approx(
        1e3 * 4 ** (1 / 200), rel=1e-6)


def test_standardized_euclidean_matches_scipy_and_scaled_norm(device, dtype):
    u, v = randn(5, 3, dtype=dtype, device=device), randn(5, 3, seed=1, dtype=dtype, device=device)
    variances = rand(3, seed=2, dtype=dtype, device=device) + 0.1
    result = dist.standardized_euclidean(u, v, variances)
    expected = scipy_rows(spd.seuclidean, u, v, V=variances.cpu().double().numpy())
    np.testing.assert_allclose(result.cpu().double().numpy(), expected, rtol=1e-5)

    def scaled_norm(u, v, variances):
        return torch.linalg.vector_norm((u - v) / variances.sqrt(), dim=-1)

    assert_matches(dist.standardized_euclidean, scaled_norm, u, v, variances)


def test_mahalanobis_matches_scipy_and_cholesky_formula(device, dtype):
    u, v = randn(5, 3, dtype=dtype, device=device), randn(5, 3, seed=1, dtype=dtype, device=device)
    a = randn(3, 3, seed=2, dtype=dtype, device=device)
    inverse_covariance = a @ a.T + 0.5 * torch.eye(3, dtype=dtype, device=device)
    result = dist.mahalanobis(u, v, inverse_covariance)
    expected = scipy_rows(spd.mahalanobis, u, v, VI=inverse_covariance.cpu().double().numpy())
    np.testing.assert_allclose(result.cpu().double().numpy(), expected, rtol=1e-5)

    def cholesky_norm(u, v, inverse_covariance):  # (u-v)ᵀ L Lᵀ (u-v) = |Lᵀ(u-v)|²
        lower = torch.linalg.cholesky(inverse_covariance)
        return torch.linalg.vector_norm((u - v) @ lower, dim=-1)

    assert_matches(dist.mahalanobis, cholesky_norm, u, v, inverse_covariance)


def test_mahalanobis_with_diagonal_covariance_is_standardized_euclidean():
    u, v, variances = randn(4, 3), randn(4, 3, seed=1), rand(3, seed=2) + 0.5
    torch.testing.assert_close(dist.mahalanobis(u, v, torch.diag(1 / variances)),
                               dist.standardized_euclidean(u, v, variances))


def test_bray_curtis_matches_scipy_with_finite_difference_gradient(device, dtype):
    u, v = rand(4, 6, dtype=dtype, device=device), rand(4, 6, seed=1, dtype=dtype, device=device)
    check_against_scipy(dist.bray_curtis, spd.braycurtis, u, v)
    u64, v64 = u.double().requires_grad_(), v.double().requires_grad_()
    assert torch.autograd.gradcheck(dist.bray_curtis, (u64, v64))


@pytest.mark.parametrize("kind", ["bool", "int", "float"])
def test_hamming_is_the_fraction_of_differences_like_scipy(device, kind):
    u = torch.randint(0, 3, (5, 8), generator=generator(0)).to(device)
    v = torch.randint(0, 3, (5, 8), generator=generator(1)).to(device)
    u, v = {"bool": (u > 0, v > 0), "int": (u, v), "float": (u.double(), v.double())}[kind]
    check_against_scipy(dist.hamming, spd.hamming, u, v)
    assert dist.hamming(u, v).is_floating_point()


def test_hamming_has_no_gradient():
    u = randn(4).requires_grad_()
    assert not dist.hamming(u, u.detach().round()).requires_grad


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("function", [dist.euclidean, dist.manhattan, dist.chebyshev,
                                      dist.cosine_distance, dist.correlation_distance,
                                      dist.bray_curtis, dist.hamming],
                         ids=lambda f: f.__name__)
def test_reductions_average_or_add_the_distances(function, reduction):
    u, v = rand(6, 5), rand(6, 5, seed=1)
    per_pair = function(u, v)
    expected = {"none": per_pair, "mean": per_pair.mean(), "sum": per_pair.sum()}[reduction]
    torch.testing.assert_close(function(u, v, reduction=reduction), expected)


def test_dim_selects_the_coordinates():
    u, v = randn(5, 3), randn(5, 3, seed=1)
    for function in (dist.euclidean, dist.cosine_distance, dist.correlation_distance,
                     dist.hamming):
        torch.testing.assert_close(function(u, v, dim=0), function(u.T, v.T))


# --------------------------------------------------------------------------- scipy conventions
def test_cosine_of_a_zero_vector_is_nan_like_scipy_not_one_like_torch():
    zero, w = torch.zeros(3, dtype=torch.float64), torch.tensor([1.0, 2.0, 3.0]).double()
    assert math.isnan(dist.cosine_distance(zero, w).item())
    with np.errstate(invalid="ignore"):
        assert math.isnan(spd.cosine(zero.numpy(), w.numpy()))
    assert (1 - F.cosine_similarity(zero, w, dim=0)).item() == 1.0  # torch's eps clamp


def test_correlation_of_a_constant_vector_is_nan_like_scipy():
    constant, w = torch.full((4,), 2.5, dtype=torch.float64), randn(4)
    assert math.isnan(dist.correlation_distance(constant, w).item())
    with np.errstate(invalid="ignore"):
        assert math.isnan(spd.correlation(constant.numpy(), w.numpy()))


def test_bray_curtis_of_two_zero_vectors_is_nan_like_scipy():
    zero = torch.zeros(3, dtype=torch.float64)
    assert math.isnan(dist.bray_curtis(zero, zero).item())
    with np.errstate(invalid="ignore"):
        assert math.isnan(spd.braycurtis(zero.numpy(), zero.numpy()))


def test_cosine_and_correlation_are_clipped_to_zero_two():
    u = randn(10, 7, scale=1e3)
    for function in (dist.cosine_distance, dist.correlation_distance):
        same, opposite = function(u, 3 * u), function(u, -u)
        assert (same >= 0).all() and (same < 1e-12).all()
        assert (opposite <= 2).all() and (opposite > 2 - 1e-12).all()


def test_correlation_ignores_shift_and_positive_scale():
    u, v = randn(5, 6), randn(5, 6, seed=1)
    torch.testing.assert_close(dist.correlation_distance(u, v),
                               dist.correlation_distance(3 * u + 7, v - 2))


@pytest.mark.parametrize("function", [dist.euclidean, dist.minkowski, dist.js_distance,
                                      dist.hellinger_distance],
                         ids=lambda f: f.__name__)
def test_gradient_at_zero_distance_is_zero_not_nan(function):
    p = probabilities(3, 4).requires_grad_()
    function(p, p.detach()).sum().backward()
    assert torch.equal(p.grad, torch.zeros_like(p))


# --------------------------------------------------------------------------- distributions
@pytest.mark.parametrize("base", [None, 2.0])
def test_js_distance_matches_scipy_jensenshannon(device, dtype, base):
    p = probabilities(4, 6, dtype=dtype, device=device)
    q = probabilities(4, 6, seed=1, dtype=dtype, device=device)
    check_against_scipy(lambda a, b: dist.js_distance(a, b, base=base), spd.jensenshannon,
                        p, q, base=base)
    torch.testing.assert_close(dist.js_distance(p, q) ** 2, lossbook.js_divergence(p, q))
    p64, q64 = p.cpu().double().requires_grad_(), q.cpu().double().requires_grad_()
    assert torch.autograd.gradcheck(dist.js_distance, (p64, q64))


def hellinger_formula(p, q):
    """Hellinger's distance as (1/√2)‖√p − √q‖₂, with scipy's Euclidean norm."""
    return spd.euclidean(np.sqrt(p), np.sqrt(q)) / math.sqrt(2)


def test_hellinger_matches_its_definition_and_finite_differences(device, dtype):
    p = probabilities(4, 6, dtype=dtype, device=device)
    q = probabilities(4, 6, seed=1, dtype=dtype, device=device)
    check_against_scipy(dist.hellinger_distance, hellinger_formula, p, q)
    p64, q64 = p.cpu().double().requires_grad_(), q.cpu().double().requires_grad_()
    assert torch.autograd.gradcheck(dist.hellinger_distance, (p64, q64))


def test_hellinger_squared_is_one_minus_bhattacharyya_coefficient():
    p, q = probabilities(5, 7), probabilities(5, 7, seed=1)
    bc = dist.bhattacharyya_coefficient(p, q)
    expected = np.array([np.sqrt(a * b).sum() for a, b in zip(p.numpy(), q.numpy())])
    np.testing.assert_allclose(bc.numpy(), expected, rtol=1e-12)
    torch.testing.assert_close(dist.hellinger_distance(p, q) ** 2, 1 - bc)
    torch.testing.assert_close(dist.bhattacharyya_distance(p, q), -bc.log())


def test_bhattacharyya_distance_gradient_matches_finite_differences():
    p, q = probabilities(3, 5).requires_grad_(), probabilities(3, 5, seed=1).requires_grad_()
    assert torch.autograd.gradcheck(dist.bhattacharyya_distance, (p, q))


def test_disjoint_supports_saturate_or_blow_up():
    p = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
    q = torch.tensor([0.0, 0.0, 0.3, 0.7], dtype=torch.float64)
    assert dist.hellinger_distance(p, q).item() == pytest.approx(1.0)
    assert dist.js_distance(p, q).item() == pytest.approx(math.sqrt(math.log(2)))
    assert dist.bhattacharyya_coefficient(p, q).item() == 0.0
    assert dist.bhattacharyya_distance(p, q).item() == math.inf


def test_hellinger_keeps_precision_where_one_minus_bc_cancels():
    p = probabilities(6, dtype=torch.float32)
    q = (p + 1e-5 * torch.tensor([1.0, -1.0, 0.0, 0.0, 1.0, -1.0])).float()
    exact = hellinger_formula(p.double().numpy(), q.double().numpy())
    ours = dist.hellinger_distance(p, q).item()
    naive = math.sqrt(max(0.0, 1 - dist.bhattacharyya_coefficient(p, q).item()))
    assert ours == pytest.approx(exact, rel=1e-2)
    assert naive != pytest.approx(exact, rel=0.5)  # float32 1 - BC keeps no digits


def test_hellinger_gradient_is_finite_with_an_empty_bin_in_both():
    p = torch.tensor([0.2, 0.8, 0.0], requires_grad=True)
    dist.hellinger_distance(p, torch.tensor([0.5, 0.5, 0.0])).backward()
    assert torch.isfinite(p.grad).all()


# --------------------------------------------------------------------------- metric axioms
samples = st.integers(0, 10_000)


@settings(max_examples=40, deadline=None)
@given(seed=samples)
def test_metrics_satisfy_the_triangle_inequality(seed):
    u, v, w = (randn(8, 5, seed=seed + k) for k in range(3))
    p, q, r = (probabilities(8, 5, seed=seed + k) for k in range(3))
    a, b, c = (randn(8, 7, seed=seed + k) for k in range(3))  # 1-D samples, 7 each
    cases = [(f, u, v, w) for f in (dist.euclidean, dist.manhattan, dist.chebyshev,
                                    lambda x, y: dist.minkowski(x, y, 3.0))]
    cases += [(f, p, q, r) for f in (dist.js_distance, dist.hellinger_distance)]
    cases += [(lambda x, y: dist.wasserstein_1d(x, y, p=2.0), a, b, c)]
    for function, x, y, z in cases:
        assert (function(x, z) <= function(x, y) + function(y, z) + 1e-12).all()
        torch.testing.assert_close(function(x, y), function(y, x))
        assert (function(x, y) >= 0).all()


def test_non_metrics_break_the_triangle_inequality():
    p = torch.tensor([0.5, 0.5], dtype=torch.float64)
    r = torch.tensor([0.9, 0.1], dtype=torch.float64)
    q = torch.tensor([0.7, 0.3], dtype=torch.float64)  # between p and r
    js = lossbook.js_divergence
    assert js(p, r) > js(p, q) + js(q, r)  # JS itself is not a metric; its root is
    e1, e2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert dist.minkowski(e1, e2, 0.5) > dist.minkowski(e1, 0 * e1, 0.5) + dist.minkowski(
        0 * e1, e2, 0.5)
    diagonal = torch.tensor([1.0, 1.0])
    cos = dist.cosine_distance
    assert cos(e1, e2) > cos(e1, diagonal) + cos(diagonal, e2)


# --------------------------------------------------------------------------- MMD
def kernel_by_hand(name, a, b, bandwidth):
    a, b = np.asarray(a), np.asarray(b)
    if name == "gaussian":
        return math.exp(-((a - b) ** 2).sum() / (2 * bandwidth**2))
    if name == "laplacian":
        return math.exp(-np.abs(a - b).sum() / bandwidth)
    return float(a @ b)


def mmd_by_hand(x, y, name, bandwidth, unbiased):
    """Gretton et al. (2012), eqs. (3) and (5), written with explicit loops."""
    x, y = x.cpu().double().numpy(), y.cpu().double().numpy()

    def mean_k(a, b, skip_diagonal):
        terms = [kernel_by_hand(name, a[i], b[j], bandwidth) for i in range(len(a))
                 for j in range(len(b)) if not (skip_diagonal and i == j)]
        return sum(terms) / len(terms)

    return (mean_k(x, x, unbiased) + mean_k(y, y, unbiased) - 2 * mean_k(x, y, False))


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian", "linear"])
@pytest.mark.parametrize("unbiased", [False, True], ids=["biased", "unbiased"])
def test_mmd_matches_the_hand_formula(device, dtype, kernel, unbiased):
    x, y = randn(6, 3, dtype=dtype, device=device), randn(5, 3, seed=1, dtype=dtype,
                                                          device=device) + 0.3
    result = dist.mmd(x, y, kernel=kernel, bandwidth=1.5, unbiased=unbiased)
    expected = mmd_by_hand(x, y, kernel, 1.5, unbiased)
    assert result.item() == pytest.approx(expected, rel=1e-5 if dtype == torch.float32 else 1e-12,
                                          abs=1e-6 if dtype == torch.float32 else 1e-12)


@pytest.mark.parametrize("name, sklearn_kernel, gamma", [
    ("gaussian", skp.rbf_kernel, 1 / (2 * 0.7**2)),
    ("laplacian", skp.laplacian_kernel, 1 / 0.7),
    ("linear", skp.linear_kernel, None),
])
def test_kernels_match_scikit_learn(name, sklearn_kernel, gamma):
    x, y = randn(5, 3), randn(4, 3, seed=1)
    kwargs = {} if gamma is None else {"gamma": gamma}
    expected = sklearn_kernel(x.numpy(), y.numpy(), **kwargs)
    np.testing.assert_allclose(dist.KERNELS[name](x, y, 0.7).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian", "linear"])
def test_mmd_gradient_matches_finite_differences(kernel):
    x = randn(4, 2).requires_grad_()
    y = randn(3, 2, seed=1).requires_grad_()
    for unbiased in (False, True):
        assert torch.autograd.gradcheck(
            lambda a, b, u=unbiased: dist.mmd(a, b, kernel=kernel, bandwidth=0.8, unbiased=u),
            (x, y))


def test_linear_kernel_biased_mmd_is_the_squared_distance_of_means():
    x, y = randn(7, 3), randn(9, 3, seed=1)
    expected = ((x.mean(0) - y.mean(0)) ** 2).sum()
    torch.testing.assert_close(dist.mmd(x, y, kernel="linear"), expected)


def test_mmd_accepts_a_callable_kernel_and_batches():
    x, y = randn(3, 6, 2), randn(3, 5, 2, seed=1)

    def cauchy(a, b, bandwidth):
        return 1 / (1 + dist._squared_distances(a, b) / bandwidth**2)

    batched = dist.mmd(x, y, kernel=cauchy, bandwidth=2.0, unbiased=True)
    assert batched.shape == (3,)
    for i in range(3):
        expected = dist.mmd(x[i], y[i], kernel=cauchy, bandwidth=2.0,
                                unbiased=True)
        torch.testing.assert_close(batched[i], expected)


def gaussian_mmd_population(mean_gap, std_x, std_y, bandwidth, d):
    """MMD² between N(0, s_x² I) and N(δ, s_y² I) with the Gaussian kernel, in closed form.

    For z ~ N(μ, s² I) in d dimensions, E exp(−|z|²/2σ²) = (σ²/(σ² + s²))^{d/2}
    · exp(−|μ|²/2(σ² + s²)); x − x' ~ N(0, 2 s_x² I) and x − y ~ N(−δ, (s_x² + s_y²) I).
    """
    def expected_k(mean_sq, var):
        return (bandwidth**2 / (bandwidth**2 + var)) ** (d / 2) * math.exp(
            -mean_sq / (2 * (bandwidth**2 + var)))

    return (expected_k(0, 2 * std_x**2) + expected_k(0, 2 * std_y**2)
            - 2 * expected_k(mean_gap**2 * d, std_x**2 + std_y**2))


def test_unbiased_mmd_is_unbiased_and_the_biased_one_is_not():
    replicates, n, d = 20_000, 5, 2
    x = randn(replicates, n, d, seed=1)
    y = randn(replicates, n, d, seed=2) * 1.5 + 0.3
    truth = gaussian_mmd_population(0.3, 1.0, 1.5, 1.0, d)
    for unbiased in (True, False):
        estimates = dist.mmd(x, y, kernel="gaussian", bandwidth=1.0, unbiased=unbiased)
        error = (estimates.mean() - truth).item()
        standard_error = (estimates.std() / math.sqrt(replicates)).item()
        if unbiased:
            assert abs(error) < 4 * standard_error
        else:
            assert error > 20 * standard_error


def test_permutation_test_statistic_and_p_value_by_hand(device):
    x = randn(12, 2, device=device)
    y = randn(10, 2, seed=1, device=device) + 0.4
    statistic, p_value = dist.mmd_permutation_test(x, y, bandwidth=1.0, permutations=50,
                                                   seed=3)
    torch.testing.assert_close(statistic, dist.mmd(x, y, bandwidth=1.0))
    pooled = torch.cat([x, y]).cpu()
    g = torch.Generator().manual_seed(3)  # the documented draw: randperm on a seeded CPU gen
    exceed = 0
    for _ in range(50):
        shuffle = torch.randperm(22, generator=g)
        exceed += int(dist.mmd(pooled[shuffle[:12]], pooled[shuffle[12:]]) >= statistic.cpu())
    assert p_value == (1 + exceed) / 51


def test_permutation_test_unbiased_statistic_matches_mmd():
    x, y = randn(8, 3), randn(9, 3, seed=1)
    statistic, _ = dist.mmd_permutation_test(x, y, kernel="laplacian", bandwidth=2.0,
                                             unbiased=True,
                                             permutations=5)
    torch.testing.assert_close(statistic, dist.mmd(x, y, kernel="laplacian", bandwidth=2.0,
                                                         unbiased=True))


def test_permutation_test_tells_same_from_different_and_is_device_independent(device):
    x = randn(60, 2, device=device)
    same = randn(60, 2, seed=1, device=device)
    shifted = same + torch.tensor([1.0, 0.0], dtype=same.dtype, device=device)
    _, p_same = dist.mmd_permutation_test(x, same, permutations=200, seed=0)
    _, p_shifted = dist.mmd_permutation_test(x, shifted, permutations=200, seed=0)
    assert p_same > 0.05 and p_shifted == 1 / 201
    _, p_cpu = dist.mmd_permutation_test(x.cpu(), same.cpu(), permutations=200, seed=0)
    assert p_same == p_cpu


# --------------------------------------------------------------------------- Wasserstein 1-D
@pytest.mark.parametrize("sizes", [(8, 8), (7, 12)], ids=["equal", "unequal"])
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weights"])
def test_wasserstein_1d_p1_matches_scipy(device, dtype, sizes, weighted):
    u = randn(sizes[0], dtype=dtype, device=device)
    v = randn(sizes[1], seed=1, dtype=dtype, device=device) * 2 + 0.5
    uw = rand(sizes[0], seed=2, dtype=dtype, device=device) if weighted else None
    vw = rand(sizes[1], seed=3, dtype=dtype, device=device) if weighted else None
    expected = scipy.stats.wasserstein_distance(
        *(None if t is None else t.cpu().double().numpy() for t in (u, v, uw, vw)))
    result = dist.wasserstein_1d(u, v, uw, vw)
    assert result.item() == pytest.approx(expected, rel=1e-5 if dtype == torch.float32 else 1e-12)


def sorted_formula(u, v, p):
    """W_p of equal-size samples: the sorted samples are matched in order."""
    return ((u.sort(-1).values - v.sort(-1).values).abs() ** p).mean(-1) ** (1 / p)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0])
def test_wasserstein_1d_equal_sizes_is_the_sorted_formula(device, dtype, p):
    u, v = randn(4, 9, dtype=dtype, device=device), randn(4, 9, seed=1, dtype=dtype,
                                                          device=device) + 1
    assert_matches(lambda a, b: dist.wasserstein_1d(a, b, p=p),
                   lambda a, b: sorted_formula(a, b, p), u, v)


def test_wasserstein_1d_sorted_matching_is_optimal_transport():
    u, v = randn(10).numpy(), (randn(10, seed=1) * 3).numpy()
    cost = np.abs(u[:, None] - v[None, :]) ** 2
    rows, cols = linear_sum_assignment(cost)
    exact = math.sqrt(cost[rows, cols].mean())
    assert dist.wasserstein_1d(torch.tensor(u), torch.tensor(v), p=2.0).item() == pytest.approx(
        exact, rel=1e-12)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_wasserstein_1d_unequal_sizes_and_integer_weights_by_replication(p):
    u, v = randn(4), randn(6, seed=1) + 0.5  # lcm 12: each u three times, each v twice
    replicated = sorted_formula(u.repeat_interleave(3), v.repeat_interleave(2), p)
    torch.testing.assert_close(dist.wasserstein_1d(u, v, p=p), replicated)
    counts_u, counts_v = torch.tensor([1.0, 3, 2, 2]), torch.tensor([2.0, 1, 1, 1, 2, 1])
    replicated = sorted_formula(u.repeat_interleave(counts_u.long()),
                                v.repeat_interleave(counts_v.long()), p)
    weighted = dist.wasserstein_1d(u, v, counts_u.double(), counts_v.double(), p=p)
    torch.testing.assert_close(weighted, replicated)


def test_wasserstein_1d_gradients_match_finite_differences():
    u, v = randn(5).requires_grad_(), (randn(7, seed=1) + 1).requires_grad_()
    uw, vw = (rand(5, seed=2) + 0.5).requires_grad_(), (rand(7, seed=3) + 0.5).requires_grad_()
    for p in (1.0, 2.5):
        assert torch.autograd.gradcheck(
            lambda a, b, wa, wb, p=p: dist.wasserstein_1d(a, b, wa, wb, p=p), (u, v, uw, vw))


def test_wasserstein_1d_of_a_shift_is_the_shift_and_batches():
    u = randn(3, 11)
    torch.testing.assert_close(dist.wasserstein_1d(u, u + 2.5, p=2.0),
                               torch.full((3,), 2.5, dtype=torch.float64))
    v = randn(3, 6, seed=1)
    batched = dist.wasserstein_1d(u, v, p=1.5)
    torch.testing.assert_close(batched, torch.stack([dist.wasserstein_1d(a, b, p=1.5)
                                                     for a, b in zip(u, v)]))


# --------------------------------------------------------------------------- Sinkhorn
def sinkhorn_by_scaling(cost, a, b, epsilon, iterations):
    """The textbook (non-log) Sinkhorn: u = a / K v, v = b / Kᵀ u with K = exp(−C/ε)."""
    kernel = torch.exp(-cost / epsilon)
    v = torch.ones_like(b)
    for _ in range(iterations):
        u = a / (kernel @ v)
        v = b / (kernel.T @ u)
    return u[:, None] * kernel * v[None, :]


def test_sinkhorn_plan_matches_the_scaling_form(device, dtype):
    x, y = rand(6, 2, dtype=dtype, device=device), rand(5, 2, seed=1, dtype=dtype, device=device)
    a = rand(6, seed=2, dtype=dtype, device=device) + 0.5
    b = rand(5, seed=3, dtype=dtype, device=device) + 0.5
    a, b = a / a.sum(), b / b.sum()
    cost = dist._squared_distances(x, y)
    plan = dist.sinkhorn_plan(cost, a, b, epsilon=0.05, iterations=50)
    expected = sinkhorn_by_scaling(cost, a, b, 0.05, 50)
    torch.testing.assert_close(plan, expected)
    torch.testing.assert_close(plan.sum(0), b)  # column sums exact after the last step
    value = dist.sinkhorn_distance(x, y, a, b, epsilon=0.05, iterations=50)
    torch.testing.assert_close(value, (expected * cost).sum())


def test_sinkhorn_converges_to_the_exact_transport_cost():
    n = 7
    x, y = rand(n, 2, seed=4), rand(n, 2, seed=5)
    cost = dist._squared_distances(x, y).numpy()
    rows, cols = linear_sum_assignment(cost)
    exact = cost[rows, cols].mean()  # uniform weights: the optimal plan is a permutation / n
    gaps = []
    for epsilon, iterations in [(0.1, 100), (0.01, 800), (0.001, 10_000)]:
        value = dist.sinkhorn_distance(x, y, epsilon=epsilon, iterations=iterations).item()
        gaps.append(value - exact)
        assert -1e-6 <= value - exact <= epsilon * math.log(n)
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 2e-3 * exact


def test_sinkhorn_in_1d_approaches_wasserstein_squared():
    u, v = randn(6, seed=6), randn(6, seed=7) + 1
    value = dist.sinkhorn_distance(u[:, None], v[:, None], epsilon=0.01, iterations=5000)
    assert value.item() == pytest.approx(dist.wasserstein_1d(u, v, p=2.0).item() ** 2,
                                         rel=1e-3)


def test_sinkhorn_is_stable_where_the_scaling_form_fails():
    x, y = rand(5, 2) * 10, rand(5, 2, seed=1) * 10
    cost = dist._squared_distances(x, y)
    a = torch.full((5,), 0.2, dtype=torch.float64)
    assert torch.isnan(sinkhorn_by_scaling(cost, a, a, 0.01, 10)).any()  # exp(-C/ε) = 0
    assert torch.isfinite(dist.sinkhorn_distance(x, y, epsilon=0.01, iterations=10))


def test_sinkhorn_gradient_matches_finite_differences_and_batches():
    x, y = rand(3, 2).requires_grad_(), rand(4, 2, seed=1).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, b: dist.sinkhorn_distance(a, b, epsilon=0.1, iterations=20), (x, y))
    xs, ys = rand(2, 4, 2, seed=2), rand(2, 3, 2, seed=3)
    batched = dist.sinkhorn_distance(xs, ys, epsilon=0.1, iterations=30)
    torch.testing.assert_close(batched, torch.stack(
        [dist.sinkhorn_distance(a, b, epsilon=0.1, iterations=30) for a, b in zip(xs, ys)]))


# --------------------------------------------------------------------------- bad input
BAD_INPUT = [
    ("integer vectors", lambda: dist.euclidean(torch.tensor([1, 2]), torch.tensor([0, 1])),
     TypeError, "u: expected a floating-point tensor, got torch.int64"),
    ("shapes that do not broadcast", lambda: dist.manhattan(randn(3, 4), randn(2, 4)),
     ValueError, r"v: shape \(2, 4\) does not broadcast with u's shape \(3, 4\)"),
    ("minkowski p = 0", lambda: dist.minkowski(randn(3), randn(3), 0),
     ValueError, "p: expected p > 0, got 0"),
    ("non-positive variance", lambda: dist.standardized_euclidean(
        randn(3), randn(3), torch.tensor([1.0, 0.0, 2.0]).double()),
     ValueError, "variances: expected positive variances, got 0"),
    ("inverse covariance shape", lambda: dist.mahalanobis(randn(3), randn(3), torch.eye(2)),
     ValueError, r"inverse_covariance: expected shape \(3, 3\)"),
    ("unknown reduction", lambda: dist.euclidean(randn(3), randn(3), reduction="avg"),
     ValueError, "reduction: expected one of"),
    ("not probabilities", lambda: dist.hellinger_distance(torch.tensor([0.5, 1.5]),
                                                          torch.tensor([0.5, 0.5])),
     ValueError, r"p: expected probabilities in \[0, 1\], got 1.5"),
    ("distribution shapes", lambda: dist.bhattacharyya_distance(probabilities(3),
                                                                probabilities(4)),
     ValueError, r"q: expected shape \(3,\)"),
    ("unknown kernel", lambda: dist.mmd(randn(3, 2), randn(3, 2), kernel="cauchy"),
     ValueError, "kernel: expected one of 'gaussian', 'laplacian', 'linear' or a callable"),
    ("feature mismatch", lambda: dist.mmd(randn(3, 2), randn(3, 4)),
     ValueError, "y: expected 2 features per sample"),
    ("samples as a vector", lambda: dist.mmd(randn(3), randn(3)),
     ValueError, r"x: expected samples of shape \(..., n, d\)"),
    ("unbiased with one sample", lambda: dist.mmd(randn(1, 2), randn(3, 2), unbiased=True),
     ValueError, "x: the unbiased estimate needs at least 2 samples, got 1"),
    ("bandwidth 0", lambda: dist.mmd(randn(3, 2), randn(3, 2), bandwidth=0.0),
     ValueError, "bandwidth: expected a positive number"),
    ("batched permutation test", lambda: dist.mmd_permutation_test(randn(2, 3, 2),
                                                                   randn(2, 3, 2)),
     ValueError, "x: the test takes unbatched samples"),
    ("wasserstein p < 1", lambda: dist.wasserstein_1d(randn(3), randn(3), p=0.5),
     ValueError, "p: expected p >= 1, got 0.5"),
    ("negative weights", lambda: dist.wasserstein_1d(randn(3), randn(2),
                                                     torch.tensor([1.0, -1, 1]).double()),
     ValueError, "u_weights: expected non-negative weights with a positive sum"),
    ("weights of the wrong length", lambda: dist.wasserstein_1d(randn(3), randn(2), None,
                                                                torch.ones(3).double()),
     ValueError, r"v_weights: expected shape \(2,\)"),
    ("batch mismatch", lambda: dist.wasserstein_1d(randn(2, 3), randn(3, 3)),
     ValueError, r"v_values: expected the batch shape of u_values \(2,\), got \(3,\)"),
    ("epsilon 0", lambda: dist.sinkhorn_distance(randn(3, 2), randn(3, 2), epsilon=0.0),
     ValueError, "epsilon: expected a positive number, got 0.0"),
    ("zero Sinkhorn iterations", lambda: dist.sinkhorn_distance(randn(3, 2), randn(3, 2),
                                                                iterations=0),
     ValueError, "iterations: expected at least 1, got 0"),
    ("no points", lambda: dist.sinkhorn_distance(randn(0, 2), randn(3, 2)),
     ValueError, r"x: expected at least one point, got shape \(0, 2\)"),
    ("no samples", lambda: dist.wasserstein_1d(randn(2, 0), randn(2, 3)),
     ValueError, r"u_values: expected at least one sample, got shape \(2, 0\)"),
    ("zero transport weight", lambda: dist.sinkhorn_distance(
        randn(3, 2), randn(2, 2), torch.tensor([0.5, 0.5, 0.0]).double()),
     ValueError, "a: expected positive weights"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --------------------------------------------------------------------------- graders
def wasserstein_sorted_right(u, v, p):
    return ((u.sort().values - v.sort().values).abs() ** p).mean() ** (1 / p)


def wasserstein_unsorted_wrong(u, v, p):
    return ((u - v).abs() ** p).mean() ** (1 / p)


def test_wasserstein_grader():
    assert grade_wasserstein_sorted(wasserstein_sorted_right).score == 1.0
    assert grade_wasserstein_sorted(wasserstein_unsorted_wrong).score < 0.5

    def not_done(u, v, p):
        raise NotImplementedError

    assert grade_wasserstein_sorted(not_done).score == 0.0


def gaussian_gram(a, b, bandwidth):
    return torch.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * bandwidth**2))


def mmd_unbiased_right(x, y, bandwidth):
    n, m = len(x), len(y)
    kxx, kyy = gaussian_gram(x, x, bandwidth), gaussian_gram(y, y, bandwidth)
    return ((kxx.sum() - kxx.trace()) / (n * (n - 1)) + (kyy.sum() - kyy.trace()) / (m * (m - 1))
            - 2 * gaussian_gram(x, y, bandwidth).mean())


def mmd_biased_wrong(x, y, bandwidth):
    return (gaussian_gram(x, x, bandwidth).mean() + gaussian_gram(y, y, bandwidth).mean()
            - 2 * gaussian_gram(x, y, bandwidth).mean())


def test_mmd_grader():
    assert grade_mmd_unbiased(mmd_unbiased_right).score == 1.0
    assert grade_mmd_unbiased(mmd_biased_wrong).score == 0.0

    def not_done(x, y, bandwidth):
        raise NotImplementedError

    assert grade_mmd_unbiased(not_done).score == 0.0
