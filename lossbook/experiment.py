"""Small training experiments for the chapters: one seeded loop, visible progress, and
results summarised over several seeds.

An experiment's conclusion must survive its noise, so a chapter trains each configuration with
several seeds and prints mean ± standard deviation (:func:`lossbook.display.mean_std`)::

    def run(seed):
        model, history = experiment.train(make_model, loss_fn, x, y, epochs=30, lr=1e-2,
                                          seed=seed, metrics={"test acc": accuracy})
        return history.last()
    results = experiment.over_seeds(run, seeds=range(5), label="cross-entropy")

Everything random (initialisation, mini-batch order) is drawn from CPU generators seeded here,
so CPU and CUDA runs make the same choices; only the arithmetic's last bits differ, which is
why results are printed with :func:`lossbook.display.settled` precision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from lossbook import _checks as check
from lossbook.runtime import seed_everything


class Progress:
    """A one-line progress bar of dots that renders the same in Jupyter, nbval and the book.

    ``Progress("CE, seed 0", total=60)`` prints ``CE, seed 0 `` and then up to ``width``
    dots as :meth:`step` is called ``total`` times; :meth:`done` ends the line. The text holds
    no number that depends on the arithmetic, so it is identical on every device.
    """

    def __init__(self, label: str, total: int, width: int = 20):
        self.total, self.width, self.count, self.shown = max(total, 1), width, 0, 0
        print(f"{label} ", end="", flush=True)

    def step(self) -> None:
        self.count += 1
        due = self.count * self.width // self.total
        if due > self.shown:
            print("." * (due - self.shown), end="", flush=True)
            self.shown = due

    def done(self, note: str = "") -> None:
        print(f" {note}".rstrip(), flush=True)


def minibatches(n: int, batch_size: int | None, *, seed: int, epoch: int) -> list[torch.Tensor]:
    """Index tensors (CPU) covering ``range(n)`` in a shuffled order fixed by seed and epoch."""
    if batch_size is None or batch_size >= n:
        return [torch.arange(n)]
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return list(torch.randperm(n, generator=g).split(batch_size))


@dataclass
class History:
    """Per-epoch records: ``values['loss']`` (mean training loss) and each metric."""

    label: str
    epochs: list[int] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)

    def record(self, epoch: int, **values: float) -> None:
        self.epochs.append(epoch)
        for name, value in values.items():
            self.values.setdefault(name, []).append(float(value))

    def last(self) -> dict[str, float]:
        """The final value of every record."""
        return {name: series[-1] for name, series in self.values.items()}


def train(
    make_model: Callable[[], torch.nn.Module],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    seed: int,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    metrics: Mapping[str, Callable[[torch.nn.Module], float]] | None = None,
    every: int = 1,
    label: str | None = None,
) -> tuple[torch.nn.Module, History]:
    """Seed, build ``make_model()`` on ``x``'s device, and minimise ``loss_fn(model(x), y)``.

    ``metrics`` map a name to ``f(model) -> float``, evaluated every ``every`` epochs (and at
    the last) in ``eval`` mode without gradients. A progress line is printed when ``label``
    is given. Returns the trained model and its :class:`History`.
    """
    seed_everything(seed)
    model = make_model().to(x.device)
    params = list(model.parameters())
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer: expected 'adam' or 'sgd', got {optimizer!r}")
    history = History(label or "")
    progress = Progress(label, epochs) if label else None
    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        for rows in minibatches(len(x), batch_size, seed=seed, epoch=epoch):
            rows = rows.to(x.device)
            loss = loss_fn(model(x[rows]), y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + float(loss.detach()) * len(rows), count + len(rows)
        if epoch % every == 0 or epoch == epochs:
            model.eval()
            with torch.no_grad():
                measured = {name: f(model) for name, f in (metrics or {}).items()}
            history.record(epoch, loss=total / count, **measured)
        if progress:
            progress.step()
    if progress:
        progress.done(f"{epochs} epochs")
    model.eval()
    return model, history


def over_seeds(run: Callable[[int], Mapping[str, float]], seeds: Iterable[int]
               ) -> dict[str, np.ndarray]:
    """``run(seed)`` for every seed; ``{name: array of one value per seed}``."""
    collected: dict[str, list[float]] = {}
    for seed in seeds:
        for name, value in run(seed).items():
            collected.setdefault(name, []).append(float(value))
    return {name: np.asarray(values) for name, values in collected.items()}


class StackedMLP(torch.nn.Module):
    r"""``len(seeds)`` independent ReLU networks of one shape, evaluated as one.

    ``sizes`` is (inputs, hidden, ..., outputs). Copy ``c`` is initialised as
    :class:`torch.nn.Linear` initialises a layer (weights and biases uniform in
    $\pm 1/\sqrt{\text{fan-in}}$), drawn from a CPU generator seeded with ``seeds[c]``: a copy
    is the same network whatever the other copies are, so the same seed can start several
    experiments. The input is (copies, batch, inputs) and the output (copies, batch, outputs);
    one batched matrix product per layer (:func:`torch.baddbmm`) evaluates every copy, so
    training several seeds of a small network costs little more than training one. No copy
    sees another's inputs or parameters: a loss summed over copies trains each on its own.
    """

    def __init__(self, sizes, seeds, *, dtype=torch.float32, device=None):
        super().__init__()
        layers = list(zip(sizes, sizes[1:]))
        weights, biases = [[] for _ in layers], [[] for _ in layers]
        for seed in seeds:
            g = torch.Generator().manual_seed(seed)
            for i, (n_in, n_out) in enumerate(layers):
                bound = n_in ** -0.5  # drawn in float64: float32 and float64 copies agree
                weights[i].append((2 * torch.rand(n_in, n_out, generator=g, dtype=torch.float64)
                                   - 1) * bound)
                biases[i].append((2 * torch.rand(1, n_out, generator=g, dtype=torch.float64)
                                  - 1) * bound)
        self.weights = torch.nn.ParameterList(
            torch.nn.Parameter(torch.stack(w).to(device=device, dtype=dtype)) for w in weights)
        self.biases = torch.nn.ParameterList(
            torch.nn.Parameter(torch.stack(b).to(device=device, dtype=dtype)) for b in biases)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        copies, n_in = self.weights[0].shape[:2]
        if x.dim() != 3 or x.shape[0] != copies or x.shape[2] != n_in:
            raise check.ArgumentError(
                f"x: expected shape ({copies}, batch, {n_in}), got {tuple(x.shape)}")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)  # b + x @ w for every copy at once
            if i < last:
                x = torch.relu(x)
        return x


def accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of rows whose arg-max class equals ``target``."""
    return float((logits.argmax(dim=1) == target).double().mean())
