"""One figure style for the whole book, and small helpers that keep figures labelled.

Chapter-specific drawings live in submodules named for their family
(``lossbook.plot.<family>``); this module holds what every chapter shares.

Every figure gets a title and axis labels (:func:`label` asks for all three). Cells end with
``plt.show()`` so that no object repr (which contains a memory address) lands in the output.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

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


def curves(ax, histories_by_label, key: str, *, relative: bool = False) -> None:
    """Per-epoch curves of several runs: for each label, the mean over its runs and a ±std band.

    ``histories_by_label`` maps a label to a list of :class:`lossbook.experiment.History` (one
    per seed, recorded at the same epochs); ``key`` names the record to draw (``"loss"``, a
    metric). ``relative=True`` divides every run by its first value, so that losses on
    different scales share one axis. The band is the sample standard deviation over the runs
    (none for a single run). Label the axes with :func:`label`.
    """
    import numpy as np

    for name, runs in histories_by_label.items():
        values = np.array([run.values[key] for run in runs], dtype=np.float64)
        if relative:
            values = values / values[:, :1]
        epochs = np.asarray(runs[0].epochs)
        mean = values.mean(axis=0)
        (line,) = ax.plot(epochs, mean, label=name)
        if len(runs) > 1:
            std = values.std(axis=0, ddof=1)
            ax.fill_between(epochs, mean - std, mean + std, color=line.get_color(), alpha=0.2,
                            linewidth=0)
