"""The book builds offline from stored outputs, with no Sphinx warnings, and its pages carry
what a reader needs: math, figures, the Colab launch link, the download button, the
bibliography."""

import json
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


# ------------------------------------------------------------------ the student book

STUDENT_PAGES = ("04_entropy_cross_entropy_kl", "12_distances")


@pytest.fixture(scope="module")
def student_html(tmp_path_factory) -> Path:
    """The book `make student-book` publishes, for two chapters (a full build is `make
    student-book`; here the point is what the student flavour changes)."""
    import yaml

    from scripts import student

    source = tmp_path_factory.mktemp("student")
    student.write_student_book(source)
    toc = {"format": "jb-book", "root": f"chapters/{STUDENT_PAGES[0]}",
           "chapters": [{"file": f"chapters/{stem}"} for stem in STUDENT_PAGES[1:]]}
    (source / "_toc.yml").write_text(yaml.safe_dump(toc))
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run([str(jupyter_book), "build", str(source), "--keep-going"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return source / "_build" / "html"


@pytest.mark.parametrize("stem", STUDENT_PAGES)
def test_student_book_opens_the_student_notebooks_and_shows_no_solution(
        student_html, html, stem):
    import yaml

    from scripts import student

    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["student_branch"]
    page = (student_html / "chapters" / f"{stem}.html").read_text()
    colab = f"https://colab.research.google.com/github/{repository_url().split('github.com/')[1]}"
    assert f'{colab}/blob/{branch}/chapters/{stem}.ipynb"' in page
    assert f"{colab}/blob/main/" not in page
    download = (student_html / "_sources" / "chapters" / f"{stem}.ipynb").read_text()
    assert "raise NotImplementedError()" in download and "BEGIN SOLUTION" not in download
    instructor = (html / "chapters" / f"{stem}.html").read_text()
    chapter = json.loads((ROOT / "chapters" / f"{stem}.ipynb").read_text())
    markdown = "".join("".join(c["source"]) for c in chapter["cells"]
                       if c["cell_type"] == "markdown")
    solutions = [m["body"].strip().splitlines()[-1]
                 for m in student.SOLUTION_BLOCK.finditer(markdown)]
    assert solutions
    for line in solutions:  # a conceptual solution's last line: in the instructor's book only
        words = re.sub(r"[^\w ]", " ", line).split()[:6]
        pattern = r"\W+".join(map(re.escape, words))
        assert re.search(pattern, re.sub(r"<[^>]+>", " ", instructor)), line
        assert not re.search(pattern, re.sub(r"<[^>]+>", " ", page)), line
