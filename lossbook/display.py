"""Printing numbers in the chapters: fixed decimals, no device, the same text on CPU and CUDA.

Every number a chapter prints is a claim that nbval re-checks on each run, so it is printed
through these helpers and never with a bare ``print(tensor)`` (which adds ``device='cuda:0'``
on a GPU and chooses its own precision):

* :func:`fmt` turns a scalar, tensor, array or list into text with ``decimals`` fixed decimals;
* :func:`show` prints ``label: value``;
* :func:`compare` prints a value next to its reference and fails the cell if they disagree;
* :func:`contrast` prints a wrong value next to the right one and fails the cell if they agree;
* :func:`table` prints aligned columns;
* :func:`settled` checks that a result of training prints the same on any device;
* :func:`mean_std` formats one result per seed as ``mean ± std``;
* :func:`show_source` displays a function's source, so the book never drifts from the package;
* :func:`glue` stores a formatted number for the prose (``{glue:text}`name```), so a number
  quoted in the text is re-checked by nbval like any printed one.

A value that rounds to zero prints without a sign (``0.0000``, never ``-0.0000``): its sign
may differ between devices.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch

DECIMALS = 4
EDGE_ITEMS = 3  # like torch: arrays longer than SUMMARISE_ABOVE print their ends and "..."
SUMMARISE_ABOVE = 12
LINE_WIDTH = 88  # longer lines wrap onto one line per value


def _as_array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.is_floating_point():
            value = value.double()  # exact for every float dtype, including bfloat16
        return value.numpy()
    return np.asarray(value)


def _scalar(x, decimals: int) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.{decimals}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def _nested(array: np.ndarray, decimals: int, indent: int, width: int) -> str:
    def cells(a):
        if len(a) > SUMMARISE_ABOVE:
            return list(a[:EDGE_ITEMS]) + [None] + list(a[-EDGE_ITEMS:])
        return list(a)

    if array.ndim == 1:
        parts = ["..." if x is None else _scalar(x, decimals).rjust(width) for x in cells(array)]
        return "[" + ", ".join(parts) + "]"
    rows = cells(array)
    pad = " " * (indent + 1)
    blank = "\n" * (array.ndim - 1)
    text = [
        "..." if row is None else _nested(row, decimals, indent + 1, width) for row in rows
    ]
    return "[" + ("," + blank + pad).join(text) + "]"


def fmt(value, decimals: int = DECIMALS) -> str:
    """Text for ``value`` with ``decimals`` fixed decimals and no device or dtype suffix.

    Scalars print as ``1.3133``; integer and boolean values as themselves; tensors, arrays and
    lists as nested brackets with aligned columns, e.g. ``[[0.3006, -0.5030], [...]]``.
    """
    if isinstance(value, (str, bytes)):
        return str(value)
    array = _as_array(value)
    if array.ndim == 0:
        return _scalar(array.item(), decimals)
    if array.size == 0:
        return "[]"
    width = max(len(_scalar(x, decimals)) for x in array.flat)
    return _nested(array, decimals, 0, width)


def _as_tensor(value) -> torch.Tensor:
    """A CPU tensor that keeps the value's own precision (for dtype-aware tolerances)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    return torch.as_tensor(np.asarray(value))


def show(label: str, value, decimals: int = DECIMALS) -> None:
    """Print ``label: value``; a multi-line value starts on the next line."""
    text = fmt(value, decimals)
    print(f"{label}:\n{text}" if "\n" in text else f"{label}: {text}")


def compare(
    label: str,
    value,
    reference,
    *,
    names: tuple[str, str] = ("lossbook", "torch"),
    decimals: int = DECIMALS,
    atol: float | None = None,
    rtol: float | None = None,
) -> None:
    """Print ``value`` beside ``reference`` and raise ``AssertionError`` unless they agree.

    Agreement is ``torch.testing.assert_close`` (dtype-aware default tolerances unless
    ``atol``/``rtol`` are given; NaNs agree with NaNs). The printed text does not include the
    difference itself, which may differ in the last bits between devices.
    """
    actual, expected = _as_tensor(value), _as_tensor(reference)
    tolerances = {} if atol is None and rtol is None else {"atol": atol or 0.0, "rtol": rtol or 0.0}
    torch.testing.assert_close(
        actual, expected, check_dtype=False, equal_nan=True, msg=lambda m: f"{label}: {m}",
        **tolerances,
    )
    a, b = fmt(value, decimals), fmt(reference, decimals)
    if "\n" in a or "\n" in b:
        print(f"{label} ({names[0]} = {names[1]}):\n{names[0]}:\n{a}\n{names[1]}:\n{b}")
    else:
        print(f"{label}: {names[0]} {a} = {names[1]} {b}")


def contrast(
    label: str,
    wrong,
    right,
    *,
    names: tuple[str, str] = ("note", "correct"),
    decimals: int = DECIMALS,
) -> None:
    """Print a wrong value beside the right one and raise ``AssertionError`` if they agree.

    Values are numbers, tensors or strings (an error message, a corrected word). The errata
    use it: the cell fails if the "wrong" value ever turns out to equal the right one (to
    ``torch.allclose``'s tolerances), so a correction can never go stale.
    """
    if _agree(wrong, right):
        raise AssertionError(f"{label}: {names[0]} and {names[1]} agree; nothing to correct")
    a, b = fmt(wrong, decimals), fmt(right, decimals)
    line = f"{label}: {names[0]} {a}, {names[1]} {b}"
    if "\n" in a or "\n" in b or len(line) > LINE_WIDTH:
        print(f"{label}:\n  {names[0]}: {a}\n  {names[1]}: {b}".replace("\n[", "\n  ["))
    else:
        print(line)


def settled(value, decimals: int = DECIMALS, tolerance: float | None = None):
    """Return ``value`` unchanged after checking that it prints the same on any device.

    A number that comes out of training (an accuracy, a mean IoU) moves in its last bits
    between CPU and CUDA. Printed with ``decimals`` decimals, it keeps its text as long as
    every entry lies more than ``tolerance`` from a rounding boundary; otherwise this raises
    ``AssertionError``, and the author prints fewer decimals instead of a claim that a GPU
    could contradict. The default tolerance is a fifth of the last printed digit
    (0.002 at 2 decimals). Use it inside :func:`show` or :func:`table`:
    ``show("test accuracy", settled(accuracy, decimals=2))``.
    """
    array = np.atleast_1d(_as_array(value)).astype(np.float64).ravel()
    scale = 10.0**decimals
    tolerance = 0.2 / scale if tolerance is None else tolerance
    for x in array:
        low, high = np.round((x - tolerance) * scale), np.round((x + tolerance) * scale)
        if low != high:
            raise AssertionError(
                f"{x!r} is within {tolerance} of a rounding boundary at {decimals} decimals: "
                "another device may print it differently; print fewer decimals")
    return value


def mean_std(values, decimals: int = DECIMALS, tolerance: float | None = None) -> str:
    """``"mean ± std"`` of one result per seed (sample std, ``ddof=1``), each :func:`settled`.

    Print it with :func:`show` or in a :func:`table` column: ``mean_std(accuracies, 2)``.
    ``tolerance`` is passed to :func:`settled`: how far another device may move the value.
    The default (a fifth of the last digit) suits float32 training; a chapter that trains in
    float64, where CPU and CUDA differ in the last bits only, may state a tighter one
    (``tolerance=1e-6``) and print more of its results.
    """
    array = np.asarray(_as_array(values), dtype=np.float64).ravel()
    if array.size < 2:
        raise ValueError(f"values: expected one result per seed (at least 2), got {array.size}")
    mean = settled(array.mean(), decimals, tolerance)
    std = settled(array.std(ddof=1), decimals, tolerance)
    return f"{_scalar(mean, decimals)} ± {_scalar(std, decimals)}"


def _agree(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = _as_tensor(a).double(), _as_tensor(b).double()
    return a.shape == b.shape and torch.allclose(a, b, equal_nan=True)


def table(columns: Mapping[str, Sequence], decimals: int = DECIMALS) -> None:
    """Print columns of equal length as an aligned text table.

    ``columns`` maps a header to its values (a list, array or 1-D tensor); strings are printed
    as they are, numbers with ``decimals`` decimals.
    """
    headers = list(columns)
    values = [[v if isinstance(v, str) else fmt(v, decimals) for v in _rows(column)]
              for column in columns.values()]
    lengths = {len(v) for v in values}
    if len(lengths) > 1:
        raise ValueError(f"columns: expected equal lengths, got {sorted(lengths)}")
    widths = [max([len(h)] + [len(v) for v in col]) for h, col in zip(headers, values)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in zip(*values):
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))


def _rows(column) -> list:
    if isinstance(column, torch.Tensor):
        return list(column.detach().cpu().unbind(0)) if column.dim() else [column]
    return list(column)


class Source:
    """A function's source shown as a highlighted code block (Markdown) in the notebook.

    Its plain-text form is the source itself, so nbval notices when the package changes and the
    stored notebook output would show stale code.
    """

    def __init__(self, obj):
        self.text = inspect.getsource(obj).rstrip() + "\n"

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.text}```"

    def __repr__(self) -> str:
        return self.text


def show_source(obj) -> None:
    """Display the source of a lossbook function or class."""
    from IPython.display import display

    display(Source(obj))


GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, value, decimals: int = DECIMALS) -> None:
    """Store ``value``, formatted by :func:`fmt`, for the prose to quote as ``{glue:text}`name```.

    The same output as ``myst_nb.glue(name, text, display=False)`` — myst-nb finds it when the
    book is built and nbval compares it on every run — without needing myst-nb at run time (it is
    a book-building dependency, absent on Colab). Prints nothing and returns nothing, so a cell
    that ends in a ``glue`` shows no ``Out[]``; a number the reader should see goes through
    :func:`show` as well.
    """
    from IPython.display import display

    text = value if isinstance(value, str) else fmt(value, decimals)
    display({f"{GLUE_PREFIX}text/plain": repr(text)}, raw=True,
            metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}})
