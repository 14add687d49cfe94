# carehub — the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test lint typecheck pytest system-deps bench fuzz faults cluster-faults contract clean

## venv: create or refresh .venv with the project and its dev tools
venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || \
		{ echo "carehub needs Python 3.11 (found $$($(PYTHON) --version)); set PYTHON=python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## demo: hub + embedded broker + SQLite + dashboard + a simulated station; prints URL and login
demo: venv
	$(BIN)/carehub sim demo

## system-deps: install/start what the tests need outside Python (mosquitto, PostgreSQL)
system-deps:
	@bash .ci/system-deps.sh

## test: lint, type-check and run the whole test suite
test: venv system-deps lint typecheck pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy carehub hub alerts dashboard device_sim training bench

pytest: venv
	$(BIN)/pytest -q -n 2 --dist loadgroup --doctest-modules carehub hub alerts dashboard device_sim training bench tests

## bench: every benchmark (about 15 min), then each figure beside its goal; results go to
## bench/results.json; exits non-zero when a goal is missed
bench: venv system-deps
	$(BIN)/python -m bench

## faults: the fault drill, longer: more kills, longer outages, closer to real time
FAULT_SCALE ?= 2
FAULT_SPEED ?= 4
faults: venv system-deps
	rm -f bench/faults.jsonl
	CAREHUB_FAULT_SCALE=$(FAULT_SCALE) CAREHUB_FAULT_SPEED=$(FAULT_SPEED) \
		CAREHUB_FAULT_REPORT=bench/faults.jsonl $(BIN)/pytest -q -s -m faults tests/faults
	$(BIN)/python -m tests.faults.table bench/faults.jsonl

## cluster-faults: the cluster drill (2 bridges, 3 workers: a SIGKILL, a pause past the lease,
## a worker joining) and its control run without fencing; the table in bench/faults-cluster.jsonl
cluster-faults: venv system-deps
	rm -f bench/faults-cluster.jsonl
	CAREHUB_FAULT_SPEED=$(FAULT_SPEED) CAREHUB_FAULT_REPORT=bench/faults-cluster.jsonl \
		$(BIN)/pytest -q -s tests/faults/test_cluster.py

## fuzz: 10⁶ mutated device messages through decode, ingest and each store (SQLite,
## PostgreSQL); exits non-zero on a crash or an oracle violation; crashes go to fuzz-corpus/
FUZZ_COUNT ?= 1000000
FUZZ_SEED  ?= 1
fuzz: venv system-deps
	$(BIN)/python -m tests.fuzz --count $(FUZZ_COUNT) --seed $(FUZZ_SEED) --backend sqlite,postgres

## contract: regenerate the JSON Schemas and AsyncAPI document in docs/contract/
contract: venv
	$(BIN)/carehub contract generate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
