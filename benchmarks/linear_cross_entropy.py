"""linear_cross_entropy: lossbook's chunked computation against torch's two paths.

    python benchmarks/linear_cross_entropy.py [--vocab 8000,32000,128000] [--tokens 4096]
        [--width 512] [--repeats 2] [--device cpu] [--threads 1]

For each vocabulary size V it projects N hidden states of width d onto V classes and takes
the cross-entropy, forward and backward, four ways:

* ``torch``            ``F.linear_cross_entropy(x, W, t)`` — torch's reference path, (N, V)
                       logits materialised;
* ``torch chunked``    the same with ``options=torch.nn.LinearCrossEntropyOptions()``;
* ``lossbook``         ``lossbook.linear_cross_entropy(x, W, t)`` (always chunked);
* ``lossbook CE``      ``lossbook.cross_entropy(x @ W.T, t)``, the plain materialised loss.

**Peak memory** is measured in a fresh subprocess per method and size, so that no
measurement inherits another's heap: on the CPU (Linux) the peak resident set size
(``VmHWM``, reset through ``/proc/self/clear_refs`` just before the call) minus the resident
size then; on CUDA
``torch.cuda.max_memory_allocated`` above the memory held before the call.
**Time** is forward + backward, the methods interleaved in one process (median of
``--repeats``), reported as the ratio to ``torch``. Values and gradients of lossbook and torch
are compared at every size.

Target (issue 20): at the largest V, lossbook's peak memory <= 1/8 of ``torch``'s and its time
<= 1.5x ``torch``'s. The exit status is 1 when the memory target or the comparison fails; the
time ratio is reported (it depends on the machine's load) and flagged, not enforced.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lossbook  # noqa: E402

METHODS = {
    "torch": lambda x, w, t: F.linear_cross_entropy(x, w, t),
    "torch chunked": lambda x, w, t: F.linear_cross_entropy(
        x, w, t, options=torch.nn.LinearCrossEntropyOptions()),
    "lossbook": lambda x, w, t: lossbook.linear_cross_entropy(x, w, t),
    "lossbook CE": lambda x, w, t: lossbook.cross_entropy(x @ w.T, t),
}
MEMORY_TARGET = 1 / 8
TIME_TARGET = 1.5


def inputs(vocab: int, tokens: int, width: int, device: str):
    """Seeded hidden states, a scaled projection and targets, allocated without temporaries."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(tokens, width, generator=g).to(device).requires_grad_()
    w = torch.randn(vocab, width, generator=g).div_(width**0.5).to(device).requires_grad_()
    t = torch.randint(0, vocab, (tokens,), generator=g).to(device)
    return x, w, t


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def child(method: str, vocab: int, tokens: int, width: int, device: str) -> None:
    """Run one method once in this fresh process and print its peak memory growth (bytes)."""
    x, w, t = inputs(vocab, tokens, width, device)
    sync(device)
    if device.startswith("cuda"):
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    else:
        Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS (Linux)
        before = resident("VmRSS")
    METHODS[method](x, w, t).backward()
    sync(device)
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() - before
    else:
        peak = resident("VmHWM") - before
    print(json.dumps({"peak": peak}))


def resident(field: str) -> int:
    """``VmRSS`` (resident now) or ``VmHWM`` (peak since the last reset), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_memory(method: str, vocab: int, tokens: int, width: int, device: str) -> int:
    out = subprocess.run(
        [sys.executable, __file__, "--child", method, "--vocab", str(vocab), "--tokens",
         str(tokens), "--width", str(width), "--device", device,
         "--threads", str(torch.get_num_threads())],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak"]


def timings(vocab: int, tokens: int, width: int, device: str, repeats: int) -> dict:
    """Median forward + backward seconds per method, interleaved; checks values and grads."""
    x, w, t = inputs(vocab, tokens, width, device)
    seconds = {m: [] for m in METHODS}
    results = {}
    for _ in range(repeats):
        for method, f in METHODS.items():
            x.grad = w.grad = None
            sync(device)
            start = time.perf_counter()
            loss = f(x, w, t)
            loss.backward()
            sync(device)
            seconds[method].append(time.perf_counter() - start)
            if method in ("torch", "lossbook"):
                results[method] = (loss.detach(), x.grad, w.grad)
            del loss
    for a, b in zip(results["lossbook"], results["torch"]):  # equal value and gradients
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    return {m: statistics.median(s) for m, s in seconds.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", default="8000,32000,128000")
    parser.add_argument("--tokens", type=int, default=4096)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="CPU threads (1 gives steadier ratios on a shared machine)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        child(args.child, int(args.vocab), args.tokens, args.width, args.device)
        return 0
    vocabs = [int(v) for v in args.vocab.split(",")]
    print(f"linear_cross_entropy, N = {args.tokens} tokens, d = {args.width}, "
          f"{args.device}, float32, {torch.get_num_threads()} threads")
    timings(1000, 256, args.width, args.device, 1)  # warm-up: load every kernel once
    header = f"{'V':>7}  {'method':<14} {'peak MB':>9} {'/ torch':>8} {'time s':>8} {'/ torch':>8}"
    print(header + "\n" + "-" * len(header))
    for vocab in vocabs:
        peaks = {m: peak_memory(m, vocab, args.tokens, args.width, args.device)
                 for m in METHODS}
        times = timings(vocab, args.tokens, args.width, args.device, args.repeats)
        for m in METHODS:
            print(f"{vocab:>7}  {m:<14} {peaks[m] / 1e6:>9.0f} {peaks[m] / peaks['torch']:>8.3f}"
                  f" {times[m]:>8.2f} {times[m] / times['torch']:>8.2f}")
    memory_ratio = peaks["lossbook"] / peaks["torch"]
    time_ratio = times["lossbook"] / times["torch"]
    memory_ok, time_ok = memory_ratio <= MEMORY_TARGET, time_ratio <= TIME_TARGET
    print(f"V = {vocabs[-1]}: lossbook's peak memory is {memory_ratio:.3f} of torch's "
          f"(target <= {MEMORY_TARGET:.3f}): {'met' if memory_ok else 'NOT MET'}; "
          f"time {time_ratio:.2f}x (target <= {TIME_TARGET}): "
          f"{'met' if time_ok else 'not met on this run'}")
    return 0 if memory_ok else 1


if __name__ == "__main__":
    sys.exit(main())
