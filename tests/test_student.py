"""The student version (scripts/student.py): no solution survives, every grader stays, and it
runs; the instructor version (the stored chapters) scores 100 % on every grader."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from scripts import student

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
WITH_EXERCISES = [p for p in CHAPTERS
                  if any(student.is_solution_cell(c) for c in nbformat.read(p, 4).cells)]


def test_strip_solution_code_keeps_indentation_and_surroundings():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\n# after"
    assert student.strip_solution_code(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n# after"
    )
    with pytest.raises(ValueError, match="without"):
        student.strip_solution_code("### BEGIN SOLUTION\nx = 1")


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
        elif before.cell_type == "code":
            assert after == before  # narrative cells keep their code and stored outputs


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_instructor_version_scores_full_marks(path):
    graders = [c for c in nbformat.read(path, 4).cells if student.is_grader_cell(c)]
    assert graders, "an implementation exercise needs a grader cell"
    for cell in graders:
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
    first unimplemented exercise.
    """
    nb = student.student_version(nbformat.read(path, 4))
    start = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "markdown" and re.search(r"^## Exercises", c.source, re.M))
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    nb.cells = [nb.cells[i] for i in code[:2]] + nb.cells[start:]
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if student.is_grader_cell(cell):
            text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
            assert "not implemented yet" in text and "Score: 0/" in text, text
