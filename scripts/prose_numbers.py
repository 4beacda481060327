"""Numbers in the chapters' prose that no code produced.

    python scripts/prose_numbers.py [NOTEBOOK ...]     (default: every chapter)

A number the book prints is asserted by nbval; a number written in Markdown is not, unless it
is *glued* from a code cell (myst-nb's ``glue``, shown with ``{glue:}`name```). This lists
every numeric literal in the Markdown cells that is neither glued nor allowed, with its context,
and exits non-zero when there is one; ``tests/test_prose_numbers.py`` runs it on every chapter.

What counts as a number that needs code: a decimal (``0.75``), an integer of two or more digits
(``45 frames``), a power of ten (``10^{-45}``, one token), or any number followed by ``%``,
``×`` or "times" (a ratio). Single-digit integers are almost always definitions (``p = 1``,
"two classes") and are not listed. Not listed either: sizes (``32 × 32``), a metric's cut-off
(``NDCG@10``), identifiers (an item, note, chapter, section, equation, step or figure number,
and the source notes' numbers 000–004), years in 1900–2099, numbers inside code spans, links,
citations, glue roles and directive options.

Allowed without glue (``tests/prose_numbers_allowed.yml``): definitions only — a constant the
text chooses (ε = 10⁻⁷), the inputs of a worked example, a hyper-parameter's value. Every
*result* (a ratio, a count, a threshold crossed, "after N frames") is glued.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ALLOWED_FILE = ROOT / "tests" / "prose_numbers_allowed.yml"

REMOVED = [
    re.compile(r"```.*?```", re.DOTALL),  # fenced blocks (directives' bodies stay: see below)
    re.compile(r"\{(?:glue|cite|doc|ref|numref|eq|term)[:\w]*\}`[^`]*`"),  # roles
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"`[^`]*`"),  # code spans
    re.compile(r"<!--.*?-->", re.DOTALL),  # comments
    re.compile(r"^\s*:[\w-]+:.*$", re.MULTILINE),  # directive options (:label: ...)
    re.compile(r"\\(?:label|tag|ref)\{[^}]*\}"),
]
DIRECTIVE_FENCE = re.compile(r"^(```+|:::+)\{[^}]+\}.*$|^(```+|:::+)\s*$",
                             re.MULTILINE)
# a ratio's suffix: "8 %", "3× slower", "20 times harder" — not a size such as "32 × 32"
NUMBER = re.compile(r"(?<![\w.\\@])(\d+(?:[.,]\d+)*(?:\^\{?[-−]?\d+\}?)?)"
                    r"(\s*%|\s*×(?!\s*\d)|\s+times\b|x\b)?")
SIZE_AFTER = re.compile(r"\s*(?:×|\\times)\s*\d")
SIZE_BEFORE = re.compile(r"(?:×|\\times)\s*$")
IDENTIFIER_BEFORE = re.compile(
    r"(?:items?|errat(?:um|a)|notes?|chapters?|ch\.|sections?|§|eq\.|equations?|steps?|"
    r"figures?|fig\.|tables?|appendix|version|v|cells?|lines?|#|no\.)\s*[\d,–\- and]*$",
    re.IGNORECASE)


def prose(markdown: str) -> str:
    """The Markdown with everything that is not prose (or math in prose) removed.

    Directive fences (```{exercise} ... ```) are unwrapped, not removed: their bodies are prose.
    """
    text = DIRECTIVE_FENCE.sub("", markdown)
    for pattern in REMOVED:
        text = pattern.sub(" ", text)
    return text


def numbers(markdown: str) -> list[tuple[str, str]]:
    """``(number, context)`` for every number in ``markdown`` that needs code behind it."""
    text = prose(markdown)
    found = []
    for match in NUMBER.finditer(text):
        token, suffix = match.group(1), match.group(2)
        integer = re.fullmatch(r"\d+", token) is not None  # 10^{-7} is one token, not 10
        if integer and len(token) == 1 and not suffix:
            continue
        if integer and len(token) == 4 and 1900 <= int(token) <= 2099:
            continue  # a year
        if re.fullmatch(r"0\d\d", token):
            continue  # a source note's number (000–004)
        after = text[match.end():match.end() + 12]
        before = text[max(0, match.start() - 10):match.start()]
        if SIZE_AFTER.match(after) or SIZE_BEFORE.search(before):
            continue  # a size, 32 × 32: the set-up, not a result
        if IDENTIFIER_BEFORE.search(text[max(0, match.start() - 24):match.start()]):
            continue
        context = text[max(0, match.start() - 30):match.end() + 20]
        found.append((token, " ".join(context.split())))
    return found


def allowed() -> dict[str, set[str]]:
    data = yaml.safe_load(ALLOWED_FILE.read_text()) if ALLOWED_FILE.exists() else {}
    data = data or {}
    shared = {str(n) for n in data.pop("every chapter", []) or []}
    return {stem: shared | {str(n) for n in (values or [])} for stem, values in data.items()} | {
        "": shared}


def unglued(path: Path) -> list[tuple[int, str, str]]:
    """``(cell index, number, context)`` for each unglued, unallowed number in ``path``."""
    permitted = allowed()
    ok = permitted.get(path.stem, permitted[""])
    cells = json.loads(path.read_text())["cells"]
    return [(index, token, context)
            for index, cell in enumerate(cells) if cell["cell_type"] == "markdown"
            for token, context in numbers("".join(cell["source"])) if token not in ok]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in argv] or sorted((ROOT / "chapters").glob("*.ipynb"))
    total = 0
    for path in paths:
        found = unglued(path)
        total += len(found)
        for index, token, context in found:
            print(f"{path.name}: cell {index}: {token!r} in …{context}…")
    print(f"{total} number(s) in prose without code behind them")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
