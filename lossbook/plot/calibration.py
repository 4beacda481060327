"""Reliability diagrams (Guo et al., 2017): accuracy against confidence, bin by bin.

``reliability_diagram(ax, probs, target)`` draws one diagram on ``ax`` from
:func:`lossbook.calibration.reliability_curve` and returns that curve, so the figure and the
numbers printed beside it come from one computation.
"""

from __future__ import annotations

import numpy as np
import torch

from lossbook import plot
from lossbook.calibration import ReliabilityCurve, reliability_curve


def reliability_diagram(
    ax,
    probs: torch.Tensor,
    target: torch.Tensor,
    n_bins: int = 15,
    *,
    binning: str = "uniform",
    title: str = "Reliability diagram",
    color: str | None = None,
    legend: bool = True,
) -> ReliabilityCurve:
    """Draw accuracy per confidence bin as bars, the gap to the bin's mean confidence hatched,
    and the diagonal of perfect calibration.

    ``probs`` and ``target`` as in :func:`lossbook.calibration.reliability_curve`: (N, C)
    class probabilities with class indices (top-label: confidence against accuracy), or (N,)
    positive-class probabilities with labels in {0, 1} (predicted probability against the
    fraction of positives). A hatched box *above* a bar is over-confidence, *below* it
    under-confidence. Empty bins draw nothing. Titles and labels the axes; ``legend=False``
    leaves out the legend (for all but one panel of a grid of diagrams).
    """
    curve = reliability_curve(probs.detach(), target, n_bins=n_bins, binning=binning)
    edges, confidence, accuracy, count = (
        t.detach().cpu().double().numpy() for t in (curve.edges, curve.confidence,
                                                    curve.accuracy, curve.count))
    filled = count > 0
    left, width = edges[:-1][filled], np.diff(edges)[filled]
    color = color or plot.PALETTE[0]
    ax.bar(left, accuracy[filled], width=width, align="edge", color=color, alpha=0.7,
           edgecolor="white", label="accuracy in bin")
    gap = confidence[filled] - accuracy[filled]
    ax.bar(left, gap, bottom=accuracy[filled], width=width, align="edge", fill=False,
           hatch="//", edgecolor=plot.PALETTE[1], linewidth=0.8, label="gap to confidence")
    ax.plot([0, 1], [0, 1], linestyle="--", color="gray", linewidth=1,
            label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    if probs.dim() == 1:
        xlabel, ylabel = "predicted probability of class 1", "fraction of class 1"
    else:
        xlabel, ylabel = "confidence (top-class probability)", "accuracy"
    plot.label(ax, title, xlabel, ylabel, legend="upper left" if legend else False)
    return curve
