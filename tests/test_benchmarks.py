"""The benchmark's measurement set-up (``benchmarks/losses.py``), not its timings."""

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

# A loss's life in the benchmark: three fresh 4 MB temporaries per call, freed at its end.
# Prints the minor page faults per call (each first touch of a page the kernel zeroes).
FAULTS_PER_CALL = """
import resource, sys
sys.path.insert(0, {benchmarks!r})
import torch
import losses
print(losses.keep_freed_memory())
x = torch.randn(1_000_000)
def call():
    d = x * 2
    m = d.clamp(-1, 1)
    return (d * m).sum()
for _ in range(5):
    call()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    call()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 50)
"""


def allocator_and_faults_per_call() -> tuple[str, float]:
    code = FAULTS_PER_CALL.format(benchmarks=str(BENCHMARKS))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=300)
    allocator, faults = done.stdout.split("\n")[-3:-1]
    return allocator, float(faults)


def test_benchmark_keeps_freed_memory_so_temporaries_do_not_fault_in_again():
    allocator, faults = allocator_and_faults_per_call()
    assert allocator == "glibc malloc, freed memory kept (mallopt)"
    # Faulting the three 4 MB temporaries in again would be ~2900 faults a call.
    assert faults < 50, f"{faults} page faults per call with freed memory kept"
