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
    the catalog's properties (convex, bounded, robust) are stated in. (For a penalty on a
    critic it is the critic, a :class:`lossbook._samples.Critic` whose weight — its input
    gradient, up to a small curvature — is the prediction; for :func:`lossbook.style_loss`
    a mapping of one layer's feature maps.)

    ``domain`` names the prediction's natural domain — ``"real"``, ``"nonnegative"``,
    ``"unit"`` (each entry in [0, 1]), ``"simplex"`` (rows that are distributions),
    ``"log_simplex"`` (rows of log-probabilities) or ``"boxes"`` (``x1 <= x2``,
    ``y1 <= y2``) — and ``moving`` the positions in ``args`` that share it (a target of the
    same kind as the prediction): the property tests move those to the domain's edges.
    """

    args: tuple
    kwargs: dict = {}
    domain: str = "real"
    moving: tuple = (0,)


class Depends(NamedTuple):
    """Why a property is ``None``: the keyword arguments under which it ``holds`` and those
    under which it ``fails`` (e.g. ``Depends("convex", holds={"p": 2.0}, fails={"p": 0.5})``).
    The property tests check both behaviours."""

    property: str
    holds: dict
    fails: dict


@dataclass(frozen=True)
class Entry:
    r"""One loss: the function, where the book explains it, and what a reader should know.

    ``reference`` is the dotted name of an independent implementation
    (``"torch.nn.functional.cross_entropy"``, ``"torchvision.ops.sigmoid_focal_loss"``,
    ``"scipy.spatial.distance.jensenshannon"``) or ``None`` when nobody ships it.
    ``chapter`` is a notebook's file stem in ``chapters/``.

    **The three properties** are claims about the loss as a function of its prediction
    (``args[0]`` of :attr:`inputs`, see :class:`Sample`), with the other arguments fixed at
    valid values; ``tests/test_catalog_properties.py`` checks each one numerically for every
    entry, so each value is a claim the tests hold:

    * **convex** — the loss is convex in the prediction (logits, scores, probabilities, ...)
      on the prediction's natural domain: $f(\tfrac12(x + x')) \le \tfrac12(f(x) + f(x'))$
      for every pair of valid predictions. Tested by midpoint convexity along random lines
      at several scales; ``False`` needs a violating pair.
    * **bounded** — the loss has a finite supremum over its valid inputs (the formula, before
      any numerical clamp such as torch's ``log`` clamp at -100). Tested by pushing the
      prediction (and a target of the same kind) to the domain's edges — to $\pm\infty$, to
      the corners of $[0, 1]^n$ or of the simplex, to $\log 0$ — and seeing whether the loss
      converges or grows without limit.
    * **robust** — bounded influence: the derivative of the loss in the prediction (the
      residual, the logit) stays bounded as the error grows, along the same paths to the
      domain's edges. A bounded loss can fail it (the Jensen-Shannon divergence's derivative
      in $p_i$ is $\tfrac12 \log(2 p_i / (p_i + q_i)) \to -\infty$ as $p_i \to 0$) and an
      unbounded one can hold it (the hinge loss grows linearly with slope 1).

    ``None`` means the answer depends on a hyper-parameter; then :attr:`depends` holds a
    :class:`Depends` giving keyword arguments for which the property holds and fails, and
    the tests check both.

    ``inputs(generator, dtype, device, *, batch=4, realistic=False)`` makes a valid
    :class:`Sample` for the loss, drawn from the CPU ``generator`` in float64 and then
    converted to ``dtype`` and moved to ``device``: ``batch=0`` gives empty inputs,
    ``realistic=True`` the scales of real use (see :mod:`lossbook._samples`). The generic
    tests call it, so a catalogued loss is tested in value, gradient, dtype, device, NaN and
    infinity propagation, empty inputs, half precision and its three properties without
    further code.
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
    inputs: Callable[..., Sample]
    depends: tuple[Depends, ...] = ()

    @property
    def name(self) -> str:
        return self.function.__name__

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
