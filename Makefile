# lossbook: two commands do all set-up on a fresh machine (see README.md).
#   make book   set up .venv, build the HTML book, print where it is
#   make test   set up .venv, run the unit tests and nbval over every chapter
# For a course (chapters/A4_course.md): make student, make student-book, make course.
# Both are idempotent: the virtual environment is made once and reinstalled only when
# pyproject.toml changes.
#
# TORCH picks the PyTorch requirement installed first, e.g. a CPU-only build:
#   make test TORCH=torch==2.13.0

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch
BIN := $(VENV)/bin
NOTEBOOKS ?= $(wildcard chapters/*.ipynb)

.PHONY: book test browser-check execute sync-notebooks student student-book course lint bench compile-check gpu-check clean

book: $(VENV)/.book-installed
	$(BIN)/jupyter-book build . --keep-going
	@echo "The book is at: file://$(abspath _build/html/index.html)"

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

# Build the book and check every page in headless Chromium: math typeset, figures present,
# Colab and download buttons, citations resolved; screenshots land in _build/screenshots.
# Installs Debian's chromium package when it is missing (Debian/Ubuntu, as root).
browser-check: book
	@command -v chromium >/dev/null || apt-get install -y chromium \
		|| (apt-get update && apt-get install -y chromium)
	$(BIN)/python scripts/check_html.py _build/html

# Re-execute notebooks top to bottom and store their outputs (never hand-edit outputs).
execute: $(VENV)/.dev-installed
	$(BIN)/python scripts/notebooks.py execute $(NOTEBOOKS)

# Rewrite every notebook's Colab cell and metadata from _config.yml (no execution).
sync-notebooks: $(VENV)/.dev-installed
	$(BIN)/python scripts/notebooks.py sync $(NOTEBOOKS)

# The student version (solutions and lossbook's answers removed, graders kept) as a book
# source tree in _build/student: push it to _config.yml's student_branch (README.md).
student: $(VENV)/.dev-installed
	rm -rf _build/student
	$(BIN)/python scripts/student.py _build/student

# The book to publish: built from the student version, its Colab buttons on student_branch.
student-book: student
	$(BIN)/jupyter-book build _build/student --keep-going
	@echo "The student book is at: file://$(abspath _build/student/_build/html/index.html)"

# An nbgrader course directory in _build/course (chapters/A4_course.md); run nbgrader there
# with the environment active (nbgrader calls `alembic` from it): PATH=$(abspath $(BIN)):$$PATH
course: $(VENV)/.dev-installed
	rm -rf _build/course
	$(BIN)/python scripts/student.py --course _build/course

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check lossbook tests scripts

# Performance: every benchmarks/*.py reports lossbook/torch time and memory ratios (minutes;
# the largest configurations need several GB of memory: run them on a quiet machine).
# Each script prints a table, writes benchmarks/results/, and exits 1 when it misses a target;
# every script runs, and the target fails if one of them did.
bench: $(VENV)/.dev-installed
	@status=0; for script in benchmarks/*.py; do echo "== $$script"; \
	  OMP_NUM_THREADS=1 $(BIN)/python $$script || status=1; done; exit $$status

# Every catalogued loss compiled with inductor (make test compiles all with aot_eager and a
# subset with inductor: see tests/test_compile.py); about ten minutes on two cores.
compile-check: $(VENV)/.dev-installed
	LOSSBOOK_COMPILE_ALL=1 $(BIN)/python -m pytest -q tests/test_compile.py

# The tests and every chapter on CUDA (LOSSBOOK_DEVICE=cuda), with a summary of the cells whose
# printed output differs from the stored CPU output; refuses (exit 2) without CUDA.
gpu-check: $(VENV)/.dev-installed
	$(BIN)/python scripts/gpu_check.py

clean:
	rm -rf _build

$(VENV)/.torch-installed:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	touch $@

$(VENV)/.book-installed: pyproject.toml | $(VENV)/.torch-installed
	$(BIN)/python -m pip install --quiet -e ".[book]"
	$(BIN)/python scripts/warm_caches.py
	touch $@

# Tests build the book too (tests/test_book.py), so they install both extras.
$(VENV)/.dev-installed: pyproject.toml | $(VENV)/.torch-installed
	$(BIN)/python -m pip install --quiet -e ".[dev,book]"
	$(BIN)/python scripts/warm_caches.py
	touch $@
	touch $(VENV)/.book-installed
