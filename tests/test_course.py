"""nbgrader works on what the project ships: the chapters' nbgrader metadata (written by
`scripts/notebooks.py sync`), and `make course`'s course directory driven end to end —
generate_assignment, autograde, validate — in a temporary directory."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from scripts import notebooks, student

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
STEM = "04_entropy_cross_entropy_kl"


# ------------------------------------------------------------------ the metadata

@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_solution_and_grader_cells_carry_nbgrader_metadata(path):
    nb = nbformat.read(path, 4)
    ids = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if student.is_solution_cell(cell):
            assert meta == notebooks.nbgrader_metadata(meta["grade_id"])
        elif student.is_grader_cell(cell):
            assert meta == notebooks.nbgrader_test_metadata(meta["grade_id"], meta["points"])
            assert meta["points"] > 0
            assert cell.source.rstrip().endswith(".assert_passed()")
        else:
            assert meta is None, "nbgrader metadata on a cell that is neither"
        if meta:
            ids.append(meta["grade_id"])
    assert len(ids) == len(set(ids))
    assert nb == notebooks.sync(nbformat.read(path, 4), path.stem), "run `make sync-notebooks`"


def test_sync_makes_a_grader_call_assert_and_keeps_an_instructors_points():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n"
                                  "    ### END SOLUTION"),
        nbformat.v4.new_code_cell("from lossbook.grading.norms import grade_l2_norm\n\n"
                                  "grade_l2_norm(\n    f)  # graded"),
        nbformat.v4.new_code_cell("grade_l2_norm(f)"),
    ])
    nb.cells[2].metadata["nbgrader"] = {"points": 3}
    nb = notebooks.sync(nb, "x")
    assert nb.cells[2].source.endswith("\n\ngrade_l2_norm(\n    f).assert_passed()  # graded")
    assert nb.cells[3].source == "grade_l2_norm(f).assert_passed()"
    assert nb.cells[2].metadata["nbgrader"]["points"] == 1
    assert nb.cells[3].metadata["nbgrader"] == {
        "grade": True, "grade_id": "x-grader-2", "locked": True, "points": 3,
        "schema_version": 3, "solution": False, "task": False}
    assert notebooks.sync(nbformat.from_dict(nb), "x") == nb  # idempotent


@pytest.mark.parametrize("path", [p for p in CHAPTERS
                                  if student.has_exercises(nbformat.read(p, 4))],
                         ids=lambda p: p.stem)
def test_each_conceptual_exercise_gets_an_answer_cell_and_no_other_does(path):
    nb = nbformat.read(path, 4)
    exercises = sum(c.source.count("{exercise}") for c in nb.cells if c.cell_type == "markdown")
    implementation = student.implementation_exercises(nb)
    assert len(implementation) == sum(student.is_solution_cell(c) for c in nb.cells)
    course = student.course_version(nb, path.stem)
    answers = [c for c in course.cells if c.cell_type == "markdown" and "nbgrader" in c.metadata]
    assert len(answers) == exercises - len(implementation)
    assert all(c.metadata["nbgrader"]["grade"] and c.metadata["nbgrader"]["solution"]
               and c.source.strip() for c in answers)  # manually graded, with the answer
    assert "{solution}" not in json.dumps(course)


# ------------------------------------------------------------------ nbgrader end to end

def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the nbgrader command line in ``course``, in this environment, without the
    user's Jupyter configuration; it calls `alembic` from the environment's bin."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "JUPYTER_CONFIG_DIR": str(course / ".jupyter"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([str(Path(bin_dir) / "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)


def exercises_only(nb):
    """The Colab and set-up cells and the exercise section: what a submission's grade
    depends on, without re-running the chapter's narrative (nbval does that)."""
    start = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "markdown" and re.search(r"^## Exercises", c.source, re.M))
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    nb.cells = [nb.cells[i] for i in code[:2]] + nb.cells[start:]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("course")
    student.write_course(course, [STEM])
    result = nbgrader(course, "generate_assignment", STEM)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return course


def outputs(nb, kind):
    return [o for c in nb.cells for o in c.get("outputs", []) if kind(o)]


def test_course_directory_has_the_config_and_a_source_per_chapter_with_exercises(tmp_path):
    student.write_course(tmp_path, [])
    config = (tmp_path / "nbgrader_config.py").read_text()
    assert "c.ClearOutput.enabled = False" in config
    sources = sorted(p.name for p in (tmp_path / "source").iterdir())
    assert sources == sorted(p.stem for p in CHAPTERS
                             if student.has_exercises(nbformat.read(p, 4)))


def test_release_drops_every_answer_and_keeps_the_figures_and_results(course):
    source = nbformat.read(course / "source" / STEM / f"{STEM}.ipynb", 4)
    release = nbformat.read(course / "release" / STEM / f"{STEM}.ipynb", 4)
    chapter = nbformat.read(ROOT / "chapters" / f"{STEM}.ipynb", 4)
    text = json.dumps(release)
    assert "BEGIN SOLUTION" not in text and "{solution}" not in text
    for cell in chapter.cells:  # the instructor's code answers
        if student.is_solution_cell(cell):
            answer = cell.source.split(student.BEGIN)[1].split(student.END)[0].strip()
            assert answer not in text
    answers = [c for c in release.cells if c.cell_type == "markdown" and "nbgrader" in c.metadata]
    assert answers and all(c.source == "YOUR ANSWER HERE" for c in answers)  # conceptual
    in_source = [c for c in source.cells if c.cell_type == "markdown" and "nbgrader" in c.metadata]
    assert all(c.source.strip() for c in in_source)  # ...with the instructor's answers

    def figures(nb):
        return outputs(nb, lambda o: "image/png" in o.get("data", {}))

    def printed(nb):
        return outputs(nb, lambda o: o.output_type == "stream")

    assert figures(release) and figures(release) == figures(chapter)
    assert printed(release) and printed(release) == printed(source)
    for cell in release.cells:
        if student.is_grader_cell(cell) or "raise NotImplementedError" in cell.source:
            assert cell.outputs == []


def test_autograde_gives_stubs_nothing_and_the_instructors_solutions_every_point(course):
    from nbgrader.api import Gradebook

    release = course / "release" / STEM / f"{STEM}.ipynb"
    source = course / "source" / STEM / f"{STEM}.ipynb"
    for student_id, notebook in (("stubs", release), ("instructor", source)):
        target = course / "submitted" / student_id / STEM
        target.mkdir(parents=True)
        nbformat.write(exercises_only(nbformat.read(notebook, 4)), target / f"{STEM}.ipynb")
    result = nbgrader(course, "autograde", STEM, "--create")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {}
        for student_id in ("stubs", "instructor"):
            graded = gradebook.find_submission_notebook(STEM, STEM, student_id)
            tests = [g for g in graded.grades if g.cell_type == "code"]
            assert len(tests) == 2  # the chapter's two graders
            scores[student_id] = (sum(g.auto_score for g in tests),
                                  sum(g.max_score for g in tests))
    assert scores == {"stubs": (0, 2), "instructor": (2, 2)}


def test_validate_fails_a_notebook_with_stubs(course, tmp_path):
    stubs = tmp_path / f"{STEM}.ipynb"
    nbformat.write(exercises_only(
        nbformat.read(course / "release" / STEM / f"{STEM}.ipynb", 4)), stubs)
    result = nbgrader(course, "validate", str(stubs))
    report = result.stdout + result.stderr
    assert "VALIDATION FAILED ON" in report, report[-3000:]
    assert "passes all the tests" not in report
    for grader in ("grade_entropy(entropy)", "grade_binary_cross_entropy_with_logits("):
        assert grader in report  # each grader cell is listed as failing...
    assert "AssertionError: 0 of 5 checks passed" in report  # ...as assert_passed says
