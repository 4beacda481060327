"""Build one-time caches before any notebook runs.

Matplotlib writes "building the font cache" to stderr on its first import in a fresh
environment; nbval compares stderr, so the first chapter to import it would fail. Importing
it once here, at install time, keeps that message out of every notebook run.
"""

import matplotlib.pyplot  # noqa: F401

print("caches warm")
