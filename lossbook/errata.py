"""Helpers for the errata appendix: run a source note's code and say how it fails.

The errata show each mistake of the source notes by running it. Code that raises is part of
the evidence, so these helpers turn an exception into one line of text that the notebook
prints (and nbval compares) instead of a traceback that would stop the notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


def _describe(error: BaseException) -> str:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def run_snippet(source: str, namespace: Mapping | None = None) -> str:
    """Run ``source`` in a fresh namespace (a copy of ``namespace``).

    Returns ``"runs"`` or the first line of the error it raises, e.g.
    ``"SyntaxError: invalid character '、' (U+3001) (<note>, line 1)"``.
    """
    try:
        exec(compile(source, "<note>", "exec"), dict(namespace or {}))
    except Exception as error:  # noqa: BLE001 - reporting any failure is the point
        return _describe(error)
    return "runs"


def outcome(function: Callable, *args, **kwargs) -> str:
    """``"returns <value>"`` formatted by lossbook.display, or the error ``function`` raises."""
    from lossbook.display import fmt

    try:
        value = function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001
        return _describe(error)
    return f"returns {fmt(value)}"
