"""lossbook.display: the text every chapter prints must not depend on the device."""

import math

import numpy as np
import pytest
import torch

from lossbook import display


@pytest.mark.parametrize("value, text", [
    (torch.tensor(1.31326), "1.3133"),
    (torch.tensor(-1e-9), "0.0000"),           # no "-0.0000": the sign may differ by device
    (-0.00004, "0.0000"),
    (torch.tensor(-0.5), "-0.5000"),
    (math.inf, "inf"),
    (-math.inf, "-inf"),
    (math.nan, "nan"),
    (7, "7"),
    (np.int64(3), "3"),
    (True, "True"),
    (torch.tensor([1, 2, 3]), "[1, 2, 3]"),
    (torch.tensor([0.5, -1.25]), "[ 0.5000, -1.2500]"),
    (torch.tensor([[1.0, -2.0], [3.0, 4.0]]), "[[ 1.0000, -2.0000],\n [ 3.0000,  4.0000]]"),
    (torch.zeros(0), "[]"),
    ("text", "text"),
])
def test_fmt(value, text):
    assert display.fmt(value) == text


def test_fmt_decimals_and_low_precision_dtypes():
    assert display.fmt(torch.tensor(1.0798527143, dtype=torch.float64), decimals=7) == "1.0798527"
    assert display.fmt(torch.tensor(0.5, dtype=torch.bfloat16)) == "0.5000"


def test_fmt_summarises_long_arrays_like_torch():
    assert display.fmt(torch.arange(20)) == "[ 0,  1,  2, ..., 17, 18, 19]"


def test_fmt_has_no_device_suffix():
    assert "device" not in display.fmt(torch.ones(2, device="cuda" if torch.cuda.is_available()
                                                  else "cpu"))


def test_show_single_and_multi_line(capsys):
    display.show("loss", torch.tensor(0.25))
    display.show("matrix", torch.eye(2))
    assert capsys.readouterr().out == (
        "loss: 0.2500\nmatrix:\n[[1.0000, 0.0000],\n [0.0000, 1.0000]]\n"
    )


def test_compare_prints_when_values_agree(capsys):
    display.compare("CE", torch.tensor(1.31326), 1.3132616875182228)
    assert capsys.readouterr().out == "CE: lossbook 1.3133 = torch 1.3133\n"


def test_compare_fails_the_cell_when_values_disagree():
    with pytest.raises(AssertionError, match="CE"):
        display.compare("CE", torch.tensor(1.3), torch.tensor(1.4))


def test_compare_uses_the_tolerance_of_the_less_precise_value(capsys):
    display.compare("float32 vs float64", torch.tensor(0.1, dtype=torch.float32), 0.1)
    with pytest.raises(AssertionError):
        display.compare("tight", torch.tensor(1.0), torch.tensor(1.001), atol=1e-6, rtol=0)


def test_table_aligns_columns(capsys):
    display.table({"θ": [0.1, 0.25], "name": ["a", "bb"], "n": torch.tensor([1, 20])})
    assert capsys.readouterr().out == (
        "     θ  name   n\n"
        "------  ----  --\n"
        "0.1000     a   1\n"
        "0.2500    bb  20\n"
    )


def test_table_rejects_ragged_columns():
    with pytest.raises(ValueError, match="columns: expected equal lengths"):
        display.table({"a": [1, 2], "b": [1]})


def test_source_shows_the_package_code():
    source = display.Source(display.fmt)
    assert repr(source).startswith("def fmt(")
    assert source._repr_markdown_().startswith("```python\ndef fmt(")


def test_contrast_prints_wrong_beside_right(capsys):
    display.contrast("gradient", torch.tensor([0.497, -0.503]), torch.tensor([0.301, -0.503]))
    assert capsys.readouterr().out == (
        "gradient: note [ 0.4970, -0.5030], correct [ 0.3010, -0.5030]\n"
    )
    display.contrast("word", "Smogid", "sigmoid", names=("typo", "fixed"))
    assert capsys.readouterr().out == "word: typo Smogid, fixed sigmoid\n"


@pytest.mark.parametrize("wrong, right", [(0.25, 0.25), ("same", "same"), ([1.0, 2.0], [1.0, 2.0])])
def test_contrast_fails_the_cell_when_nothing_is_wrong(wrong, right):
    with pytest.raises(AssertionError, match="agree; nothing to correct"):
        display.contrast("value", wrong, right)


def test_contrast_puts_long_values_on_their_own_lines(capsys):
    display.contrast("error", "RuntimeError: " + "x" * 80, "returns 1.0000")
    assert capsys.readouterr().out == (
        "error:\n  note: RuntimeError: " + "x" * 80 + "\n  correct: returns 1.0000\n"
    )


def test_settled_returns_values_that_print_the_same_on_any_device():
    assert display.settled(0.9012, decimals=2) == 0.9012
    values = torch.tensor([0.30, 0.72])
    assert display.settled(values, decimals=1, tolerance=0.01) is values


@pytest.mark.parametrize("value, decimals", [(0.4498, 1), (0.12501, 2), (2.5996, 0)])
def test_settled_rejects_values_near_a_rounding_boundary(value, decimals):
    with pytest.raises(AssertionError, match="rounding boundary"):
        display.settled(value, decimals=decimals)


def test_glue_stores_what_myst_nb_stores(monkeypatch):
    import IPython.display
    import myst_nb.ext.glue

    shown = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda *args, **kwargs: shown.append((args, kwargs)))
    monkeypatch.setattr(myst_nb.ext.glue, "ipy_display",
                        lambda *args, **kwargs: shown.append((args, kwargs)))
    assert display.glue("ratio", torch.tensor(10.0), decimals=1) is None  # no Out[] in a cell
    myst_nb.ext.glue.glue("ratio", "10.0", display=False)
    ours, theirs = shown
    assert ours == theirs
