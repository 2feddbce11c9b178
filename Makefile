# outcome-workbench: the two quick-start commands are `make reports` and `make test`.
# Each sets up a local .venv with pip from the pinned requirements.lock when it is missing or stale.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO   := data/demo
JOBS   ?=

.PHONY: reports gemeente-reports test lab bench demo check-system lock clean help

help:
	@echo "make reports   build the demo data and write the demo reports, full and short edition (latest complete year), to reports/"
	@echo "make gemeente-reports  write the demo's gemeente and jeugdregio reports (latest complete year) to reports/"
	@echo "make test      run the test suite"
	@echo "make lab       start JupyterLab with the explorer ready to open"
	@echo "make bench     run the benchmarks (minutes; prints ratios against baselines)"
	@echo "make demo      (re)build the demo data in $(DEMO)"
	@echo "make lock      re-pin requirements.lock from the current .venv"
	@echo "make clean     remove the demo data, reports/ and the results cache (\$${XDG_CACHE_HOME:-~/.cache}/outcome-workbench)"

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)" || \
		{ echo "error: Python 3.11 or newer is needed as '$(PYTHON)' (set PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || \
		{ echo "error: could not create $(VENV); on Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

check-system: $(STAMP)
	@$(PY) scripts/check_system.py

$(DEMO)/.built: $(STAMP) outcome_analysis/contract/demo.py outcome_analysis/data/mappings/demo.csv
	$(PY) -m outcome_analysis.demo --out $(DEMO)
	@touch $@

demo: $(DEMO)/.built

reports: check-system $(DEMO)/.built
	$(PY) run_reports.py --data $(DEMO) --out reports --figures --edition both $(if $(JOBS),--jobs $(JOBS))

gemeente-reports: check-system $(DEMO)/.built
	$(PY) run_reports.py --data $(DEMO) --out reports --for region $(if $(JOBS),--jobs $(JOBS))
	$(PY) run_reports.py --data $(DEMO) --out reports --for municipality $(if $(JOBS),--jobs $(JOBS))

test: $(STAMP)
	$(PY) scripts/check_system.py --quiet
	$(PY) -m pytest -n 2 --dist loadfile -q --durations=20 --doctest-modules outcome_analysis tests

# Jupyter refuses to run as root without --allow-root (containers and CI machines run as root).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP) $(DEMO)/.built
	$(VENV)/bin/jupyter lab $(ALLOW_ROOT) notebooks/explorer.ipynb

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

lock: $(STAMP)
	@{ head -3 requirements.lock; $(PY) -m pip freeze --exclude-editable | sort -f; $(PY) -m pip freeze --all | grep -i "^setuptools=="; } > requirements.lock.new
	@mv requirements.lock.new requirements.lock
	@echo "requirements.lock updated; update environment.yml's pins to match (make test checks)"

clean:
	rm -rf $(DEMO) reports/* .pytest_cache
	rm -rf "$${XDG_CACHE_HOME:-$$HOME/.cache}/outcome-workbench"
	@touch reports/.gitkeep
