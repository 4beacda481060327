"""Make the student version of the book (solutions out, graders in) and an nbgrader course.

    python scripts/student.py [OUTPUT_DIR]                (make student; default _build/student)
    python scripts/student.py --course DIR [STEM ...]     (make course; default _build/course)

**The student version.** ``OUTPUT_DIR`` becomes a complete Jupyter Book source tree — the
chapters, ``_config.yml``, ``_toc.yml``, ``references.bib``, ``_static`` — in which

* the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers) is
  replaced by ``raise NotImplementedError()``, and the cell is no longer hidden;
* the outputs of solution cells and of grader cells (which showed the solution scoring
  100 %) are cleared;
* the ``{solution}`` blocks of the exercises are removed from the Markdown (notebooks and
  ``.md`` pages);
* ``show_source(f)`` is removed, with its output, wherever ``f`` is an exercise's answer: the
  function a grader of the chapter refuses (:func:`lossbook.grading.collect_answers` asks the
  graders themselves, so there is no list to keep up to date) or a private helper of it; a
  short note says where the source went;
* everything else — narrative, figures, printed results, grader calls — is kept;
* ``_config.yml``'s ``repository.branch`` becomes its ``student_branch``, so that the book
  built from this tree (``make student-book``) opens these notebooks on Colab once the tree
  is pushed to that branch (README.md, "Publishing").

**The nbgrader course.** ``--course DIR`` writes ``DIR/nbgrader_config.py`` (from
``course/nbgrader_config.py``) and ``DIR/source/<stem>/<stem>.ipynb`` for every chapter with
an implementation exercise (or the stems given): the chapter with its answers' sources and
its solution and grader outputs removed as above, its implementation solutions kept between
the markers for ``nbgrader generate_assignment`` to strip, and each conceptual exercise's
``{solution}`` moved into a Markdown cell of its own after the exercise, marked as nbgrader's
"manually graded answer" (the release shows "YOUR ANSWER HERE" there; formgrader shows the
instructor's answer beside the student's). A ``{solution}`` that explains an implementation
exercise's code is dropped: the solution cell is its answer.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import pkgutil
import re
import shutil
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `scripts` importable
    sys.path.insert(0, str(ROOT))

from scripts.notebooks import GRADER_CALL, is_grader_cell  # noqa: E402

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# A {solution} directive with its body, closed by the same fence it opened with.
SOLUTION_BLOCK = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{solution\}[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*(?:\n|\Z)",
    re.DOTALL | re.MULTILINE)
EXERCISE_BLOCK = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{exercise\}[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*(?:\n|\Z)",
    re.DOTALL | re.MULTILINE)
LABEL = re.compile(r"^:label:\s*(\S+)", re.MULTILINE)
OPTION = re.compile(r"^:[\w-]+:.*$")
BOOK_FILES = ("_config.yml", "_toc.yml", "references.bib", "_static")
COURSE_CONFIG = ROOT / "course" / "nbgrader_config.py"

__all__ = ["GRADER_CALL", "is_grader_cell", "student_version", "course_version"]


def strip_solution_code(source: str) -> str:
    """Replace each BEGIN/END SOLUTION region by ``raise NotImplementedError()``."""
    lines, out, inside = source.splitlines(), [], False
    for line in lines:
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f"{indent}raise NotImplementedError()")
        elif stripped == END:
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END} in:\n{source}")
    return "\n".join(out)


def is_solution_cell(cell) -> bool:
    return cell.cell_type == "code" and BEGIN in cell.source


def strip_solution_blocks(markdown: str) -> str:
    """The Markdown without its ``{solution}`` directives (the exercises stay)."""
    return SOLUTION_BLOCK.sub("", markdown)


# ------------------------------------------------------------------------------------------
# Which lossbook code is an exercise's answer: the graders say.

def _graders() -> dict:
    """Every ``grade_*`` function of ``lossbook.grading``'s modules, by name."""
    import lossbook.grading

    found = {}
    for info in pkgutil.iter_modules(lossbook.grading.__path__):
        module = importlib.import_module(f"lossbook.grading.{info.name}")
        found.update((name, getattr(module, name)) for name in dir(module)
                     if name.startswith("grade_") and callable(getattr(module, name)))
    return found


def _unimplemented(*args, **kwargs):
    raise NotImplementedError


def answers(nb: nbformat.NotebookNode) -> dict:
    """``{code object: "lossbook.name"}``: the lossbook code that the notebook's graders ask
    students to write, found by calling each grader on an unimplemented stub."""
    from lossbook import grading

    graders = _graders()
    found: dict = {}
    for cell in nb.cells:
        if not is_grader_cell(cell):
            continue
        for name in re.findall(r"\b(grade_\w+)\(", cell.source):
            if name not in graders:
                raise KeyError(f"{name}: no such grader in lossbook.grading")
            with grading.collect_answers() as answer:
                graders[name](_unimplemented)
            found.update(answer)
    return found


def _lossbook_names(nb: nbformat.NotebookNode) -> dict:
    """The names the notebook imports from lossbook (``lossbook``, ``batch_norm``, ...)."""
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: no lossbook imports there
            continue
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if module and module.split(".")[0] == "lossbook":
                    exec(compile(ast.Module([node], []), "<imports>", "exec"), namespace)
    return namespace


def _answer_shown(call: ast.Call, namespace: dict, answer: dict) -> str | None:
    """The answer's name if ``call`` is ``show_source(<an answer's function>)``."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name != "show_source" or len(call.args) != 1:
        return None
    try:
        shown = eval(compile(ast.Expression(call.args[0]), "<show_source>", "eval"),
                     dict(namespace))
    except Exception:
        return None
    return answer.get(getattr(shown, "__code__", None))


def _note(names: list[str]) -> str:
    listed = ", ".join(f"`{n}`" for n in names)
    return (f"*The source of {listed} is left out of the student version: writing it is an "
            "exercise at the end of this chapter.*")


def hide_answer_sources(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove ``show_source(<answer>)`` calls and their outputs (in place; returns ``nb``).

    A cell that only shows an answer's source becomes a Markdown note; in a cell that also
    does other things, the call's lines become a comment and only its output goes.
    """
    answer = answers(nb)
    if not answer:
        return nb
    namespace = _lossbook_names(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "show_source" not in cell.source:
            continue
        tree = ast.parse(cell.source)
        hidden = [(node, name) for node in tree.body
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                  and (name := _answer_shown(node.value, namespace, answer))]
        if not hidden:
            continue
        names = [name for _, name in hidden]
        if len(hidden) == len(tree.body):
            nb.cells[index] = nbformat.v4.new_markdown_cell(_note(names), id=cell.get("id"))
            continue
        lines = cell.source.split("\n")
        for node, name in reversed(hidden):
            lines[node.lineno - 1: node.end_lineno] = [
                f"# ({name}'s source is left out: it is an exercise below)"]
        cell.source = "\n".join(lines)
        cell.outputs = [o for o in cell.outputs if not _is_source_output(o, names)]
    return nb


def _is_source_output(output, names: list[str]) -> bool:
    """An output of ``show_source`` (a Markdown code block) showing one of ``names``."""
    markdown = output.get("data", {}).get("text/markdown", "")
    return markdown.startswith("```python") and any(
        re.search(rf"^def {re.escape(n.rsplit('.', 1)[-1])}\(", markdown, re.MULTILINE)
        for n in names)


# ------------------------------------------------------------------------------------------
# The two versions.

def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with solutions removed (see the module docstring)."""
    nb = hide_answer_sources(nbformat.from_dict(nb))  # deep copy first
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = strip_solution_blocks(cell.source)
        elif is_solution_cell(cell):
            cell.source = strip_solution_code(cell.source)
            tags = [t for t in cell.metadata.get("tags", []) if t != "hide-input"]
            cell.metadata["tags"] = tags
            cell.outputs, cell.execution_count = [], None
        elif is_grader_cell(cell):
            cell.outputs, cell.execution_count = [], None
    return nb


def _answer_cell(match: re.Match, grade_id: str) -> nbformat.NotebookNode:
    """A manually graded nbgrader answer cell holding a ``{solution}`` block's body."""
    lines = match["body"].split("\n")
    while lines and (OPTION.match(lines[0].strip()) or not lines[0].strip()):
        lines.pop(0)
    cell = nbformat.v4.new_markdown_cell("\n".join(lines).strip() + "\n")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": False,
                                 "points": 1, "schema_version": 3, "solution": True,
                                 "task": False}
    return cell


def implementation_exercises(nb: nbformat.NotebookNode) -> set[str]:
    """Labels of the implementation exercises: the last exercise of a Markdown cell that a
    solution code cell follows."""
    found = set()
    for cell, following in zip(nb.cells, nb.cells[1:]):
        exercises = list(EXERCISE_BLOCK.finditer(cell.source)) if cell.cell_type == "markdown" \
            else []
        label = exercises and LABEL.search(exercises[-1]["body"])
        if label and is_solution_cell(following):
            found.add(label[1])
    return found


def _is_conceptual(block: re.Match, cell, implementation: set[str]) -> bool:
    """A ``{solution}`` block answering a conceptual exercise (not one explaining the code
    of an implementation exercise, which nbgrader's solution cell already holds)."""
    target = block.group(0).split("\n", 1)[0].split("}", 1)[1].strip()
    return "{exercise}" in cell.source and target not in implementation


def course_version(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """The nbgrader source notebook of a chapter (see the module docstring)."""
    nb = hide_answer_sources(nbformat.from_dict(nb))
    implementation = implementation_exercises(nb)
    cells, number = [], 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            blocks = [b for b in SOLUTION_BLOCK.finditer(cell.source)
                      if _is_conceptual(b, cell, implementation)]
            cell.source = strip_solution_blocks(cell.source)
            cells.append(cell)
            for block in blocks:
                number += 1
                cells.append(_answer_cell(block, f"{stem}-answer-{number}"))
            continue
        if is_solution_cell(cell):
            tags = [t for t in cell.metadata.get("tags", []) if t != "hide-input"]
            cell.metadata["tags"] = tags
            cell.outputs, cell.execution_count = [], None
        elif is_grader_cell(cell):
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb


def chapters() -> list[Path]:
    return sorted((ROOT / "chapters").glob("*.ipynb"))


def has_exercises(nb: nbformat.NotebookNode) -> bool:
    return any(is_solution_cell(c) for c in nb.cells)


def write_student_book(out: Path) -> None:
    """The student version as a book source tree in ``out`` (see the module docstring)."""
    (out / "chapters").mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        source, target = ROOT / name, out / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    config_text = (ROOT / "_config.yml").read_text()
    branch = yaml.safe_load(config_text).get("student_branch")
    if branch:
        config_text, count = re.subn(r"(?m)^(\s+branch:\s*).*$", rf"\g<1>{branch}",
                                     config_text)
        assert count == 1, "_config.yml: expected one `branch:` (repository.branch)"
    (out / "_config.yml").write_text(config_text)
    for path in sorted((ROOT / "chapters").glob("*.md")):
        (out / "chapters" / path.name).write_text(strip_solution_blocks(path.read_text()))
    for path in chapters():
        nb = nbformat.read(path, as_version=4)
        nbformat.write(student_version(nb), out / "chapters" / path.name)
        print(f"{path.name}: {sum(is_solution_cell(c) for c in nb.cells)} "
              "implementation exercise(s)")
    print(f"The student version is in {out} (notebooks in {out / 'chapters'}); "
          f"`make student-book` builds it")


def write_course(out: Path, stems: list[str]) -> None:
    """An nbgrader course directory in ``out`` (see the module docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(COURSE_CONFIG, out / "nbgrader_config.py")
    for path in chapters():
        if stems and path.stem not in stems:
            continue
        nb = nbformat.read(path, as_version=4)
        if not has_exercises(nb):
            continue
        target = out / "source" / path.stem
        target.mkdir(parents=True, exist_ok=True)
        nbformat.write(course_version(nb, path.stem), target / path.name)
        print(f"source/{path.stem}/{path.name}")
    print(f"The nbgrader course is in {out}: cd there and run "
          "`nbgrader generate_assignment <stem>`")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", nargs="?", type=Path,
                        help="where the student book goes (default _build/student)")
    parser.add_argument("--course", type=Path, metavar="DIR",
                        help="write an nbgrader course directory to DIR instead")
    parser.add_argument("stems", nargs="*", default=[],
                        help="with --course: only these chapters (file stems)")
    args = parser.parse_args(argv)
    if args.course:
        stems = ([str(args.output)] if args.output else []) + args.stems
        write_course(args.course, stems)
    else:
        write_student_book(args.output or ROOT / "_build" / "student")
    return 0


if __name__ == "__main__":
    sys.exit(main())
