"""The chapters on Colab: the first cell installs lossbook alone and fails loudly, and a
chapter runs through in a simulated Colab — a fresh environment that has torch and the rest
but not lossbook, a fake ``google.colab`` module, the install pointed at a wheel built from
this checkout."""

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from scripts import notebooks

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
CHAPTER = ROOT / "chapters" / "04_entropy_cross_entropy_kl.ipynb"

# What a Colab runtime has without installing anything (besides the standard library).
ON_COLAB = {"torch", "numpy", "matplotlib", "scipy", "sklearn", "skimage", "IPython",
            "pandas", "PIL", "google", "lossbook"}
# Chapters that import a module Colab lacks. myst_nb is a book-building dependency;
# lossbook.display.glue stores the same output without it. Remove a chapter from here when
# it moves to display.glue (the test fails until then, and fails when the list is stale).
IMPORTS_MISSING_ON_COLAB: dict[str, set[str]] = {}


def run_cell(source: str, on_colab: bool, monkeypatch, **environment) -> None:
    """Execute the Colab cell's code in this process, as if on Colab or not."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "<colab cell>", "exec"), {})


def test_the_cell_does_nothing_off_colab(monkeypatch, capsys):
    run_cell(notebooks.colab_cell_source(), False, monkeypatch)
    assert capsys.readouterr() == ("", "")


def test_a_failed_install_stops_with_the_source_and_what_to_do(monkeypatch, tmp_path):
    missing = tmp_path / "lossbook-0.0.0-py3-none-any.whl"  # pip fails at once, offline
    with pytest.raises(RuntimeError) as raised:
        run_cell(notebooks.colab_cell_source(), True, monkeypatch,
                 **{notebooks.INSTALL_SOURCE_VARIABLE: str(missing)})
    message = str(raised.value)
    assert message.startswith(f"Could not install lossbook from {missing}:")
    assert "_config.yml" in message and "run this cell again" in message


def test_the_cell_installs_lossbook_alone_from_the_configured_repository():
    source = notebooks.colab_cell_source("https://example.org/someone/fork")
    tree = ast.parse(source)
    assert '"git+https://example.org/someone/fork"' in source
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert {"install", "--no-deps"} <= strings  # Colab's torch and ipykernel stay as they are
    assert not [s for s in strings if isinstance(s, str) and ("[" in s or "ipykernel" in s)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_import_only_what_colab_has(path):
    stdlib = sys.stdlib_module_names
    imported = set()
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                if isinstance(node, ast.Import):
                    imported |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    imported.add(node.module.split(".")[0])
    missing = {m for m in imported if m not in stdlib and m not in ON_COLAB}
    assert missing == IMPORTS_MISSING_ON_COLAB.get(path.stem, set())


# ------------------------------------------------------------------ a simulated Colab

def build_wheel(out: Path) -> Path:
    from setuptools import build_meta

    source = out / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "_build", "build", "*.egg-info", "__pycache__", "chapters"))
    here = Path.cwd()
    os.chdir(source)
    try:
        return out / build_meta.build_wheel(str(out))
    finally:
        os.chdir(here)


def colab_environment(out: Path) -> Path:
    """A new environment seeing this one's packages except lossbook, and a fake
    ``google.colab``; returns its python. Nothing is installed into it yet."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(out / "colab")],
                   check=True, timeout=120)
    python = out / "colab" / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    preinstalled = out / "preinstalled"  # torch, numpy, ipykernel, pip, ... without lossbook
    preinstalled.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if "lossbook" not in entry.name.lower():
            (preinstalled / entry.name).symlink_to(entry)
    (site / "colab-preinstalled.pth").write_text(f"{preinstalled}\n")
    fake = out / "fake" / "google" / "colab"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('"""Stands in for Colab\'s module in tests."""\n')
    return python


def test_a_chapter_runs_through_on_a_simulated_colab(tmp_path, monkeypatch):
    wheel = build_wheel(tmp_path)
    python = colab_environment(tmp_path)
    probe = subprocess.run([str(python), "-c", "import lossbook"], capture_output=True,
                           cwd=tmp_path)
    assert probe.returncode != 0, "the simulated Colab must start without lossbook"

    kernels = tmp_path / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "display_name": "simulated Colab", "language": "python",
        # Colab imports google.colab before the first cell runs
        "argv": [str(python), "-c", "import google.colab; from ipykernel.kernelapp import "
                 "launch_new_instance; launch_new_instance()", "-f", "{connection_file}"],
        "env": {"PYTHONPATH": str(tmp_path / "fake"), "OMP_NUM_THREADS": "1",
                notebooks.INSTALL_SOURCE_VARIABLE: str(wheel)},
    }))
    nb = nbformat.read(CHAPTER, 4)
    # the loss zoo (A3) away from the chapters: titles and links from the installed package
    nb.cells.append(nbformat.v4.new_code_cell("print(lossbook.catalog.zoo())"))
    nb.cells.append(nbformat.v4.new_code_cell("print(lossbook.__file__)"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))  # finds kernels/colab
    NotebookClient(nb, timeout=300, kernel_name="colab",  # runs in tmp_path, away from
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # the repo

    assert nb.cells[0].outputs == []  # the install prints nothing when it works
    installed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert installed.startswith(str(tmp_path / "colab")), installed  # from the wheel
    def printed(cell) -> str:
        return "".join(o.get("text", "") for o in cell.get("outputs", []))

    zoo = printed(nb.cells[-2])
    assert zoo.startswith("*The chapters are not next to this notebook"), zoo[:200]
    assert f"({notebooks.book_url()}chapters/02_regression_losses.html#" in zoo
    assert "**[Regression losses](" in zoo

    stored = nbformat.read(CHAPTER, 4)
    for ran, kept in zip(nb.cells, stored.cells):  # the same printed results as the book
        if "nbval-ignore-output" not in kept.metadata.get("tags", []):
            assert printed(ran) == printed(kept), kept.source
