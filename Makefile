# The course's commands. Run `make help` for the list.
#   make lab    start JupyterLab on the student workspace, a copy of notebooks/ (offline data by default)
#   make test   install what is needed and run every test in quick mode
#   make check NOTEBOOK=01_data_transforms    the checks of one notebook (make release NOTEBOOK=... first)
#
# TORCH_SPEC chooses how PyTorch is installed when the virtual environment lacks it:
#   plain `torch` by default (on Linux, PyPI's build includes CUDA: a multi-GB download);
#   on a CPU-only machine, e.g. TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu", or the
#   README's TORCH_SPEC="torch==2.13.0" where the package registry serves that version as a CPU wheel (as in CI).

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch
EXTRAS ?= lab,instructor,test
# e.g. VENV_FLAGS=--system-site-packages to reuse the torch a GPU image already has
VENV_FLAGS ?=
LAB_ARGS ?=
# one notebook (its assignment name) for `make release` and `make check`; empty: every notebook
NOTEBOOK ?=
# more pytest options for `make check`, e.g. CHECK_ARGS="-x --no-roundtrip"
CHECK_ARGS ?=

PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.course-installed

.PHONY: help install lab instructor test check release data figures weights bench clean

help:
	@echo "make install     only create .venv/ and install the course (every other target does it when needed)"
	@echo "make lab         start JupyterLab on workspace/, your copy of notebooks/ (students; prepares offline data)"
	@echo "make instructor  register the assignments in gradebook.db, then start JupyterLab on the repository root with nbgrader's instructor tools"
	@echo "make test        run the whole test suite in quick mode"
	@echo "make release     regenerate notebooks/ from solutions/ with nbgrader (NOTEBOOK=<name>: that one only)"
	@echo "make check NOTEBOOK=<name>  one notebook's checks: its checkers' tests, points, partial answers, release, round trip"
	@echo "make data        download the real Montgomery set (needs internet)"
	@echo "make figures     redraw every teaching figure into assets/ and embed them in solutions/"
	@echo "make weights     retrain the shipped CFCM34 weights on the real Montgomery set (about ten CPU minutes)"
	@echo "make bench       run the speed and memory benchmarks"
	@echo "variables: PYTHON=$(PYTHON) VENV=$(VENV) TORCH_SPEC='$(TORCH_SPEC)' VENV_FLAGS='$(VENV_FLAGS)' LAB_ARGS='$(LAB_ARGS)'"

$(PY):
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)

# Reinstalled whenever pyproject.toml changes. torch goes first, and only when missing,
# so an environment that already has one (Colab, a GPU image) keeps it.
$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install $(TORCH_SPEC)
	$(PY) -m pip install -e ".[$(EXTRAS)]"
	touch $@

install: $(INSTALLED)

lab: $(INSTALLED)
	$(PY) tools/start_lab.py --student $(LAB_ARGS)

instructor: $(INSTALLED)
	$(PY) tools/start_lab.py --instructor $(LAB_ARGS)

test: $(INSTALLED)
	COURSE_QUICK=1 MPLBACKEND=Agg $(PY) -m pytest tests

release: $(INSTALLED)
	$(PY) tools/notebook_header.py $(NOTEBOOK)
	$(PY) tools/embed_figures.py $(NOTEBOOK)
	$(PY) tools/release.py $(NOTEBOOK)

check: $(INSTALLED)
	@test -n "$(NOTEBOOK)" || { echo "make check NOTEBOOK=<name>, e.g. make check NOTEBOOK=01_data_transforms"; exit 2; }
	$(PY) tools/check_notebook.py $(NOTEBOOK) $(CHECK_ARGS)

data: $(INSTALLED)
	$(PY) -m course_lib data download

figures: $(INSTALLED)
	MPLBACKEND=Agg $(PY) -m course_lib figures assets
	$(PY) tools/embed_figures.py

weights: $(INSTALLED)
	$(PY) tools/make_weights.py $(if $(DATA),--data $(DATA))

bench: $(INSTALLED)
	MPLBACKEND=Agg $(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
