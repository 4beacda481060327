"""lossbook.normalization against torch.nn.functional.batch_norm / nn.BatchNorm1d and scipy."""

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F

from lossbook.normalization import batch_norm, skewness
from tests.reference import assert_matches, randn


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("affine", [False, True])
def test_training_output_and_running_statistics_match_torch(device, dtype, shape, affine):
    x = randn(*shape, dtype=dtype, device=device) * 3 + 1
    weight = randn(3, seed=1, dtype=dtype, device=device) if affine else None
    bias = randn(3, seed=2, dtype=dtype, device=device) if affine else None
    ours_stats = [randn(3, seed=3, dtype=dtype, device=device),
                  randn(3, seed=4, dtype=dtype, device=device).exp()]
    torch_stats = [s.clone() for s in ours_stats]
    assert_matches(lambda *a: batch_norm(a[0], *ours_stats, *a[1:], training=True, momentum=0.3),
                   lambda *a: F.batch_norm(a[0], *torch_stats, *a[1:], training=True,
                                           momentum=0.3),
                   x, weight, bias)
    for ours, theirs in zip(ours_stats, torch_stats):
        torch.testing.assert_close(ours, theirs)


def test_evaluation_uses_running_statistics(device, dtype):
    x = randn(6, 3, dtype=dtype, device=device)
    mean, var = randn(3, seed=1, dtype=dtype, device=device), torch.full((3,), 2.0, dtype=dtype,
                                                                           device=device)
    # torch treats the running statistics as buffers: no gradient flows into them
    assert_matches(lambda t: batch_norm(t, mean, var), lambda t: F.batch_norm(t, mean, var), x)


def test_several_steps_agree_with_nn_batchnorm1d():
    layer = torch.nn.BatchNorm1d(4, momentum=0.1, dtype=torch.float64)
    running_mean = torch.zeros(4, dtype=torch.float64)
    running_var = torch.ones(4, dtype=torch.float64)
    for step in range(5):
        x = randn(16, 4, seed=step) * (step + 1) + step
        torch.testing.assert_close(batch_norm(x, running_mean, running_var, training=True),
                                   layer(x))
    torch.testing.assert_close(running_mean, layer.running_mean)
    torch.testing.assert_close(running_var, layer.running_var)
    layer.eval()
    x = randn(3, 4, seed=99)
    torch.testing.assert_close(batch_norm(x, running_mean, running_var), layer(x))


def test_skewness_matches_scipy_and_survives_batch_norm():
    x = torch.distributions.Exponential(1.0).sample((1000, 2)).double()
    np.testing.assert_allclose(skewness(x).numpy(), scipy.stats.skew(x.numpy(), axis=0))
    normalised = batch_norm(x, None, None, training=True)
    torch.testing.assert_close(skewness(normalised), skewness(x))


@pytest.mark.parametrize("call, message", [
    (lambda: batch_norm(torch.randn(1, 3), None, None, training=True),
     "input: expected more than 1 value per channel"),
    (lambda: batch_norm(torch.randn(4, 3), None, None), "running_mean: required"),
    (lambda: batch_norm(torch.randn(3), None, None, training=True), "input: expected"),
])
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
