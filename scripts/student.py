"""Make the student version of the chapters: solutions out, graders in.

    python scripts/student.py [OUTPUT_DIR]        (default: _build/student)

For every ``chapters/*.ipynb`` it writes ``OUTPUT_DIR/chapters/<name>.ipynb`` where

* the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers) is
  replaced by ``raise NotImplementedError()``, and the cell is no longer hidden;
* the outputs of solution cells and of grader cells (which showed the solution scoring
  100 %) are cleared, so a student sees nothing of the answer;
* the hidden ``{solution}`` blocks of the exercises are removed from the Markdown;
* everything else — narrative, stored outputs, grader calls — is kept.

The markers are nbgrader's, so instructors can instead run ``nbgrader generate_assignment`` on
the chapters directly; this script needs nothing beyond the standard library and nbformat.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SOLUTION_BLOCK = re.compile(r"^```\{solution\}.*?^```[ \t]*\n?", re.DOTALL | re.MULTILINE)
GRADER_CALL = re.compile(r"\bgrade_\w+\(")


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


def is_grader_cell(cell) -> bool:
    return cell.cell_type == "code" and bool(GRADER_CALL.search(cell.source))


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with solutions removed (see the module docstring)."""
    nb = nbformat.from_dict(nb)  # deep copy
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = SOLUTION_BLOCK.sub("", cell.source)
        elif is_solution_cell(cell):
            cell.source = strip_solution_code(cell.source)
            tags = [t for t in cell.metadata.get("tags", []) if t != "hide-input"]
            cell.metadata["tags"] = tags
            cell.outputs, cell.execution_count = [], None
        elif is_grader_cell(cell):
            cell.outputs, cell.execution_count = [], None
    return nb


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else ROOT / "_build" / "student"
    (out / "chapters").mkdir(parents=True, exist_ok=True)
    notebooks = sorted((ROOT / "chapters").glob("*.ipynb"))
    for path in notebooks:
        nb = student_version(nbformat.read(path, as_version=4))
        nbformat.write(nb, out / "chapters" / path.name)
        exercises = sum(is_solution_cell(c) for c in nbformat.read(path, as_version=4).cells)
        print(f"{path.name}: {exercises} implementation exercise(s)")
    print(f"Student notebooks are in {out / 'chapters'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
