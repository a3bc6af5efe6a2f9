# Every target sets itself up: a missing .venv is created and the pinned stack installed.
PROFILE ?= quick
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RESULTS ?= results

.PHONY: report test test-slow test-browser claim repro bench cnn-bench gpu-evidence system-deps clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

system-deps:
	@bash scripts/system_deps.sh

# the report is built even when an experiment could not run (it shows as not run); the exit status says so
report: $(STAMP) system-deps
	$(PY) -m reports.run --profile $(PROFILE) --results $(RESULTS); status=$$?; \
	$(PY) -m reports.power --profile $(PROFILE) --results $(RESULTS) || status=$$?; \
	$(PY) -m reports.build --profile $(PROFILE) --results $(RESULTS) && exit $$status

# the fast set (markers come from the experiments' declarations); CI runs the slow set after it
test: $(STAMP) system-deps
	$(PY) -m pytest -q -n 2 -m "not slow and not browser"

test-slow: $(STAMP) system-deps
	$(PY) -m pytest -q -n 2 -m "slow and not browser"

# the built report in Chromium (Playwright): run after `make report`
test-browser: $(STAMP) system-deps
	$(PY) -m pytest -q -m browser

claim: $(STAMP)
	@test -n "$(ID)" || (echo "usage: make claim ID=<claim id> [PROFILE=quick|full]" >&2; exit 2)
	$(PY) -m reports.run --profile $(PROFILE) --results $(RESULTS) --claim $(ID) --force

repro: $(STAMP)
	$(PY) -m reports.repro --profile $(PROFILE) --results $(RESULTS)

bench: $(STAMP)
	$(PY) -m sim.bench

cnn-bench: $(STAMP) system-deps
	$(PY) -m cnn_experiments.bench

# On a CUDA machine: the full-profile CNN evidence, then copied into reports/evidence/ for the report.
gpu-evidence: $(STAMP) system-deps
	OUT=gpu-out PYTHON=$(PY) bash scripts/gpu_evidence.sh
	mkdir -p reports/evidence && cp -r gpu-out/evidence/. reports/evidence/ && cp gpu-out/cnn_bench.json reports/evidence/

clean:
	rm -rf results reports/out
