"""The browser check's verdicts (scripts/check_html.py), on hand-made pages: it must fail
pages with untypeset math, missing figures, missing launch links or dangling citations."""

import html
from pathlib import Path

from scripts.check_html import page_problems, png_size, visible_text

PNG = (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR"
       + (640).to_bytes(4, "big") + (480).to_bytes(4, "big"))
REPO = "lossbook/lossbook"
GOOD = (
    '<body data-overflow="[]"><h1>Entropy</h1><p>Shannon <mjx-container>H(p)</mjx-container></p>'
    '<img src="../_images/fig.png">'
    f'<a href="https://colab.research.google.com/github/{REPO}/blob/main/chapters/ch.ipynb">'
    '<a href="../_sources/chapters/ch.ipynb">download</a>'
    '<a href="bibliography.html#id3">[Shannon, 1948]</a>'
)


def check(dom, tmp_path, **overrides):
    (tmp_path / "_images").mkdir(exist_ok=True)
    (tmp_path / "_images" / "fig.png").write_bytes(PNG)
    options = dict(source_has_math=True, is_notebook=True, bibliography_ids={"id3"},
                   repository=REPO)
    options.update(overrides)
    return page_problems("chapters/ch", dom, tmp_path, **options)


def test_a_good_page_passes(tmp_path):
    assert check(GOOD, tmp_path) == []


def test_untypeset_math_fails(tmp_path):
    dom = GOOD.replace("<mjx-container>H(p)</mjx-container>",
                       r'<span class="math">\(H(p)\)</span>')
    problems = check(dom, tmp_path)
    assert "no typeset math: MathJax did not run" in problems
    assert any("raw math delimiter" in p for p in problems)


def test_raw_display_math_fails_but_code_may_contain_it(tmp_path):
    assert any("'$$'" in p for p in check(GOOD + "<p>$$x$$</p>", tmp_path))
    assert check(GOOD + "<pre>print('$$')</pre>", tmp_path) == []


def test_missing_or_broken_figure_fails(tmp_path):
    assert check(GOOD.replace("fig.png", "gone.png"), tmp_path) == [
        "missing image ../_images/gone.png"]
    (tmp_path / "_images" / "bad.png").write_bytes(b"not a png")
    assert check(GOOD.replace("fig.png", "bad.png"), tmp_path) == [
        "broken image ../_images/bad.png"]


def test_missing_launch_link_download_button_or_citation_fails(tmp_path):
    assert "no Colab launch link" in check(GOOD.replace("colab.research", "x"), tmp_path)
    assert any("download" in p for p in check(GOOD.replace("_sources", "x"), tmp_path))
    assert check(GOOD, tmp_path, bibliography_ids=set()) == [
        "citation #id3 has no bibliography entry"]


def test_helpers():
    assert visible_text("<p>a<script>$$</script><code>\\(</code>b</p>").split() == ["a", "b"]
    path = Path(__file__)
    assert png_size(path) is None


def test_overflowing_outputs_fail_the_page_with_the_cell_named(tmp_path):
    found = ('[{"element": "pre", "section": "", "excess": 52, "cell": 4, '
             '"code": "show_source(lossbook.l2_norm)"}, {"element": "mjx-container", '
             '"section": "iou-as-a-loss", "excess": 9, "cell": 0, "code": ""}]')
    dom = GOOD.replace('data-overflow="[]"', f'data-overflow="{html.escape(found)}"')
    assert check(dom, tmp_path) == [
        "pre in cell 4 ('show_source(lossbook.l2_norm)') is 52 px wider than its column",
        "mjx-container in the text of section #iou-as-a-loss is 9 px wider than its column",
    ]


def test_a_page_the_overflow_probe_never_reached_fails(tmp_path):
    assert check(GOOD.replace(' data-overflow="[]"', ""), tmp_path) == [
        "the overflow probe did not run"]
