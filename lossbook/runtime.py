"""One call at the top of every chapter: seeds, device, and deterministic numerics.

``setup(seed=0)`` makes a notebook print the same text on every run and on CPU and CUDA:

* seeds Python, NumPy and torch (all devices);
* picks ``cuda`` when present, else ``cpu`` (``LOSSBOOK_DEVICE=cpu`` or ``=cuda:1`` overrides);
* turns off TF32, which silently drops float32 matmuls and convolutions on Ampere+ GPUs to a
  10-bit mantissa and would change printed digits;
* asks torch for deterministic algorithms (cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG``, set here
  before CUDA starts), keeping ops that have no deterministic CUDA kernel usable and silent;
* applies the book's figure style;
* sets torch's CPU thread count when asked (``threads=1``: chapters that train tiny networks,
  where one thread beats several that wait on each other). Chapters never call
  ``torch.set_num_threads`` themselves: the count is set here, once, for the whole notebook,
  so no cell has to restore it. Without ``threads`` the count is left as it is (one under
  ``make execute`` and the test workers, which set ``OMP_NUM_THREADS=1``).

Random data in the chapters is drawn on the CPU from seeded generators (:mod:`lossbook.data`)
and then moved to the device, because CPU and CUDA random streams differ.
"""

from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

DEVICE_VARIABLE = "LOSSBOOK_DEVICE"


def pick_device(name: str | None = None) -> torch.device:
    """``name``, else ``$LOSSBOOK_DEVICE``, else ``cuda`` when available, else ``cpu``."""
    name = name or os.environ.get(DEVICE_VARIABLE)
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch on every device."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def make_deterministic() -> None:
    """Full-precision float32 and deterministic kernels where torch has them."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.set_float32_matmul_precision("highest")
    # warn_only: an op without a deterministic CUDA kernel (e.g. ctc_loss's backward) still
    # runs; its warning is silenced so that CPU and CUDA runs print the same text.
    torch.use_deterministic_algorithms(True, warn_only=True)
    warnings.filterwarnings("ignore", message=".*does not have a deterministic implementation.*")


def setup(seed: int = 0, device: str | None = None, threads: int | None = None) -> torch.device:
    """Seed, pick the device, make numerics deterministic, style figures; print nothing.

    ``threads`` sets torch's CPU thread count for the rest of the session (``None`` leaves
    it). Returns the device every chapter then moves its tensors and models to.
    """
    from lossbook import plot

    if threads is not None:
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            from lossbook import _checks as check

            raise check.ArgumentError(f"threads: expected a positive integer, got {threads!r}")
        torch.set_num_threads(threads)
    make_deterministic()
    seed_everything(seed)
    plot.use_style()
    return pick_device(device)
