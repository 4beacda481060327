"""Where the book discusses what: chapter titles and the section of a chapter that first
discusses a name, read from the notebooks' cells (plain JSON; no torch, no nbformat).

``scripts/notebooks.py sync`` runs :func:`chapter_index` over ``chapters/*.ipynb`` and stores
the result in :mod:`lossbook._chapters`, which the loss zoo reads: on Colab the chapters are
not there to read.
"""

from __future__ import annotations

import re
import unicodedata

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
#: Sections that repeat what the chapter derived: a name is linked there only if the chapter
#: mentions it nowhere else.
RECAPS = ("summary", "exercises", "further reading", "references")
#: The deepest heading level with an anchor (``myst_heading_anchors`` in ``_config.yml``).
ANCHORED = 3


def slug(heading: str) -> str:
    """The anchor of a Markdown heading in the book, as MyST writes it (``myst_heading_anchors``):
    the heading's text and inline code without its math, lower-cased, spaces to hyphens, every
    character that is not a letter, digit, ``_`` or ``-`` dropped (``"PyTorch's $L_1$ loss"``
    -> ``"pytorchs--loss"``)."""
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", heading)  # math is not part of the slug
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link: its text
    return re.sub(r"[^\w\u4e00-\u9fff\- ]", "", text.lower().replace(" ", "-"))


def page_id(heading: str) -> str:
    """The ``id`` of a heading's section in the built HTML page, as docutils makes it
    (``docutils.nodes.make_id`` of the heading's text, math included): the fragment a link
    from outside the book needs, since MyST's anchors (:func:`slug`) exist only inside it."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    text = unicodedata.normalize("NFKD", text.replace("ß", "sz")).encode("ascii", "ignore")
    text = re.sub(r"[^a-z0-9]+", "-", " ".join(text.decode("ascii").split()))
    return re.sub(r"^[-0-9]+|-+$", "", text)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def chapter_index(notebooks: dict[str, list[dict]], names: list[str]
                  ) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """``(titles, sections)`` for ``{stem: cells}``: each chapter's title (its first ``# ``
    heading) and, for every name in ``names`` the chapter mentions below its first ``##``
    heading, the anchor of the section where it does so first.

    In Markdown only code counts (`` `lossbook.hamming` `` or a fenced block, not the word
    "Hamming").
    The section that shows the function's code (``show_source(lossbook.name)``) is where the
    chapter derives it and wins; otherwise the first mention does. A mention in a recap
    section (:data:`RECAPS`) counts only when there is no other.
    """
    titles: dict[str, str] = {}
    sections: dict[str, dict[str, str]] = {}
    words = {name: re.compile(rf"(?<![\w.]){re.escape(name)}\b|\.{re.escape(name)}\b")
             for name in names}
    for stem, cells in notebooks.items():
        current = None  # (anchor, is_recap) of the section being read; None above the first ##
        seen: dict[str, list[tuple[int, str]]] = {}  # name -> (rank, anchor) of its mentions
        anchors: set[str] = set()
        for cell in cells:
            kind = cell.get("cell_type")
            if kind not in ("markdown", "code"):
                continue
            text = _source(cell)
            # Markdown is read line by line: a heading starts a section in the middle of a cell
            chunks = text.splitlines() if kind == "markdown" else [text]
            fences: list[bool] = []  # open fences, True for code (a "#" there is a comment)
            for chunk in chunks:
                fence = re.match(r"\s*(```+|~~~+)(.*)$", chunk) if kind == "markdown" else None
                if fence:
                    if fence.group(2).strip() or not fences:
                        fences.append(not fence.group(2).strip().startswith("{"))
                    else:
                        fences.pop()
                in_code = any(fences)
                heading = HEADING.match(chunk) if kind == "markdown" and not in_code else None
                if heading:
                    level, title = len(heading.group(1)), heading.group(2)
                    if level > ANCHORED:
                        continue  # no anchor: its text belongs to the section above
                    anchor, number = slug(title), 0
                    while anchor in anchors:  # MyST numbers repeated headings
                        number += 1
                        anchor = f"{slug(title)}-{number}"
                    anchors.add(anchor)
                    if level == 1:
                        titles.setdefault(stem, title)
                    else:
                        current = (anchor, title.strip().lower() in RECAPS)
                    continue
                if current is None:
                    continue
                if kind == "markdown" and not in_code:  # prose names code: `lossbook.hamming`
                    chunk = " ".join(re.findall(r"`([^`]+)`", chunk))
                for name, pattern in words.items():
                    if pattern.search(chunk):
                        shown = kind == "code" and re.search(
                            rf"show_source\([\w.]*\b{re.escape(name)}\)", chunk)
                        rank = 2 * current[1] + (not shown)
                        seen.setdefault(name, []).append((rank, current[0]))
        found = {name: min(seen[name], key=lambda m: m[0])[1] for name in names if name in seen}
        if found:
            sections[stem] = found
    return titles, sections


def page_ids(cells: list[dict]) -> dict[str, str]:
    """``{anchor: page id}`` for the anchored headings of one notebook (see :func:`page_id`)."""
    found: dict[str, str] = {}
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                heading = HEADING.match(line)
                if heading and len(heading.group(1)) <= ANCHORED:
                    found.setdefault(slug(heading.group(2)), page_id(heading.group(2)))
    return found
