"""The unit tests and every chapter's stored outputs, re-checked on CUDA (``make gpu-check``).

    python scripts/gpu_check.py [PYTEST ARGS ...]

Runs pytest on ``tests`` and ``chapters`` (nbval) with ``LOSSBOOK_DEVICE=cuda``, so that every
test's ``device`` fixture and every chapter's ``lossbook.runtime.setup()`` use the GPU, and
ends with a summary: the failing tests, and for each notebook cell whose printed output
differs from the stored (CPU) one, the cell and the first differing lines — the book promises
the same text on CPU and CUDA. Exits 2 without CUDA (nothing would be checked), with the
reason; otherwise with pytest's exit status.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NO_CUDA = ("gpu-check: no CUDA device ({reason}); it runs the tests and the chapters on a "
           "GPU and compares their printed output with the stored CPU output, so there is "
           "nothing to check here. Run it on a machine with an NVIDIA GPU and a CUDA build "
           "of torch (make .venv/.dev-installed TORCH=torch==<version> with the CUDA index).")


def cuda_reason() -> str | None:
    """None when CUDA can be used, else why not."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if torch.version.cuda is None:
        return f"this torch ({torch.__version__}) is a CPU-only build"
    if not torch.cuda.is_available():
        return "torch sees no GPU"
    return None


#: nbval's failure report: the cell, then the expected and the obtained output.
CELL = re.compile(r"^_+ (?P<notebook>\S+\.ipynb)::Cell (?P<cell>\d+) _+$", re.M)


def differing_cells(report: str) -> list[str]:
    """``notebook::Cell n`` plus nbval's first differing lines, for every failing cell."""
    found = []
    matches = list(CELL.finditer(report))
    for match, after in zip(matches, matches[1:] + [None]):
        body = report[match.end():after.start() if after else len(report)]
        lines = [line for line in body.splitlines() if line.startswith(("+", "-"))
                 and not line.startswith(("+++", "---"))][:6]
        found.append(f"{match['notebook']}::Cell {match['cell']}\n    " + "\n    ".join(lines))
    return found


def main(argv: list[str]) -> int:
    reason = cuda_reason()
    if reason is not None:
        print(NO_CUDA.format(reason=reason), file=sys.stderr)
        return 2
    env = {**os.environ, "LOSSBOOK_DEVICE": "cuda"}
    command = [sys.executable, "-m", "pytest", "-rf", "tests", "chapters", *argv]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    print(done.stdout[-20000:], done.stderr[-5000:], sep="\n")
    cells = differing_cells(done.stdout)
    failed = re.findall(r"^FAILED (\S+)", done.stdout, re.M)
    print("\n== gpu-check summary")
    print(f"{len(failed)} failing tests; {len(cells)} notebook cells print differently on CUDA")
    for cell in cells:
        print(" ", cell)
    for test in failed:
        if ".ipynb" not in test:
            print("  FAILED", test)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
