"""Check the built book as a reader's browser sees it (headless Chromium).

    python scripts/check_html.py [HTML_DIR]          (default: _build/html; `make browser-check`)

For every page in the table of contents it loads the page in headless Chromium (Debian's
``chromium``; it cannot download a browser of its own here), lets MathJax run, and checks:

* the page loads and has its title;
* MathJax typeset every formula: rendered math is present and no raw ``\\(``, ``\\[`` or ``$$``
  is left in the text;
* every figure exists and is a real, non-empty PNG;
* chapter notebooks have the Colab launch link and the download (.ipynb) button;
* every citation points to an entry that exists on the bibliography page.

It saves screenshots of a few pages under ``HTML_DIR/../screenshots`` for a person to look at,
prints one line per page, and exits non-zero if anything is wrong.
"""

from __future__ import annotations

import functools
import html as html_lib
import http.server
import re
import shutil
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT_PAGES = ("chapters/00_preface", "chapters/04_entropy_cross_entropy_kl",
                    "chapters/A3_loss_zoo", "chapters/A1_errata")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def toc_pages() -> list[str]:
    """Every page of the book, in the order of _toc.yml (without extension)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part.get("chapters", [])]
    return pages


def visible_text(dom: str) -> str:
    """The page's text outside scripts, styles, code and MathJax's own output."""
    dom = re.sub(r"<(script|style|pre|code|mjx-container|mjx-assistive-mml)\b.*?</\1>", " ",
                 dom, flags=re.DOTALL | re.IGNORECASE)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", dom))


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a PNG file, or None if it is not one."""
    header = path.read_bytes()[:24]
    if len(header) < 24 or header[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", header[16:24])


def page_problems(page: str, dom: str, html_dir: Path, source_has_math: bool,
                  is_notebook: bool, bibliography_ids: set[str], repository: str) -> list[str]:
    """Everything wrong with one rendered page (an empty list when it is fine)."""
    problems = []
    if "<h1" not in dom:
        problems.append("no title (h1): the page did not load")
    text = visible_text(dom)
    if source_has_math and "<mjx-container" not in dom:
        problems.append("no typeset math: MathJax did not run")
    for raw in (r"\(", r"\[", "$$"):
        if raw in text:
            problems.append(f"raw math delimiter {raw!r} left in the text")
    for src in re.findall(r'<img [^>]*src="([^"]+)"', dom):
        if src.startswith(("http", "data:")):
            continue
        image = (html_dir / Path(page).parent / src).resolve()
        if not image.exists():
            problems.append(f"missing image {src}")
        elif image.suffix == ".png" and not (png_size(image) or (0, 0))[0]:
            problems.append(f"broken image {src}")
    if is_notebook:
        name = Path(page).name
        colab = f"colab.research.google.com/github/{repository}/blob/main/{page}.ipynb"
        if colab not in dom:
            problems.append("no Colab launch link")
        if f"_sources/{page}.ipynb" not in dom:
            problems.append(f"no download button for {name}.ipynb")
    for target in re.findall(r'href="(?:\.\./chapters/)?bibliography\.html#([^"]+)"', dom):
        if target not in bibliography_ids:
            problems.append(f"citation #{target} has no bibliography entry")
    return problems


def render(url: str, profile: str, screenshot: Path | None = None) -> str:
    """The DOM of ``url`` after its scripts ran (and optionally a screenshot)."""
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={profile}", "--virtual-time-budget=15000"]
    if screenshot is not None:
        subprocess.run(["chromium", *flags, "--window-size=1280,4000",
                        f"--screenshot={screenshot}", url],
                       check=True, capture_output=True, timeout=120)
    result = subprocess.run(["chromium", *flags, "--dump-dom", url],
                            check=True, capture_output=True, text=True, timeout=120)
    return result.stdout


def serve(directory: Path) -> socketserver.TCPServer:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = socketserver.TCPServer(("127.0.0.1", 0),
                                    functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    html_dir = Path(argv[0]) if argv else ROOT / "_build" / "html"
    if shutil.which("chromium") is None:
        print("chromium not found: install Debian's chromium package "
              "(`make browser-check` does it on Debian/Ubuntu as root)")
        return 2
    if not (html_dir / "index.html").exists():
        print(f"{html_dir} has no built book: run `make book` first")
        return 2
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    repository = repository.rstrip("/").split("github.com/")[1]
    screenshots = html_dir.parent / "screenshots"
    screenshots.mkdir(exist_ok=True)
    bibliography = (html_dir / "chapters" / "bibliography.html").read_text()
    bibliography_ids = set(re.findall(r'id="([^"]+)"', bibliography))
    failures = 0
    server = serve(html_dir)
    try:
        with tempfile.TemporaryDirectory() as profile:
            for page in toc_pages():
                source = next(ROOT.glob(f"{page}.*"))
                url = f"http://127.0.0.1:{server.server_address[1]}/{page}.html"
                shot = (screenshots / f"{Path(page).name}.png"
                        if page in SCREENSHOT_PAGES else None)
                dom = render(url, profile, shot)
                problems = page_problems(
                    page, dom, html_dir, source_has_math="$" in source.read_text(),
                    is_notebook=source.suffix == ".ipynb", bibliography_ids=bibliography_ids,
                    repository=repository)
                failures += bool(problems)
                status = "ok  " if not problems else "FAIL"
                print(f"{status} {page}" + "".join(f"\n       {p}" for p in problems))
    finally:
        server.shutdown()
    print(f"screenshots: {screenshots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
