"""The book builds offline from stored outputs, with no Sphinx warnings, and its pages carry
what a reader needs: math, figures, the Colab launch link, the download button, the
bibliography."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.notebooks import repository_url

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "-n",
         "--keep-going"],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return out / "_build" / "html"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_page_has_math_figures_and_launch_links(html, notebook):
    page = (html / "chapters" / f"{notebook.stem}.html").read_text()
    colab = f"https://colab.research.google.com/github/{repository_url().split('github.com/')[1]}"
    assert f"{colab}/blob/main/chapters/{notebook.name}" in page
    assert f"_sources/chapters/{notebook.name}" in page  # the download button
    images = re.findall(r'<img [^>]*src="\.\./_images/([^"]+)"', page)
    assert all((html / "_images" / image).exists() for image in images)
    if "$" in notebook.read_text():
        assert "mathjax" in page.lower()


def test_citations_link_to_the_bibliography(html):
    bibliography = (html / "chapters" / "bibliography.html").read_text()
    assert "Kullback" in bibliography
    page = (html / "chapters" / "04_entropy_cross_entropy_kl.html").read_text()
    assert 'href="bibliography.html#' in page


def test_search_page_exists(html):
    assert (html / "search.html").exists()
