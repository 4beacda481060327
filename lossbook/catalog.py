"""The registry of every loss in lossbook: one :class:`Entry` per loss.

Each family module ends with a ``CATALOG`` tuple of entries; :func:`entries` collects them
from every ``lossbook`` submodule, so adding a module adds its losses here without editing
this file. The tests parametrize over the catalog, the loss-zoo appendix is generated from it,
and the graders look references up in it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
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

    ``section`` is the anchor of the section of the chapter that derives the loss, for the
    loss zoo's link; left empty, the zoo links to the section that shows the function's
    source, or else the first that mentions it (found by ``scripts/notebooks.py sync``,
    stored in :mod:`lossbook._chapters`).
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
    section: str = ""

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


#: The property columns' marks; ``None`` (it depends on a hyper-parameter) is explained under
#: the table by the entry's :class:`Depends`.
MARKS = {True: "✓", False: "✗", None: "~"}
PROPERTIES = ("convex", "bounded", "robust")
#: Where ``tests/test_catalog_properties.py`` checks each property (its witness function).
PROPERTY_TESTS = {"convex": "convexity_violation", "bounded": "unbounded_path",
                  "robust": "unbounded_slope"}
#: Reference modules written short in the zoo (the legend spells them out).
SHORT_MODULES = {"torch.nn.functional.": "F."}


class MarkdownText(str):
    """A string that a notebook displays as Markdown (nbval compares the same text)."""

    def _repr_markdown_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return str(self)


def property_definitions() -> MarkdownText:
    """The definitions of the three properties, as Markdown, from :class:`Entry`'s docstring:
    the page shows the text the tests are written against, not a paraphrase of it."""
    doc = Entry.__doc__ or ""
    bullets = re.findall(r"^    \* (\*\*(?:convex|bounded|robust)\*\*.*?)(?=^    \* |^\s*$)",
                         doc, flags=re.MULTILINE | re.DOTALL)
    if [re.match(r"\*\*(\w+)\*\*", b).group(1) for b in bullets] != list(PROPERTIES):
        raise ValueError("Entry's docstring: expected one bullet per property, in order")
    items = []
    for name, bullet in zip(PROPERTIES, bullets):
        text = " ".join(line.strip() for line in bullet.splitlines())
        text = text.replace("``", "`")
        test = f"`tests/test_catalog_properties.py` (`{PROPERTY_TESTS[name]}`)"
        items.append(f"* {text} Checked for every entry by {test}.")
    return MarkdownText("\n".join(items) + "\n")


def section(entry: Entry) -> str:
    """The anchor of the section that derives ``entry`` in its chapter ("" if unknown)."""
    from lossbook import _chapters

    return entry.section or _chapters.SECTIONS.get(entry.name, "")


def titles() -> dict[str, str]:
    """``{stem: title}`` of every chapter, as stored in the package (:mod:`lossbook._chapters`,
    written from the notebooks by ``scripts/notebooks.py sync``)."""
    from lossbook import _chapters

    return dict(_chapters.TITLES)


def book_url() -> str:
    """The address of the published book (from ``_config.yml``, stored in the package)."""
    from lossbook import _chapters

    return _chapters.BOOK_URL


def link(stem: str, anchor: str = "", published: bool = False) -> str:
    """The link to a chapter (and a section of it): relative inside the book (``anchor`` is
    MyST's), absolute to the published book elsewhere (``anchor`` is then the page's id)."""
    fragment = f"#{anchor}" if anchor else ""
    if published:
        return f"{book_url()}chapters/{stem}.html{fragment}"
    return f"{stem}.ipynb{fragment}"


def page_id(entry: Entry) -> str:
    """The id of the section that derives ``entry`` in the published HTML page."""
    from lossbook import _chapters

    return _chapters.PAGE_IDS.get(entry.name, "")


def _depends_note(entry: Entry) -> str:
    def kwargs(values: dict) -> str:  # a function by its name: its repr has an address
        return ", ".join(f"`{k}={getattr(v, '__name__', None) or repr(v)}`"
                         for k, v in values.items())

    return "; ".join(f"{d.property} with {kwargs(d.holds)}, not with {kwargs(d.fails)}"
                     for d in entry.depends)


class ZooTable:
    """The loss zoo as Markdown: one table per chapter, under the chapter's title linked to
    the chapter; each loss links to the section that derives it. Its plain-text form is the
    same Markdown.

    Displayed in a notebook it renders as tables; nbval compares the text, so the stored
    tables can never drift from the catalog. ``published=True`` links to the published book
    (for a notebook run outside the book, on Colab) and says so above the tables.
    """

    #: two facts per cell (``<br>``: Jupyter and the book both render it), so that the
    #: table fits the book's column at a 1400-px window
    COLUMNS = ("loss, reference", "formula, input", "C", "B", "R")

    def __init__(self, catalog_entries: list[Entry], chapter_titles: dict[str, str],
                 published: bool = False):
        lines = []
        if published:
            lines += [f"*The chapters are not next to this notebook: the links go to the "
                      f"published book at <{book_url()}>.*", ""]
        short = ", ".join(f"`{s[:-1]}` is `{long[:-1]}`" for long, s in SHORT_MODULES.items())
        lines += ["Each loss links to the section that derives it; under it, the independent "
                  "implementation the tests compare it with (— where none exists; "
                  f"{short}). Under each formula, what the loss takes as prediction. "
                  "**C** convex, **B** bounded, **R** robust: ✓ the property holds, ✗ it "
                  "does not, ~ it depends on a hyper-parameter (the values tested are named "
                  "under the table).", ""]
        chapters: dict[str, list[Entry]] = {}
        for e in catalog_entries:
            chapters.setdefault(e.chapter, []).append(e)
        for stem, group in chapters.items():
            title = chapter_titles.get(stem, stem)
            count = f"{len(group)} loss{'es' if len(group) > 1 else ''}"
            lines += [f"**[{title}]({link(stem, published=published)})** ({count})", ""]
            lines.append("| " + " | ".join(self.COLUMNS) + " |")
            lines.append("| " + " | ".join(
                "---" if "," in c else ":-:" for c in self.COLUMNS) + " |")
            for e in group:
                lines.append("| " + " | ".join([
                    f"[`{e.name}`]({self._link(e, published)})<br>"
                    f"{self._reference(e.reference)}",
                    f"{e.summary}<br>*{e.input_kind}*",
                    *(MARKS[getattr(e, p)] for p in PROPERTIES)]) + " |")
            notes = [f"`{e.name}`: {_depends_note(e)}" for e in group if e.depends]
            lines += [""] + ([f"~ {note}." for note in notes] + [""] if notes else [])
        self.text = "\n".join(lines)

    @staticmethod
    def _link(entry: Entry, published: bool) -> str:
        return link(entry.chapter, page_id(entry) if published else section(entry), published)

    @staticmethod
    def _reference(reference: str | None) -> str:
        if reference is None:
            return "—"
        for long, short in SHORT_MODULES.items():
            if reference.startswith(long):
                reference = short + reference[len(long):]
        return f"`{reference}`"

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def chapter_titles(directory=None) -> dict[str, str]:
    """``{stem: title}`` for the notebooks in ``directory``, from each one's first heading;
    the titles stored in the package when ``directory`` is ``None`` or holds no chapter
    (a notebook run on Colab)."""
    import json
    from pathlib import Path

    if directory is None:
        return titles()
    found = {}
    for path in sorted(Path(directory).glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for cell in cells:
            source = "".join(cell["source"])
            if cell["cell_type"] == "markdown" and source.startswith("# "):
                found[path.stem] = source.splitlines()[0][2:].strip()
                break
    return found or titles()


def in_book(directory=".") -> bool:
    """Whether the chapters are in ``directory`` (a notebook run inside the book's
    repository), so that relative links between them work."""
    from pathlib import Path

    return all((Path(directory) / f"{stem}.ipynb").exists() for stem in titles())


def zoo(published: bool | None = None) -> ZooTable:
    """Every catalogued loss, one table per chapter. Links are relative when the chapters are
    in the working directory (inside the book) and go to the published book otherwise; pass
    ``published`` to choose."""
    if published is None:
        published = not in_book()
    return ZooTable(entries(), titles(), published=published)
