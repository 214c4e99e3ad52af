# Two commands for a fresh machine: `make book` and `make test` (see README.md).
# Both create .venv from requirements.txt when it is missing or out of date.

SHELL := bash
# A recipe line that pipes into tee fails when the command before the pipe fails.
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The build must not depend on the wall clock: a fixed epoch (2026-01-01) for
# every tool that honours it, so two clean builds give identical files.
export SOURCE_DATE_EPOCH ?= 1767225600
export PYTHONHASHSEED := 0
# One BLAS thread: the book's matrices are small, so threads only compete (a
# 200-layer run took 7 s instead of 0.2 s with other work on the 2 cores), and
# a fixed thread count keeps floating-point summation order, hence every digit, fixed.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
# The venv's jupyter and kernel come first, whatever else is on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
JB_STRICT := jupyter-book build . --builder html -W -n --keep-going
# The PDF: LaTeX through xelatex (see `latex:` in _config.yml). Both builders share
# _build/.doctrees, so after an HTML build the PDF reuses its executed pages: every
# notebook runs once per `make test`. Sphinx rereads (and so re-executes) only pages whose
# source, or a gradlab module they import (_ext/gradlab_deps.py), changed since.
JB_PDF := jupyter-book build . --builder pdflatex -W -n --keep-going
# What the PDF needs from Debian; the same list is in .ci/run and README.md ("PDF").
PDF_DEBS := texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
  texlive-xetex texlive-lang-chinese texlive-plain-generic latexmk xindy tex-gyre \
  fonts-freefont-otf fonts-noto-cjk poppler-utils
PDF_MISSING := $(strip $(foreach t,xelatex latexmk xindy pdfinfo pdftotext pdfimages,$(if $(shell command -v $(t) 2>/dev/null),,$(t))))
# Under CI (CI set, and not 0/false/no) a missing tool fails `make pdf` instead of skipping it.
ON_CI := $(filter-out 0 false False FALSE no,$(CI))

.PHONY: book test unit strict pdf bench coverage clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python >= 3.10 is required, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## book: build the HTML site strictly into _build/html, incrementally: a page is re-executed
## when its source or any gradlab module changed; with nothing changed nothing executes.
book: $(STAMP)
	$(JB_STRICT)
	@echo
	@echo "The book is at: file://$(CURDIR)/_build/html/index.html"

## test: unit tests (with coverage) beside the strict build of the whole book, then its PDF.
## The notebooks execute one at a time on one BLAS thread, so the unit tests take the second core.
test: $(STAMP)
	$(MAKE) --no-print-directory --output-sync=line -j2 unit strict
	$(MAKE) --no-print-directory pdf

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not built_book and not pdf" --cov=gradlab --cov-report=term-missing:skip-covered

strict: $(STAMP)
	rm -rf _build && mkdir -p _build/logs
	$(JB_STRICT) 2>&1 | tee _build/logs/html.log
	$(BIN)/python -m pytest -m built_book -q -p no:cacheprovider

## pdf: the whole book as one PDF through xelatex into _build/latex/, then tests/test_pdf.py.
ifeq ($(PDF_MISSING),)
pdf: $(STAMP)
	rm -rf _build/latex && mkdir -p _build/logs
	@start=$$(date +%s); $(JB_PDF) 2>&1 | tee _build/logs/pdf.log && echo "PDF built in $$(( $$(date +%s) - start )) s"
	$(BIN)/python -m pytest -m pdf -q -p no:cacheprovider
	@echo
	@echo "The PDF is at: $(CURDIR)/$$(ls _build/latex/*.pdf)"
else ifneq ($(ON_CI),)
pdf:
	@echo "ERROR: CI builds the PDF, but $(PDF_MISSING) not found: apt-get install $(PDF_DEBS)" >&2; exit 1
else
pdf:
	@echo "SKIPPED the PDF: $(PDF_MISSING) not found. To build it: sudo apt-get install $(PDF_DEBS)"
endif

## bench: gradlab's forward+backward against the same matrix products alone (one BLAS thread).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mlp.py

clean:
	rm -rf _build .pytest_cache .hypothesis .coverage
