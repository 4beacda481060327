"""Loaded for every test path (tests/ and chapters/), before any test module imports torch.

Under pytest-xdist each worker, and each notebook kernel it starts (a kernel inherits the
environment), gets one thread: two workers on two cores, not four threads fighting for them.
Without this, ``pytest chapters`` alone ran chapter 05's small training loops four times
slower than ``make test`` did.
"""

import os

if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
