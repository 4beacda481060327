"""lossbook.course: the reading map follows _toc.yml, the decision guide covers every
catalogued loss, and the preface's routes point at chapters and exercises that exist."""

import json
import re
from pathlib import Path

import matplotlib
import pytest
import yaml

from lossbook import catalog, course

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = catalog.entries()


def numbered_chapters() -> list[tuple[str, str]]:
    """(stem, part caption) of every chapter in a numbered part of _toc.yml, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [(entry["file"].removeprefix("chapters/"), part["caption"])
            for part in toc["parts"] if part.get("numbered")
            for entry in part["chapters"]]


def test_the_map_has_every_numbered_chapter_in_order_and_in_its_part():
    listed = [(c.stem, c.part) for c in course.CHAPTERS]
    assert listed == numbered_chapters(), (
        "lossbook.course.CHAPTERS must list _toc.yml's numbered chapters, in order, with "
        "their parts: add the new chapter there, with the chapters it builds on")


def test_a_chapter_builds_only_on_earlier_chapters():
    stems = [c.stem for c in course.CHAPTERS]
    for index, chapter in enumerate(course.CHAPTERS):
        assert chapter.short and len(chapter.short) <= 28  # fits its box in the map
        for need in chapter.needs:
            assert need in stems[:index], f"{chapter.stem} needs {need}, not before it"
        assert index == 0 or chapter.needs, f"{chapter.stem}: what does it build on?"


def test_every_catalogued_loss_is_in_a_row_of_the_guide():
    orphans = [f"{e.name} ({e.task!r})" for e in ENTRIES if not course.rows_for(e)]
    assert not orphans, ("add a row to lossbook.course.GUIDE, or widen a row's tasks, for: "
                         + ", ".join(orphans))


def test_the_guide_answers_the_tasks_readers_ask_about():
    tasks = " / ".join(row.task.lower() for row in course.GUIDE)
    for asked in ("regression with outliers", "imbalanced classes", "noisy labels",
                  "detection boxes", "segmentation masks", "retrieval",
                  "sequences without alignment", "images", "generative models",
                  "comparing distributions"):
        assert asked in tasks


@pytest.mark.parametrize("row", course.GUIDE, ids=lambda r: r.task)
def test_each_row_starts_with_one_of_its_losses_and_links_an_existing_experiment(row):
    names = {e.name for e in ENTRIES}
    found = [e.name for e in course.losses(row, ENTRIES)]
    assert row.start in found
    assert set(row.extra) <= names
    assert row.tasks is None or any(row.matches(e) for e in ENTRIES)  # no dead pattern
    stem, _, anchor = row.experiment.partition("#")
    notebook = ROOT / "chapters" / f"{stem}.ipynb"
    assert notebook.exists() and course.chapter(stem)
    if anchor:
        headings = [line.lstrip("#").strip() for cell in json.loads(notebook.read_text())["cells"]
                    if cell["cell_type"] == "markdown"
                    for line in "".join(cell["source"]).splitlines() if line.startswith("#")]
        slugs = {re.sub(r"[^\w\- ]", "", h.lower()).strip().replace(" ", "-") for h in headings}
        assert anchor in slugs, f"{row.experiment}: no such section"


def test_the_table_has_a_row_per_task_with_chapter_links():
    lines = course.guide({"02_regression_losses": "Regression losses"}).text.splitlines()
    assert len(lines) == 2 + len(course.GUIDE)
    outliers = next(line for line in lines if line.startswith("| **Regression with outliers**"))
    assert "**`huber_loss`**, `l1_loss`" in outliers
    assert "[2. Regression losses](02_regression_losses.ipynb)" in outliers
    assert "`mse_loss`" not in outliers  # not robust: the other regression row


def test_the_figures_draw_a_box_per_chapter_and_a_ring_per_task():
    import matplotlib.pyplot as plt

    from lossbook.plot import course as maps

    fig, ax = maps.reading_map()
    boxes = [t for t in ax.texts if t.get_bbox_patch() is not None]
    assert [t.get_text() for t in boxes] == [
        f"{i}. {c.short}" for i, c in enumerate(course.CHAPTERS, start=1)]
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == sum(len(c.needs) for c in course.CHAPTERS)
    plt.close(fig)
    fig, ax = maps.decision_map(ENTRIES)
    assert len(ax.get_yticklabels()) == len(course.GUIDE)
    assert len(ax.get_xticklabels()) == len(course.CHAPTERS)
    plt.close(fig)


def test_the_prefaces_routes_point_at_chapters_and_exercises_that_exist():
    preface = json.loads((ROOT / "chapters" / "00_preface.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in preface["cells"] if c["cell_type"] == "markdown")
    labels = set()
    for path in (ROOT / "chapters").glob("*.ipynb"):
        labels |= set(re.findall(r":label: (ex-[\w-]+)", path.read_text()))
    referenced = re.findall(r"\{ref\}`[^`<]*<(ex-[\w-]+)>`", text)
    assert len(referenced) > 30 and set(referenced) <= labels
    for stem in re.findall(r"\{doc\}`([\w]+)`", text):
        assert list((ROOT / "chapters").glob(f"{stem}.*")), stem
    for route in ("one-week", "six-week", "twelve-week"):
        assert f"**A {route}" in text
