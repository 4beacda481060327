"""The two maps of the book: what each chapter needs, and which chapters answer which task.

Both draw from :mod:`lossbook.course` (and the decision map from :mod:`lossbook.catalog`), so
they change when a chapter or a loss is added.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from lossbook import course
from lossbook.plot import PALETTE, figure, label


def _parts() -> list[str]:
    return list(dict.fromkeys(c.part for c in course.CHAPTERS))


# Part colours: the palette without its yellow, which is too pale for a box's frame.
_COLOURS = tuple(c for c in PALETTE if c != "#F0E442")


def reading_map():
    """The chapters as boxes, one row per part in reading order, with an arrow from each
    chapter to every chapter that builds on it. Returns ``(fig, ax)``."""
    parts = _parts()
    fig, ax = figure(width=8.0, height=0.8 * len(parts) + 1.2)
    boxes, rows, places = {}, {}, {}
    for row, part in enumerate(parts):
        members = [c for c in course.CHAPTERS if c.part == part]
        ax.text(-5.6, -row, part, ha="left", va="center", fontsize=8, color="0.35")
        for k, chapter in enumerate(members):
            colour = _COLOURS[row % len(_COLOURS)]
            boxes[chapter.stem] = ax.text(
                (k - (len(members) - 1) / 2) * 2.7 + 0.6, -row,
                f"{course.number(chapter.stem)}. {chapter.short}", ha="center",
                va="center", fontsize=8.5, zorder=3,
                bbox={"boxstyle": "round,pad=0.35", "facecolor": "white",
                      "edgecolor": colour, "linewidth": 1.6})
            rows[chapter.stem], places[chapter.stem] = row, k
    for chapter in course.CHAPTERS:
        for need in chapter.needs:
            source, target = boxes[need], boxes[chapter.stem]
            if rows[need] == rows[chapter.stem]:
                if abs(places[need] - places[chapter.stem]) == 1:  # neighbours: edge to edge
                    start, end, bend = (1, 0.5), (0, 0.5), 0.0
                else:  # over the boxes between them
                    start, end, bend = (0.5, 1), (0.5, 1), -0.3
            else:  # down the page: bottom to top, bowed to the side it goes
                start, end = (0.5, 0), (0.5, 1)
                bend = 0.15 if source.get_position()[0] <= target.get_position()[0] else -0.15
            ax.annotate("", xy=end, xycoords=target, xytext=start, textcoords=source,
                        arrowprops={"arrowstyle": "-|>", "color": "0.5", "lw": 1.0,
                                    "shrinkA": 4, "shrinkB": 4,
                                    "connectionstyle": f"arc3,rad={bend}"}, zorder=2)
    ax.set_xlim(-5.7, 5.0)
    ax.set_ylim(-len(parts) + 0.5, 0.6)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    label(ax, "Reading map: an arrow points from a chapter to one that builds on it",
          "chapters of a part, side by side", "parts of the book, in reading order")
    return fig, ax


def decision_map(entries=None):
    """The decision guide as a grid: one row per task, one column per chapter; a dot where
    the chapter derives losses for the task (its area: how many), a ring where the chapter's
    experiment shows the trade-off. Returns ``(fig, ax)``."""
    from lossbook import catalog

    entries = catalog.entries() if entries is None else entries
    rows, chapters = course.GUIDE, course.CHAPTERS
    fig, ax = figure(width=8.0, height=0.32 * len(rows) + 2.6)
    column = {c.stem: i for i, c in enumerate(chapters)}
    for y, row in enumerate(rows):
        found = course.losses(row, entries)
        for stem in dict.fromkeys(e.chapter for e in found):
            if stem in column:
                count = sum(e.chapter == stem for e in found)
                ax.scatter(column[stem], y, s=22 * count + 14, color=PALETTE[0], zorder=3)
        experiment = row.experiment.partition("#")[0]
        ax.scatter(column[experiment], y, s=260, facecolors="none", edgecolors=PALETTE[1],
                   linewidths=1.6, zorder=4)
    ax.scatter([], [], s=58, color=PALETTE[0], label="losses derived here (area: how many)")
    ax.scatter([], [], s=160, facecolors="none", edgecolors=PALETTE[1], linewidths=1.6,
               label="experiment showing the trade-off")
    ax.set_yticks(range(len(rows)),
                  [f"{row.task}  →  {row.start}" for row in rows], fontsize=8)
    ax.set_xticks(range(len(chapters)),
                  [f"{i + 1}. {c.short}" for i, c in enumerate(chapters)], rotation=90,
                  fontsize=8)
    ax.set_xlim(-0.6, len(chapters) - 0.4)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    label(ax, "Which loss should I use?",
          "chapter", "task  →  the loss to try first", legend=False)
    fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    return fig, ax


__all__ = ["decision_map", "plt", "reading_map"]
