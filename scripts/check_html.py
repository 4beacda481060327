"""Check the built book as a reader's browser sees it (headless Chromium).

    python scripts/check_html.py [HTML_DIR [PAGE ...]]   (default: _build/html, every page;
                                                          `make browser-check`)

HTML_DIR may be the student book's (``_build/student/_build/html``): the pages, the Colab
branch and the repository are then read from the book tree it was built from.

For every page in the table of contents it loads the page in headless Chromium (Debian's
``chromium``; it cannot download a browser of its own here), lets MathJax run, and checks:

* the page loads and has its title;
* MathJax typeset every formula: rendered math is present and no raw ``\\(``, ``\\[`` or ``$$``
  is left in the text;
* every figure exists and is a real, non-empty PNG;
* chapter notebooks have the Colab launch link and the download (.ipynb) button;
* every citation points to an entry that exists on the bibliography page;
* nothing runs past its column at a 1400-px window: every code area, printed output, table
  and displayed formula fits its container (``scrollWidth <= clientWidth``), or the page is
  failed with the cell that overflows named (its number among the page's cells and its first
  line of code).

The overflow is measured by a small script that the check's own web server adds to each page
(the built book is not changed); it writes its findings into the ``data-overflow`` attribute
of ``<body>``, which Chromium's ``--dump-dom`` then shows.

It saves screenshots of a few pages under ``HTML_DIR/../screenshots`` for a person to look at,
prints one line per page, and exits non-zero if anything is wrong.
"""

from __future__ import annotations

import functools
import html as html_lib
import http.server
import io
import json
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
                    "chapters/08_detection_segmentation",
                    "chapters/A3_loss_zoo", "chapters/A1_errata",
                    "chapters/A6_decision_guide")
WINDOW = (1400, 1000)
# Measures, after MathJax has typeset the page, every element that would scroll sideways.
OVERFLOW_PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const selector = "pre, table, .pst-scrollable-table-container, div.cell_output, "
    + "div.output, mjx-container[display='true']";
  const cells = Array.from(document.querySelectorAll("div.cell"));
  const found = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    const cell = el.closest("div.cell");
    const code = cell ? (cell.querySelector("div.cell_input pre") || {}).textContent || "" : "";
    const section = el.closest("section");
    const kind = el.classList.length ? "." + el.classList[0] : "";
    found.push({element: el.tagName.toLowerCase() + kind,
                section: section ? section.id : "",
                excess: el.scrollWidth - el.clientWidth,
                cell: cell ? cells.indexOf(cell) + 1 : 0,
                code: code.trim().split("\\n")[0].slice(0, 60)});
  }
  document.body.setAttribute("data-overflow", JSON.stringify(found));
}, 4000));
</script>"""
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def toc_pages(book: Path = ROOT) -> list[str]:
    """Every page of the book, in the order of _toc.yml (without extension)."""
    toc = yaml.safe_load((book / "_toc.yml").read_text())
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
                  is_notebook: bool, bibliography_ids: set[str], repository: str,
                  branch: str = "main") -> list[str]:
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
        colab = f"colab.research.google.com/github/{repository}/blob/{branch}/{page}.ipynb"
        if colab not in dom:
            problems.append("no Colab launch link")
        if f"_sources/{page}.ipynb" not in dom:
            problems.append(f"no download button for {name}.ipynb")
    for target in re.findall(r'href="(?:\.\./chapters/)?bibliography\.html#([^"]+)"', dom):
        if target not in bibliography_ids:
            problems.append(f"citation #{target} has no bibliography entry")
    problems += overflow_problems(dom)
    return problems


def overflow_problems(dom: str) -> list[str]:
    """What the overflow probe found, one line per element wider than its container."""
    match = re.search(r'<body[^>]*\bdata-overflow="([^"]*)"', dom)
    if match is None:
        return ["the overflow probe did not run"]
    found = json.loads(html_lib.unescape(match.group(1)))
    problems = []
    for item in found:
        where = (f"cell {item['cell']} ({item['code']!r})" if item["cell"]
                 else f"the text of section #{item['section']}")
        problems.append(f"{item['element']} in {where} is {item['excess']} px wider than "
                        "its column")
    return problems


def render(url: str, profile: str, screenshot: Path | None = None) -> str:
    """The DOM of ``url`` after its scripts ran (and optionally a screenshot)."""
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={profile}", "--virtual-time-budget=15000"]
    if screenshot is not None:
        subprocess.run(["chromium", *flags, f"--window-size={WINDOW[0]},4000",
                        f"--screenshot={screenshot}", url],
                       check=True, capture_output=True, timeout=120)
    result = subprocess.run(["chromium", *flags, f"--window-size={WINDOW[0]},{WINDOW[1]}",
                             "--dump-dom", url],
                            check=True, capture_output=True, text=True, timeout=120)
    return result.stdout


def serve(directory: Path) -> socketserver.TCPServer:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_head(self):
            """Serve pages with the overflow probe added before ``</body>``."""
            path = Path(self.translate_path(self.path))
            if path.suffix != ".html" or not path.is_file():
                return super().send_head()
            body = path.read_bytes().replace(b"</body>", OVERFLOW_PROBE.encode() + b"</body>")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)

    server = socketserver.TCPServer(("127.0.0.1", 0),
                                    functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    html_dir = Path(argv[0]) if argv else ROOT / "_build" / "html"
    only = set(argv[1:])  # e.g. chapters/04_entropy_cross_entropy_kl
    if shutil.which("chromium") is None:
        print("chromium not found: install Debian's chromium package "
              "(`make browser-check` does it on Debian/Ubuntu as root)")
        return 2
    if not (html_dir / "index.html").exists():
        print(f"{html_dir} has no built book: run `make book` first")
        return 2
    # the book's own source tree: this repository, or the student version (make student)
    book = html_dir.parent.parent if (html_dir.parent.parent / "_toc.yml").exists() else ROOT
    config = yaml.safe_load((book / "_config.yml").read_text())["repository"]
    repository = config["url"].rstrip("/").split("github.com/")[1]
    screenshots = html_dir.parent / "screenshots"
    screenshots.mkdir(exist_ok=True)
    bibliography = (html_dir / "chapters" / "bibliography.html").read_text()
    bibliography_ids = set(re.findall(r'id="([^"]+)"', bibliography))
    failures = 0
    server = serve(html_dir)
    try:
        with tempfile.TemporaryDirectory() as profile:
            for page in [p for p in toc_pages(book) if not only or p in only]:
                source = next(book.glob(f"{page}.*"))
                url = f"http://127.0.0.1:{server.server_address[1]}/{page}.html"
                shot = (screenshots / f"{Path(page).name}.png"
                        if page in SCREENSHOT_PAGES else None)
                dom = render(url, profile, shot)
                problems = page_problems(
                    page, dom, html_dir, source_has_math="$" in source.read_text(),
                    is_notebook=source.suffix == ".ipynb", bibliography_ids=bibliography_ids,
                    repository=repository, branch=config["branch"])
                failures += bool(problems)
                status = "ok  " if not problems else "FAIL"
                print(f"{status} {page}" + "".join(f"\n       {p}" for p in problems))
    finally:
        server.shutdown()
    print(f"screenshots: {screenshots}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
