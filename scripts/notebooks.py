"""Keep the chapters' notebooks honest: their first cell, their metadata and their outputs.

    python scripts/notebooks.py execute [NOTEBOOK ...]   re-run top to bottom, store outputs
    python scripts/notebooks.py sync [NOTEBOOK ...]      rewrite first cell and metadata only

Outputs in ``chapters/*.ipynb`` are the book's claims and nbval re-checks them, so they are only
ever written by ``execute`` — never by hand. ``execute`` also strips what changes from run to
run without meaning anything (timings, the Python patch version), so a re-run that reproduces
the same claims leaves the file unchanged.

Every chapter starts with the same first cell, generated here from ``_config.yml``'s
``repository.url`` (the one place the URL is set): on Colab it installs lossbook from the
repository; everywhere else it does nothing and prints nothing. Notebook metadata asks Colab
for a GPU runtime.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
COLAB_CELL_TAG = "colab-install"
SOLUTION_MARKER = "### BEGIN SOLUTION"
NBVAL_MARKER = re.compile(r"#\s*NBVAL_[A-Z_]+")

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def repository_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/")


INSTALL_SOURCE_VARIABLE = "LOSSBOOK_INSTALL_SOURCE"


def colab_cell_source(url: str | None = None) -> str:
    """The first cell of every chapter: install lossbook on Colab, do nothing elsewhere.

    Only lossbook itself is installed (``--no-deps``): Colab already has torch, NumPy,
    matplotlib, SciPy, scikit-learn and scikit-image, and installing anything it pins (its
    ``ipykernel``, its CUDA build of torch) would replace them inside a live runtime. A
    failed install stops the notebook with a ``RuntimeError`` that names the source it tried
    and what to do, instead of a ``ModuleNotFoundError`` one cell later.
    ``$LOSSBOOK_INSTALL_SOURCE`` replaces the repository (a wheel, a directory, a
    ``git+file://`` URL): the Colab simulation in ``tests/test_colab.py`` uses it.
    """
    url = url or repository_url()
    return (
        "# On Colab, install lossbook (Colab has everything else); elsewhere do nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import importlib, os, subprocess\n"
        "\n"
        "    # repository.url in the book's _config.yml\n"
        f'    url = "git+{url}"\n'
        f'    source = os.environ.get("{INSTALL_SOURCE_VARIABLE}", f"lossbook @ {{url}}")\n'
        '    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]\n'
        "    done = subprocess.run(pip + [source], capture_output=True, text=True)\n"
        "    if done.returncode != 0:\n"
        "        raise RuntimeError(\n"
        '            f"Could not install lossbook from {source}:\\n"\n'
        '            f"{done.stderr[-1500:]}\\n"\n'
        '            "Check that this URL exists and is public (whoever published the "\n'
        '            "book sets it in _config.yml), that the runtime is online, then "\n'
        '            "run this cell again.")\n'
        "    importlib.invalidate_caches()"
    )


def nbgrader_metadata(grade_id: str) -> dict:
    """nbgrader's metadata for an autograded-answer (solution) cell, schema version 3."""
    return {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
            "solution": True, "task": False}


def nbgrader_test_metadata(grade_id: str, points: float = 1) -> dict:
    """nbgrader's metadata for an autograder-tests cell (a grader call), schema version 3.

    The cell fails unless every check passes (:meth:`lossbook.grading.Report.assert_passed`),
    so nbgrader gives its points all or nothing.
    """
    return {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
            "schema_version": 3, "solution": False, "task": False}


GRADER_CALL = re.compile(r"\bgrade_\w+\(")


def is_grader_cell(cell: nbformat.NotebookNode) -> bool:
    """A code cell that calls one of ``lossbook.grading``'s graders (``grade_entropy(...)``)."""
    return cell.cell_type == "code" and bool(GRADER_CALL.search(cell.source))


def asserting_grader_call(source: str) -> str:
    """The grader cell's last line made to fail below 100 %: ``grade_x(f).assert_passed()``.

    The report is returned (and shown) as before when every check passes; otherwise it is
    printed and ``AssertionError`` raised, which nbgrader counts as a failed test.
    """
    tree = ast.parse(source)
    last = tree.body[-1] if tree.body else None
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
            and isinstance(last.value.func, ast.Name)
            and last.value.func.id.startswith("grade_")):
        return source  # already asserting, or not a plain grader call: left as written
    lines = source.split("\n")
    row = last.end_lineno - 1
    column = len(lines[row].encode()[: last.end_col_offset].decode())  # offsets: bytes
    lines[row] = lines[row][:column] + ".assert_passed()" + lines[row][column:]
    return "\n".join(lines)


def harness_comments_to_tags(cell: nbformat.NotebookNode) -> None:
    """Move nbval's comment markers (``# NBVAL_IGNORE_OUTPUT`` ...) into cell tags.

    nbval reads the same markers from tags (``nbval-ignore-output``), and tags do not show in
    the rendered book, where a test-harness comment would only puzzle a reader.
    """
    lines = cell.source.split("\n")
    markers = [line.strip() for line in lines if NBVAL_MARKER.fullmatch(line.strip())]
    if not markers:
        return
    cell.source = "\n".join(line for line in lines if not NBVAL_MARKER.fullmatch(line.strip()))
    tags = cell.metadata.setdefault("tags", [])
    for marker in markers:
        tag = marker.lstrip("# ").lower().replace("_", "-")
        if tag not in tags:
            tags.append(tag)


def sync(nb: nbformat.NotebookNode, name: str = "chapter") -> nbformat.NotebookNode:
    """Put the generated Colab cell first and the standard metadata in place.

    nbval's comment markers become cell tags (:func:`harness_comments_to_tags`). Cells
    holding an exercise solution (between nbgrader's BEGIN/END SOLUTION markers) get
    nbgrader's solution-cell metadata, and grader cells its autograder-tests metadata (one
    point each unless the cell already says otherwise), their call ending in
    ``.assert_passed()``: the chapters are nbgrader source notebooks as they are.
    """
    source = colab_cell_source()
    first = nb.cells[0] if nb.cells else None
    if first is not None and COLAB_CELL_TAG in first.get("metadata", {}).get("tags", []):
        first.source = source
    else:
        cell = nbformat.v4.new_code_cell(source, id="colab-install")
        nb.cells.insert(0, cell)
        first = cell
    first.metadata["tags"] = [COLAB_CELL_TAG, "remove-cell"]  # the book does not show it
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["accelerator"] = "GPU"
    nb.metadata["colab"] = {"provenance": [], "gpuType": "T4"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            harness_comments_to_tags(cell)
    solutions = [c for c in nb.cells if c.cell_type == "code" and SOLUTION_MARKER in c.source]
    graders = [c for c in nb.cells if is_grader_cell(c) and c not in solutions]
    for cell in nb.cells:
        if cell not in solutions and cell not in graders:
            cell.metadata.pop("nbgrader", None)
    for number, cell in enumerate(solutions, start=1):
        cell.metadata["nbgrader"] = nbgrader_metadata(f"{name}-solution-{number}")
    for number, cell in enumerate(graders, start=1):
        points = cell.metadata.get("nbgrader", {}).get("points", 1)  # an instructor's choice
        cell.source = asserting_grader_call(cell.source)
        cell.metadata["nbgrader"] = nbgrader_test_metadata(f"{name}-grader-{number}", points)
    return nb


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove metadata that changes between identical runs."""
    language_info = nb.metadata.get("language_info", {})
    language_info.pop("version", None)
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
    return nb


def check_outputs(nb: nbformat.NotebookNode, path: Path) -> None:
    """Refuse to store a run with errors or warnings on stderr (nbval would reject it)."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                raise RuntimeError(f"{path.name}: cell {index} raised {output.ename}")
            if output.output_type == "stream" and output.name == "stderr":
                raise RuntimeError(f"{path.name}: cell {index} wrote to stderr:\n{output.text}")


def execute(path: Path, timeout: int = 600) -> float:
    """Run ``path`` top to bottom in a fresh kernel and store the outputs; return seconds."""
    from nbclient import NotebookClient

    nb = sync(nbformat.read(path, as_version=4), path.stem)
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    seconds = time.perf_counter() - start
    check_outputs(nb, path)
    nbformat.write(strip_volatile(nb), path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["execute", "sync"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, default=2,
                        help="notebooks executed at once, one thread each (default 2)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(CHAPTERS.glob("*.ipynb"))
    if args.command == "sync":
        for number, path in enumerate(paths, start=1):
            nb = sync(nbformat.read(path, as_version=4), path.stem)
            nbformat.write(strip_volatile(nb), path)
            print(f"[{number}/{len(paths)}] synced {path}")
        return 0
    # One thread per kernel (kernels inherit the environment), as under `make test`'s xdist
    # workers: two kernels on two cores, not four threads fighting over them.
    os.environ["OMP_NUM_THREADS"] = "1"

    def run(numbered):
        number, path = numbered
        print(f"[{number}/{len(paths)}] executing {path} ...", flush=True)
        seconds = execute(path)
        print(f"[{number}/{len(paths)}] stored outputs of {path} ({seconds:.1f} s)", flush=True)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        list(pool.map(run, enumerate(paths, start=1)))  # list(): re-raise the first failure
    return 0


if __name__ == "__main__":
    sys.exit(main())
