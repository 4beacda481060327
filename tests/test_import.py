"""``import lossbook`` stays light: the book's helpers (plots, graders) load on first use."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("matplotlib", "scipy", "sklearn", "IPython", "lossbook.grading", "lossbook.plot")


def imported_modules(code: str) -> set[str]:
    """The modules ``python -X importtime -c code`` imports, read from its report."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                          capture_output=True, text=True, timeout=300, check=True)
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}


def test_import_lossbook_leaves_out_plotting_scipy_and_graders():
    modules = imported_modules("import lossbook")
    assert "lossbook" in modules and "torch" in modules  # the report was read
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)
    assert not heavy, heavy


def test_the_helpers_are_still_attributes():
    code = ("import sys, lossbook; lossbook.plot.figure; lossbook.grading; "
            "print(all(m in sys.modules for m in ('matplotlib', 'lossbook.grading')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    assert done.stdout.strip() == "True"
