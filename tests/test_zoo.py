"""The loss zoo (chapter A3): its tables, its links to chapter sections, the property
definitions it prints, and the chapter index stored in the package (lossbook/_chapters.py)
that lets it work outside the book's repository."""

import json
import re
from pathlib import Path

import pytest

from lossbook import _chapters, catalog
from lossbook._index import chapter_index, page_id, page_ids, slug
from scripts import notebooks

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
ENTRIES = catalog.entries()


def cells(*sources):
    """Hand-made notebook cells: ``("md", text)`` or ``("code", text)``."""
    return [{"cell_type": "markdown" if kind == "md" else "code", "source": text}
            for kind, text in sources]


def headings(stem: str) -> set[str]:
    found = set()
    for cell in json.loads((CHAPTERS / f"{stem}.ipynb").read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            found |= {slug(m) for m in re.findall(r"^#{2,6} (.+)$", "".join(cell["source"]),
                                                  flags=re.MULTILINE)}
    return found


# ------------------------------------------------------------------ the stored chapter index
def test_stored_chapter_index_is_current():
    stored = (ROOT / "lossbook" / "_chapters.py").read_text()
    assert stored == notebooks.chapters_module_source(), (
        "lossbook/_chapters.py is out of date with the chapters or the catalog: run "
        "`make sync-notebooks` (or `make execute` of any chapter) and commit it")


def test_stored_titles_are_the_notebooks_first_headings():
    # the reading of the notebooks that the stored titles replace on Colab
    assert _chapters.TITLES == catalog.chapter_titles(CHAPTERS)
    assert _chapters.TITLES["A3_loss_zoo"] == "The loss zoo"


def test_titles_fall_back_to_the_stored_ones_where_there_are_no_chapters(tmp_path):
    assert catalog.chapter_titles(tmp_path) == _chapters.TITLES
    assert catalog.chapter_titles() == _chapters.TITLES
    assert not catalog.in_book(tmp_path) and catalog.in_book(CHAPTERS)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_loss_links_to_a_section_of_its_chapter_that_mentions_it(entry):
    anchor = catalog.section(entry)
    assert anchor, f"{entry.name}: {entry.chapter} never mentions it under a ## heading"
    assert anchor in headings(entry.chapter), f"{entry.name}: no section #{anchor}"


def test_book_url_is_the_github_pages_address_of_the_repository(monkeypatch):
    assert _chapters.BOOK_URL == notebooks.book_url()
    monkeypatch.setattr(notebooks, "repository_url", lambda: "https://github.com/Some-Org/a.b")
    assert notebooks.book_url() == "https://some-org.github.io/a.b/"
    monkeypatch.setattr(notebooks, "repository_url", lambda: "https://gitlab.com/x/y")
    with pytest.raises(ValueError, match="baseurl"):
        notebooks.book_url()


# ------------------------------------------------------------------ finding a loss's section
@pytest.mark.parametrize("heading", [
    "PyTorch's cross-entropy losses, taken apart", "15. At inference BN uses (000)",
    "Why does it help? The internal-covariate-shift debate", "Focal loss: α and γ",
    "SimCLR's NT-Xent: two views, $2N - 2$ negatives", "`nn.L1Loss` and **MSE**",
    "Chunking: the gradient is $\\hat y - y$, one chunk at a time", "[Links](x.ipynb) too",
])
def test_slug_is_the_anchor_myst_writes(heading):
    base = pytest.importorskip("myst_parser.mdit_to_docutils.base")
    from markdown_it import MarkdownIt
    from markdown_it.tree import SyntaxTreeNode
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    tree = SyntaxTreeNode(MarkdownIt("commonmark").use(dollarmath_plugin).parse("## " + heading))
    assert slug(heading) == base.compute_unique_slug(tree.children[0], set())


@pytest.mark.parametrize("heading", [
    "PyTorch's cross-entropy losses, taken apart", "15. At inference BN uses (000)",
    "SimCLR's NT-Xent: two views, $2N - 2$ negatives", "Focal loss: α and γ",
    "Chunking: the gradient is $\\hat y - y$, one chunk at a time", "`nn.L1Loss` and MSE",
])
def test_page_id_is_the_id_docutils_gives_the_section(heading):
    nodes = pytest.importorskip("docutils.nodes")
    text = heading.replace("$", "").replace("`", "")  # the heading's text as docutils reads it
    assert page_id(heading) == nodes.make_id(text)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_the_published_link_has_the_sections_page_id(entry):
    cells_ = json.loads((CHAPTERS / f"{entry.chapter}.ipynb").read_text())["cells"]
    assert _chapters.PAGE_IDS[entry.name] == page_ids(cells_)[catalog.section(entry)]


def test_repeated_headings_are_numbered_and_deep_ones_have_no_anchor():
    _, sections = chapter_index({"ch": cells(
        ("md", "# T\n## Example\n## Example\n#### Detail\n`cross_entropy`"))},
        ["cross_entropy"])
    assert sections["ch"]["cross_entropy"] == "example-1"


def test_section_is_where_the_source_is_shown_else_the_first_mention():
    notebook = cells(
        ("md", "# Title\n\nIntro naming `focal_loss` before any section."),
        ("code", "from lossbook import focal_loss, hinge_loss"),
        ("md", "## Set-up\n\nThe Hamming distance, `F.hinge_embedding_loss`."),
        ("code", "focal_loss(x, y)  # used before it is derived"),
        ("md", "## Focal loss\n\nIt down-weights easy examples.\n\n### Its gradient"),
        ("code", "show_source(lossbook.focal_loss)"),
        ("md", "```python\n# not a heading\nhinge_loss\n```"),
        ("md", "## Exercises\n\nUse `cross_entropy`; hamming."),
        ("code", "cross_entropy(x, y)"),
    )
    names = ["focal_loss", "hinge_loss", "cross_entropy", "hamming", "absent_loss"]
    titles, sections = chapter_index({"ch": notebook}, names)
    assert titles == {"ch": "Title"}
    assert sections["ch"]["focal_loss"] == "its-gradient"  # where its source is shown
    assert sections["ch"]["hinge_loss"] == "its-gradient"  # the fenced "#" is no heading
    assert sections["ch"]["cross_entropy"] == "exercises"  # a recap only when nothing else
    assert "hamming" not in sections["ch"]  # a word of prose is no mention
    assert "absent_loss" not in sections["ch"]
    _, sections = chapter_index({"ch": notebook[:5]}, names)
    assert sections["ch"]["focal_loss"] == "set-up"  # no source shown: the first mention


def test_a_name_inside_a_longer_name_is_no_mention():
    _, sections = chapter_index({"ch": cells(
        ("md", "# T\n## A\n`binary_cross_entropy` and `cross_entropy_v2`"),
        ("md", "## B\n`F.cross_entropy`"))}, ["cross_entropy"])
    assert sections["ch"]["cross_entropy"] == "b"


# ------------------------------------------------------------------ the tables
def test_zoo_has_one_table_per_chapter_with_every_loss_once():
    text = catalog.zoo(published=False).text
    chapters = list(dict.fromkeys(e.chapter for e in ENTRIES))
    headers = re.findall(r"^\*\*\[(.+?)\]\((\S+?)\)\*\* \((\d+) loss(?:es)?\)$", text,
                         flags=re.MULTILINE)
    assert [h[1] for h in headers] == [f"{stem}.ipynb" for stem in chapters]
    assert [h[0] for h in headers] == [_chapters.TITLES[stem] for stem in chapters]
    assert sum(int(h[2]) for h in headers) == len(ENTRIES)
    rows = re.findall(r"^\| \[`(\w+)`\]\((\S+?)\)<br>", text, flags=re.MULTILINE)
    assert [name for name, _ in rows] == [e.name for e in ENTRIES]
    for (_, target), entry in zip(rows, ENTRIES):
        assert target == f"{entry.chapter}.ipynb#{catalog.section(entry)}"
    for line in text.splitlines():
        if line.startswith("| ["):
            assert line.count(" | ") == len(catalog.ZooTable.COLUMNS) - 1, line


def test_property_columns_mark_the_catalog_values_and_name_the_tested_cases():
    text = catalog.zoo(published=False).text
    for entry in ENTRIES:
        row = next(line for line in text.splitlines() if line.startswith(f"| [`{entry.name}`]"))
        marks = [cell.strip() for cell in row.strip("|").split(" | ")][-3:]
        assert marks == [catalog.MARKS[getattr(entry, p)] for p in catalog.PROPERTIES]
        for depends in entry.depends:
            holds = ", ".join(f"`{k}={getattr(v, '__name__', None) or repr(v)}`"
                              for k, v in depends.holds.items())
            assert f"{depends.property} with {holds}" in text
    assert " at 0x" not in text  # no repr that changes from run to run
    assert "<br>`F.cross_entropy`" in text and "`F` is `torch.nn.functional`" in text


def test_outside_the_book_the_zoo_links_to_the_published_book_and_says_so():
    text = catalog.zoo(published=True).text
    assert text.startswith("*The chapters are not next to this notebook")
    assert _chapters.BOOK_URL in text and ".ipynb" not in text
    entry = catalog.find("cross_entropy")
    assert (f"({_chapters.BOOK_URL}chapters/{entry.chapter}.html#"
            f"{_chapters.PAGE_IDS['cross_entropy']})") in text


def test_zoo_chooses_relative_links_only_next_to_the_chapters(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert catalog.zoo().text.startswith("*The chapters are not next to this notebook")
    monkeypatch.chdir(CHAPTERS)
    assert not catalog.zoo().text.startswith("*")


def test_definitions_on_the_page_are_the_catalogs_docstring():
    text = catalog.property_definitions()
    assert text._repr_markdown_() == text
    doc = " ".join(catalog.Entry.__doc__.split()).replace("``", "`")
    bullets = text.splitlines()
    assert [b[:14] for b in bullets] == ["* **convex** —", "* **bounded** ", "* **robust** —"]
    for bullet, test in zip(bullets, catalog.PROPERTY_TESTS.values()):
        definition, _, checked = bullet[2:].partition(" Checked for every entry by ")
        assert definition in doc
        assert f"`{test}`" in checked
        assert f"def {test}(" in (ROOT / "tests" / "test_catalog_properties.py").read_text()
