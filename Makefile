# Every target sets itself up: a missing .venv is created and the pinned stack installed.
# Variables from the command line reach the recipes as environment data ("$$VAR", quoted), never as shell text:
# their literal text is taken (`override ... := $(value ...)`: a make function in a value is never run), and
# PROFILE, RESULTS, ID, N, PYTHON, SCHEDULER and DASK_WORKERS are checked by scripts/check_make_vars.sh first (one
# line and exit 2 if bad).
# The internal variables cannot be overridden from the command line.
PROFILE ?= quick
PYTHON ?= python3
RESULTS ?= results
N ?= 1
ID ?=
SCHEDULER ?=
DASK_WORKERS ?=
override PROFILE := $(value PROFILE)
override PYTHON := $(value PYTHON)
override RESULTS := $(value RESULTS)
override N := $(value N)
override ID := $(value ID)
override SCHEDULER := $(value SCHEDULER)
override DASK_WORKERS := $(value DASK_WORKERS)
export PROFILE PYTHON RESULTS N ID SCHEDULER DASK_WORKERS
override VENV := .venv
override PY := .venv/bin/python
override STAMP := .venv/.installed
override CHECK := bash scripts/check_make_vars.sh
# the CPU kernels pinned to AVX2 for everything that computes (reports.harness.kernels says why)
export ATEN_CPU_CAPABILITY := avx2
export ONEDNN_MAX_CPU_ISA := AVX2
export OPENBLAS_CORETYPE := Haswell
export MKL_ENABLE_INSTRUCTIONS := AVX2
export NPY_DISABLE_CPU_FEATURES := X86_V4 AVX512_ICL AVX512_SPR
export SUITE_KERNELS_PINNED := 1

.PHONY: report test test-slow test-ci test-browser claim repro repro-all bench cnn-bench gpu-evidence evidence \
	verify-evidence system-deps clean

$(STAMP): requirements.txt pyproject.toml
	@$(CHECK)
	test -x $(PY) || "$$PYTHON" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

system-deps:
	@bash scripts/system_deps.sh

# the report is built even when an experiment could not run (it shows as not run); the exit status says so
report: $(STAMP) system-deps
	@$(CHECK)
	$(PY) -m reports.run --profile "$$PROFILE" --results "$$RESULTS"; status=$$?; \
	$(PY) -m reports.power --profile "$$PROFILE" --results "$$RESULTS" || status=$$?; \
	$(PY) -m reports.build --profile "$$PROFILE" --results "$$RESULTS" && exit $$status

# the fast set (markers come from the experiments' declarations); CI runs the slow set after it
test: $(STAMP) system-deps
	$(PY) -m pytest -q -n 2 -m "not slow and not browser"

test-slow: $(STAMP) system-deps
	$(PY) -m pytest -q -n 2 -m "slow and not browser" --durations=20

# CI's share of the slow set: all but the long tests (real Dask clusters, kill -9 loops; the report runs real Dask)
test-ci: $(STAMP) system-deps
	$(PY) -m pytest -q -n 2 -m "slow and not browser and not long" --durations=20

# the built report in Chromium (Playwright): run after `make report`
test-browser: $(STAMP) system-deps
	$(PY) -m pytest -q -m browser

claim: $(STAMP)
	@$(CHECK) claim
	$(PY) -m reports.run --profile "$$PROFILE" --results "$$RESULTS" --claim "$$ID" --force

# every cheap experiment and a random sample of the costly ones, bit for bit; repro-all: every one
repro: $(STAMP)
	@$(CHECK)
	$(PY) -m reports.repro --profile "$$PROFILE" --results "$$RESULTS"

repro-all: $(STAMP)
	@$(CHECK)
	$(PY) -m reports.repro --profile "$$PROFILE" --results "$$RESULTS" --all

# the committed CPU evidence (reports/evidence/): compute the missing chunks (hours; resumable, commit as they come)
evidence: $(STAMP) system-deps
	@$(CHECK)
	$(PY) -m reports.committed compute --jobs 2 $${SCHEDULER:+--scheduler "$$SCHEDULER"} \
		$${DASK_WORKERS:+--dask-workers "$$DASK_WORKERS"}

# recompute N randomly chosen committed chunks in all (across the experiments) and compare them with what is committed
verify-evidence: $(STAMP) system-deps
	@$(CHECK)
	$(PY) -m reports.committed verify --n "$$N" $${SCHEDULER:+--scheduler "$$SCHEDULER"} \
		$${DASK_WORKERS:+--dask-workers "$$DASK_WORKERS"}

bench: $(STAMP)
	$(PY) -m sim.bench

# the CNN trainer's variants against the CPU's own matmul peaks: the native kernels, then the AVX2-pinned ones that
# committed evidence uses (the last line is that run's JSON); cnn_experiments.bench is the GPU-scale benchmark
cnn-bench: $(STAMP) system-deps
	$(PY) -m cnn_experiments.cpu_bench
	ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 $(PY) -m cnn_experiments.cpu_bench --skip bf16

# On a CUDA machine: the full-profile CNN evidence, then copied into reports/evidence/ for the report.
gpu-evidence: $(STAMP) system-deps
	OUT=gpu-out PYTHON=$(PY) bash scripts/gpu_evidence.sh
	mkdir -p reports/evidence && cp -r gpu-out/evidence/. reports/evidence/ && cp gpu-out/cnn_bench.json reports/evidence/

clean:
	rm -rf results reports/out
