"""Numbers in the chapters' prose come from code (scripts/prose_numbers.py)."""

from pathlib import Path

import pytest

from scripts import prose_numbers

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_number_in_prose_is_glued_or_a_definition(path):
    found = prose_numbers.unglued(path)
    assert not found, "glue these from code, or allow a definition in " \
        "tests/prose_numbers_allowed.yml:\n" + "\n".join(
            f"  cell {index}: {token!r} in …{context}…" for index, token, context in found)


def test_the_check_sees_results_and_skips_definitions_identifiers_and_code():
    markdown = (
        "With $\\varepsilon = 10^{-7}$ a proposal 10 units off pulls 20 times harder "
        "({glue:}`ratio` is glued). Item 15 (note 003, 2016) and `x = 0.5` and "
        "[link](a.ipynb#s-2) and a $32 \\times 32$ image; p = 1; 8 % of pixels; 0.75.")
    assert [token for token, _ in prose_numbers.numbers(markdown)] == [
        "10^{-7}", "10", "20", "8", "0.75"]


def test_directive_bodies_are_prose():
    markdown = "```{exercise} Title\n:label: ex-1\nShow that the loss is 0.5 here.\n```"
    assert [token for token, _ in prose_numbers.numbers(markdown)] == ["0.5"]
