"""Shared fixtures: every package test runs on the CPU, and on CUDA too when one is present."""

import os

# Under pytest-xdist each worker (and each notebook kernel it starts, which inherits the
# environment) gets one thread: two workers on two cores, not four threads fighting for them.
# Set before torch is imported, which reads it once.
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param
