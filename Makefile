# The two commands a new user needs: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test test-fast index cluster-build bench eval clean-index help

help:
	@echo "make run    start the chat on http://127.0.0.1:7860 (builds the index if missing or stale)"
	@echo "make test   run the whole test suite (real model, real FAISS, real server and browser)"
	@echo "make setup  create .venv and install everything (done by run/test when needed)"
	@echo "make index  update the index from corpus/ (only new and changed articles are embedded)"
	@echo "make eval   retrieval on the held-out writers beside a plain baseline, and the own seed set"
	@echo "make bench  speed benchmarks (see BENCHMARKS.md)"
	@echo "make cluster-build  update the index on a Ray cluster (RAY_ADDRESS, or a local one)"

setup: $(STAMP)

# torch first, pinned: 2.13.0 resolves to the CPU build here; an unpinned torch pulls GBs of CUDA.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,cluster]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) app.py

index: $(STAMP)
	$(PY) -m retrieval build

cluster-build: $(STAMP)
	$(PY) -m retrieval build --cluster ray

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not browser"

# The held-out writers beside the plain baseline (about 20 minutes the first time: each set's
# corpus is built once into ~/.cache/back-pain-retrieval/writer-sets), then the own seed set.
eval: $(STAMP)
	$(PY) -m retrieval eval-writers --writers test
	$(PY) -m retrieval eval tests/eval/seed_questions.jsonl --corpus corpus --index index

bench: $(STAMP)
	$(PY) bench/run_all.py

clean-index:
	rm -rf index
