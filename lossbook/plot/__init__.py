"""One figure style for the whole book, and small helpers that keep figures labelled.

Chapter-specific drawings live in submodules named for their family
(``lossbook.plot.<family>``); this module holds what every chapter shares.

Every figure gets a title and axis labels (:func:`label` asks for all three). Cells end with
``plt.show()`` so that no object repr (which contains a memory address) lands in the output.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

#: Colours in the order lines are drawn (colour-blind-safe, after Okabe & Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the book's style to matplotlib (called by :func:`lossbook.runtime.setup`)."""
    mpl.rcParams.update(STYLE)


def figure(ncols: int = 1, nrows: int = 1, *, width: float | None = None,
           height: float | None = None, **kwargs):
    """A figure with ``nrows × ncols`` axes, sized ~3.2 in per column unless told otherwise.

    Returns ``(fig, axes)``; ``axes`` is a single Axes for a 1 × 1 grid, else a flat array.
    """
    width = width or max(6.4, 3.2 * ncols)
    height = height or 3.6 * nrows
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False,
                             layout="constrained", **kwargs)
    flat = axes.ravel()
    return fig, (flat[0] if flat.size == 1 else flat)


def label(ax, title: str, xlabel: str, ylabel: str, *, legend: bool | str | None = None) -> None:
    """Title and axis labels for ``ax``, and a legend when any artist has a label.

    ``legend`` may be a matplotlib location (``"upper left"``) to place it, or ``False``.
    """
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles, _ = ax.get_legend_handles_labels()
    if legend is False or not (legend or handles):
        return
    ax.legend(loc=legend if isinstance(legend, str) else "best")


def curves(ax, runs, key: str, *, relative: bool = False, spread: str = "band") -> None:
    """Per-epoch curves of several losses: the mean over seeds, and how the seeds spread.

    ``runs`` maps a label (the loss) to the :class:`lossbook.experiment.History` of each seed
    (all recorded at the same epochs); ``key`` names the record to draw (``"loss"`` or a
    metric). ``relative=True`` divides each run by its first recorded value, so that losses on
    different scales share one axis. ``spread`` is ``"band"`` (mean ± 1 std, shaded),
    ``"runs"`` (every seed as a thin line, which shows seeds that behave differently rather
    than averaging them) or ``"none"``; a single seed draws no spread.
    """
    if spread not in ("band", "runs", "none"):
        raise ValueError(f"spread: expected 'band', 'runs' or 'none', got {spread!r}")
    for label, histories in runs.items():
        epochs = histories[0].epochs
        if any(list(h.epochs) != list(epochs) for h in histories):
            raise ValueError(f"runs[{label!r}]: expected every run recorded at the same epochs, "
                             f"got {[list(h.epochs) for h in histories]}")
        values = np.array([h.values[key] for h in histories], dtype=np.float64)
        if relative:
            values = values / values[:, :1]
        mean = values.mean(axis=0)
        (line,) = ax.plot(epochs, mean, label=label)
        if len(values) < 2 or spread == "none":
            continue
        if spread == "band":
            std = values.std(axis=0, ddof=1)
            ax.fill_between(epochs, mean - std, mean + std, color=line.get_color(), alpha=0.15,
                            linewidth=0)
        else:
            for run in values:
                ax.plot(epochs, run, color=line.get_color(), alpha=0.35, linewidth=0.8)
