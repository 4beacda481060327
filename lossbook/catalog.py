"""The registry of every loss in lossbook: one :class:`Entry` per loss.

Each family module ends with a ``CATALOG`` tuple of entries; :func:`entries` collects them
from every ``lossbook`` submodule, so adding a module adds its losses here without editing
this file. The tests parametrize over the catalog, the loss-zoo appendix is generated from it,
and the graders look references up in it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple


class Sample(NamedTuple):
    """Inputs for one call of a catalogued loss: ``function(*args, **kwargs)``.

    ``args[0]`` is the prediction (logits, probabilities, boxes, embeddings, ...): the tensor
    the catalog's properties (convex, bounded, robust) are stated in.
    """

    args: tuple
    kwargs: dict = {}


@dataclass(frozen=True)
class Entry:
    """One loss: the function, where the book explains it, and what a reader should know.

    ``reference`` is the dotted name of an independent implementation
    (``"torch.nn.functional.cross_entropy"``, ``"torchvision.ops.sigmoid_focal_loss"``,
    ``"scipy.spatial.distance.jensenshannon"``) or ``None`` when nobody ships it.
    ``chapter`` is a notebook's file stem in ``chapters/``. The three properties say whether
    the loss is convex in its prediction, bounded above, and robust to outliers (``None`` when
    the answer depends on a hyper-parameter).

    ``inputs(generator, dtype, device)`` makes a small valid :class:`Sample` for the loss,
    drawn from the CPU ``generator`` and then moved to ``device``; the generic tests call it,
    so a catalogued loss is tested in value, gradient, dtype and device without further code.
    """

    function: Callable
    chapter: str
    task: str
    summary: str
    reference: str | None
    input_kind: str
    convex: bool | None
    bounded: bool | None
    robust: bool | None
    inputs: Callable[..., Sample] | None = None

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def qualified_name(self) -> str:
        return f"{self.function.__module__}.{self.name}"

    def reference_callable(self) -> Callable | None:
        """The reference implementation, or ``None`` if absent or not importable here."""
        if self.reference is None:
            return None
        module_name, _, attribute = self.reference.rpartition(".")
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError):
            return None


def entries() -> list[Entry]:
    """Every catalogued loss, ordered by chapter and then by position in its module."""
    import lossbook

    found: list[Entry] = []
    for info in pkgutil.iter_modules(lossbook.__path__):
        if info.name.startswith("_") or info.ispkg:  # packages (plot, grading, data) hold no
            continue  # losses, and importing them would load matplotlib and the graders
        module = importlib.import_module(f"lossbook.{info.name}")
        found.extend(getattr(module, "CATALOG", ()))
    return sorted(found, key=lambda e: e.chapter)  # sort is stable: module order kept


def find(name: str) -> Entry:
    """The entry for the loss called ``name`` (e.g. ``"cross_entropy"``)."""
    for entry in entries():
        if entry.name == name:
            return entry
    raise KeyError(f"name: no catalogued loss called {name!r}")


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "depends"}[value]


class ZooTable:
    """The loss zoo as a Markdown table; its plain-text form is the same Markdown.

    Displayed in a notebook it renders as a table; nbval compares the text, so the stored
    table can never drift from the catalog.
    """

    COLUMNS = ("loss", "task", "formula", "input", "reference", "chapter",
               "convex", "bounded", "robust")

    def __init__(self, catalog_entries: list[Entry], titles: dict[str, str]):
        rows = [" | ".join(self.COLUMNS), " | ".join("---" for _ in self.COLUMNS)]
        for e in catalog_entries:
            chapter = f"[{titles.get(e.chapter, e.chapter)}]({e.chapter}.ipynb)"
            reference = f"`{e.reference}`" if e.reference else "—"
            rows.append(" | ".join([
                f"`lossbook.{e.name}`", e.task, e.summary, e.input_kind, reference, chapter,
                _yes_no(e.convex), _yes_no(e.bounded), _yes_no(e.robust),
            ]))
        self.text = "\n".join(f"| {row} |" for row in rows) + "\n"

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def chapter_titles(directory) -> dict[str, str]:
    """``{stem: title}`` for the notebooks in ``directory``, from each one's first heading."""
    import json
    from pathlib import Path

    titles = {}
    for path in sorted(Path(directory).glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for cell in cells:
            source = "".join(cell["source"])
            if cell["cell_type"] == "markdown" and source.startswith("# "):
                titles[path.stem] = source.splitlines()[0][2:].strip()
                break
    return titles


def zoo(titles: dict[str, str] | None = None) -> ZooTable:
    """Every catalogued loss as one table (``titles`` maps chapter stems to titles)."""
    return ZooTable(entries(), titles or {})
