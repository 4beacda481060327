"""The student version (scripts/student.py): no solution survives — neither the exercise's code
nor lossbook's own implementation of it — every grader stays, and it runs; the instructor
version (the stored chapters) scores 100 % on every grader."""

import ast
import collections
import functools
import inspect
import re
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import lossbook
from scripts import student

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
WITH_EXERCISES = [p for p in CHAPTERS if student.has_exercises(nbformat.read(p, 4))]


def test_strip_solution_code_keeps_indentation_and_surroundings():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\n# after"
    assert student.strip_solution_code(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n# after"
    )
    with pytest.raises(ValueError, match="without"):
        student.strip_solution_code("### BEGIN SOLUTION\nx = 1")


def test_solution_blocks_go_whatever_their_fence_and_the_exercise_stays():
    text = ("```{exercise} Q\n:label: ex-q\nWhy?\n```\n\n"
            "```{solution} ex-q\n:class: dropdown\nBecause.\n```\n"
            "````{solution} ex-r\nA fenced block inside:\n```python\nx = 1\n```\n````\nafter")
    exercise = "```{exercise} Q\n:label: ex-q\nWhy?\n```\n\n"
    assert student.strip_solution_blocks(text) == exercise + "after"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_version_hides_every_solution_and_keeps_the_rest(path):
    original = nbformat.read(path, 4)
    converted = student.student_version(original)
    assert len(converted.cells) == len(original.cells)
    for before, after in zip(original.cells, converted.cells):
        assert "BEGIN SOLUTION" not in after.source
        assert "{solution}" not in after.source
        if student.is_solution_cell(before):
            assert "raise NotImplementedError()" in after.source
            assert after.outputs == [] and "hide-input" not in after.metadata.get("tags", [])
        elif student.is_grader_cell(before):
            assert after.source == before.source and after.outputs == []
        elif before.cell_type == "code" and "show_source" not in before.source:
            assert after == before  # narrative cells keep their code and stored outputs


# ------------------------------------------------------------------ no reference body

@functools.lru_cache(maxsize=1)
def _line_counts() -> collections.Counter:
    """How often each (stripped, comment-free) line occurs in lossbook's sources."""
    counts = collections.Counter()
    for path in Path(lossbook.__file__).parent.rglob("*.py"):
        counts.update(_bare(line) for line in path.read_text().splitlines())
    return counts


def _bare(line: str) -> str:
    return line.split("#")[0].strip()


def distinctive_lines(code, counts) -> list[str]:
    """The lines of a function's body (docstring left out) that occur nowhere else in
    lossbook: its own computation, not the argument checks it shares with its siblings."""
    source = textwrap.dedent(inspect.getsource(code))
    body = ast.parse(source).body[0].body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    lines = source.splitlines()
    return [_bare(line) for node in body for line in lines[node.lineno - 1: node.end_lineno]
            if len(_bare(line)) >= 25 and counts[_bare(line)] == 1]


def solution_lines(nb) -> list[str]:
    """The instructor's solution code (between the markers), one stripped line each."""
    found = []
    for cell in nb.cells:
        if student.is_solution_cell(cell):
            inside = False
            for line in cell.source.splitlines():
                if line.strip() in (student.BEGIN, student.END):
                    inside = line.strip() == student.BEGIN
                elif inside and len(_bare(line)) >= 25:
                    found.append(_bare(line))
    return found


def every_text(nb) -> str:
    """Sources and outputs of every cell, as a student would see them anywhere."""
    texts = []
    for cell in nb.cells:
        texts.append(cell.source)
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts += [v for v in output.get("data", {}).values() if isinstance(v, str)]
    return "\n".join(texts)


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_student_version_contains_no_reference_body(path):
    """Neither the exercise's solution nor lossbook's implementation of the function under
    test (found from the chapter's graders) appears in the student version — in code, in
    a show_source output, in a hidden cell — while the instructor's copy shows them."""
    original = nbformat.read(path, 4)
    answers = student.answers(original)
    assert answers, "a chapter with an exercise has a grader that names what it grades"
    counts = _line_counts()
    reference = [line for code in answers for line in distinctive_lines(code, counts)]
    solutions = solution_lines(original)
    assert solutions
    shown = every_text(student.student_version(original))
    assert not [line for line in reference + solutions if line in shown]
    if path.stem in ("04_entropy_cross_entropy_kl", "12_distances"):  # the test can fail:
        instructor = every_text(original)  # these chapters show the reference's source
        assert [line for line in reference if line in instructor]


def test_answers_come_from_the_graders_and_only_answers_lose_their_source():
    nb = nbformat.read(ROOT / "chapters" / "04_entropy_cross_entropy_kl.ipynb", 4)
    names = set(student.answers(nb).values())
    assert names == {"lossbook.entropy", "lossbook.binary_cross_entropy_with_logits"}
    converted = student.student_version(nb)
    notes = [c.source for c in converted.cells if "left out of the student version" in c.source]
    assert len(notes) == 2 and all(c for c in notes)
    assert any("show_source(lossbook.logsumexp)" in c.source for c in converted.cells)


def test_a_cell_that_also_does_other_work_keeps_it():
    nb = nbformat.read(ROOT / "chapters" / "08_detection_segmentation.ipynb", 4)
    before = next(c for c in nb.cells
                  if "show_source(lossbook.generalized_box_iou_loss)" in c.source)
    after = next(c for c in student.student_version(nb).cells if c.get("id") == before.id)
    assert "compare(" in after.source and "show_source" not in after.source
    kept = [o for o in after.outputs if o.output_type == "stream"]
    assert kept and kept == [o for o in before.outputs if o.output_type == "stream"]


# ------------------------------------------------------------------ it runs

@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_instructor_version_scores_full_marks(path):
    graders = [c for c in nbformat.read(path, 4).cells if student.is_grader_cell(c)]
    assert graders, "an implementation exercise needs a grader cell"
    for cell in graders:
        assert cell.source.rstrip().endswith(".assert_passed()")  # nbgrader's points
        text = "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "")
                       for o in cell.outputs)
        score = re.search(r"Score: (\d+)/(\d+) \(100 %\)", text)
        assert score and score[1] == score[2], f"grader did not score 100 %:\n{text}"


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_student_version_runs_and_graders_report_unimplemented(path):
    """Run the student notebook's set-up cells and its whole exercise section.

    The cells before the exercises are the instructor's, which nbval already runs top to
    bottom; exercises must be self-contained (they may use only the set-up cell's imports),
    so running set-up + exercises is running the student version up to and through its
    first unimplemented exercise. Each grader cell shows its report and then fails.
    """
    nb = student.student_version(nbformat.read(path, 4))
    start = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "markdown" and re.search(r"^## Exercises", c.source, re.M))
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    nb.cells = [nb.cells[i] for i in code[:2]] + nb.cells[start:]
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if student.is_grader_cell(cell):
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert "not implemented yet" in text and "Score: 0/" in text, text
            assert [e.ename for e in errors] == ["AssertionError"]
        else:
            assert not errors, cell.source
