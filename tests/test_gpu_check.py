"""``make gpu-check`` (scripts/gpu_check.py): what can be checked without a GPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import gpu_check  # noqa: E402


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: nothing refuses")
def test_refuses_without_cuda_and_says_why():
    done = subprocess.run([sys.executable, "scripts/gpu_check.py"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "gpu-check: no CUDA device" in done.stderr
    assert ("CPU-only build" in done.stderr) or ("sees no GPU" in done.stderr)


def test_summary_names_each_differing_cell_with_its_lines():
    report = "\n".join([
        "_____ chapters/02_regression_losses.ipynb::Cell 7 _____",
        "Notebook cell execution failed",
        "-mse 0.2500", "+mse 0.2501", "",
        "_____ chapters/05_classification_losses.ipynb::Cell 12 _____",
        "-accuracy 0.91", "+accuracy 0.92",
        "FAILED chapters/05_classification_losses.ipynb::Cell 12",
    ])
    cells = gpu_check.differing_cells(report)
    assert cells == ["chapters/02_regression_losses.ipynb::Cell 7\n    -mse 0.2500\n"
                     "    +mse 0.2501",
                     "chapters/05_classification_losses.ipynb::Cell 12\n    -accuracy 0.91\n"
                     "    +accuracy 0.92"]
