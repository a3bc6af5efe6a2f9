# Every target sets itself up: a missing .venv is created and the pinned stack installed.
PROFILE ?= quick
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RESULTS ?= results

.PHONY: report test claim repro bench system-deps clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

system-deps:
	@bash scripts/system_deps.sh

report: $(STAMP) system-deps
	$(PY) -m reports.run --profile $(PROFILE) --results $(RESULTS)
	$(PY) -m reports.build --profile $(PROFILE) --results $(RESULTS)

test: $(STAMP) system-deps
	$(PY) -m pytest -q -n 2

claim: $(STAMP)
	@test -n "$(ID)" || (echo "usage: make claim ID=<claim id> [PROFILE=quick|full]" >&2; exit 2)
	$(PY) -m reports.run --profile $(PROFILE) --results $(RESULTS) --claim $(ID) --force

repro: $(STAMP)
	$(PY) -m reports.repro --profile $(PROFILE) --results $(RESULTS)

bench: $(STAMP)
	$(PY) -m sim.bench

clean:
	rm -rf results reports/out
