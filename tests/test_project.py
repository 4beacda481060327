"""The project's promises that no single module owns: dependencies in sync, every chapter in
the book, every notebook executed top to bottom with its Colab cell, citations that resolve."""

import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml

from scripts import notebooks
from tests.test_catalog import toc_files

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
MAX_CELL_LINES = 15
MAX_LINE_LENGTH = 80  # wider code scrolls sideways in the book's column


def requirement_names(requirements) -> dict[str, str]:
    """{'torch': 'torch>=2.1', ...}, leaving out lossbook's references to its own extras."""
    found = {}
    for requirement in requirements:
        name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
        if name != "lossbook":
            found[name] = requirement.replace(" ", "")
    return found


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = [r for r in pip_section if not r.startswith("-e")]
    assert requirement_names(listed) == requirement_names(declared)


def test_readme_gives_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines()
                if line and not line.startswith(("#", "set ", "cd "))]
    assert commands == ["make test TORCH=torch==2.13.0", "make browser-check"]
    assert "make browser-check" in readme
    assert "TORCH=torch==2.13.0" in readme  # the pin CI uses is documented


def test_every_chapter_is_in_the_table_of_contents_and_every_entry_exists():
    files = toc_files()
    for notebook in NOTEBOOKS:
        assert f"chapters/{notebook.stem}" in files, f"{notebook.name} is not in _toc.yml"
    for entry in files:
        assert list(ROOT.glob(f"{entry}.*")), f"_toc.yml lists {entry}, which does not exist"


def code_cells(path):
    nb = json.loads(path.read_text())
    return nb, [c for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_starts_with_colab_cell_then_setup(path):
    nb, cells = code_cells(path)
    assert "".join(cells[0]["source"]) == notebooks.colab_cell_source()
    assert notebooks.COLAB_CELL_TAG in cells[0]["metadata"]["tags"]
    assert "lossbook.runtime.setup(seed=" in "".join(cells[1]["source"])
    assert nb["metadata"]["accelerator"] == "GPU"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_was_executed_top_to_bottom_without_errors_or_warnings(path):
    _, cells = code_cells(path)
    counts = [c["execution_count"] for c in cells if "".join(c["source"]).strip()]
    assert counts == list(range(1, len(counts) + 1)), "re-run it with `make execute`"
    for cell in cells:
        for output in cell["outputs"]:
            assert output["output_type"] != "error"
            assert not (output["output_type"] == "stream" and output["name"] == "stderr")
            assert "execution" not in cell["metadata"], "volatile metadata: run `make execute`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_cells_are_short_and_never_hide_failures(path):
    _, cells = code_cells(path)
    for cell in cells[1:]:
        source = "".join(cell["source"])
        assert len(source.splitlines()) <= MAX_CELL_LINES, f"cell too long:\n{source}"
        wide = [line for line in source.splitlines() if len(line) > MAX_LINE_LENGTH]
        assert not wide, f"lines over {MAX_LINE_LENGTH} characters: {wide}"
        assert "NBVAL" not in source, (
            "nbval markers go in cell tags (`make execute` moves them there), not in code the "
            "book shows")
        tags = cell["metadata"].get("tags", [])
        if "nbval-ignore-output" in tags:  # only for honest non-determinism (timings)…
            assert "assert" in source, "…and then the cell asserts what matters itself"
        assert not {"nbval-skip", "nbval-raises-exception", "raises-exception"} & set(tags)


def bib_keys() -> list[str]:
    return re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), re.MULTILINE)


def test_bibliography_keys_are_unique_and_entries_closed():
    keys = bib_keys()
    assert len(keys) == len(set(keys))
    text = (ROOT / "references.bib").read_text()
    for entry in re.split(r"\n(?=@)", text):
        assert entry.count("{") == entry.count("}"), f"unbalanced braces in {entry[:40]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_citation_resolves(path):
    text = path.read_text()
    cited = {k.strip() for group in re.findall(r"\{cite:?\w*\}`([^`]+)`", text)
             for k in group.split(",")}
    assert cited <= set(bib_keys()), f"unknown keys: {cited - set(bib_keys())}"


def test_code_passes_ruff():
    import subprocess
    import sys

    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff), "check", "lossbook", "tests", "scripts"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_version_is_the_same_everywhere_and_has_a_changelog_entry():
    import lossbook

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert lossbook.__version__ == version == str(citation["version"])
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()


def test_sdist_and_wheel_carry_the_package_license_and_types_but_not_the_repository(tmp_path):
    import os
    import shutil
    import tarfile
    import zipfile

    from setuptools import build_meta

    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "_build", "build", "*.egg-info", "__pycache__"))
    here = Path.cwd()
    os.chdir(source)
    try:
        sdist = build_meta.build_sdist(str(tmp_path))
        wheel = build_meta.build_wheel(str(tmp_path))
    finally:
        os.chdir(here)
    names = tarfile.open(tmp_path / sdist).getnames()
    top = sdist.removesuffix(".tar.gz")
    for required in ("LICENSE", "CITATION.cff", "CHANGELOG.md", "lossbook/__init__.py",
                     "lossbook/py.typed"):
        assert f"{top}/{required}" in names
    assert not [n for n in names if n.startswith((f"{top}/tests", f"{top}/chapters"))]
    archive = zipfile.ZipFile(tmp_path / wheel)
    assert "lossbook/py.typed" in archive.namelist()
    metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in archive.read(metadata).decode()
