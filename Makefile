# Two commands do everything on a fresh clone:
#   make example   — install, then decide the example incidents, register a year in order, assess it
#   make test      — the whole suite on every Python 3.11–3.14 found (what CI runs): `make check`
#                    once per Python, each in .nox/<python>/
# `make check` is the suite on one Python — pytest incl. scenarios on both engines, ruff, mypy,
# the API reference — PY (python3) in VENV (.venv).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# durable-rules as pyproject.toml pins it (one place for the release).
DURABLE := $(shell sed -n 's/^ *"\(durable-rules==[0-9.]*\).*/\1/p' pyproject.toml)

.PHONY: example test check install docs bench report clean

# durable-rules' C core calls PyEval_CallObject, which Python 3.13 removed, so pip leaves it out
# there (pyproject.toml). Where it does not import after the install, it is built here from its
# sdist with the call renamed: CPPFLAGS, because its setup.py overwrites CFLAGS, and
# --no-binary --no-cache-dir, so that no wheel cached without the flag is taken instead. On
# Python 3.11 and 3.12 it imports as installed and this step does nothing.
$(BIN)/errorrules: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench,docs,postgres,serve]'
	$(BIN)/python -c 'import durable.engine' 2>/dev/null \
	  || CPPFLAGS=-DPyEval_CallObject=PyObject_CallObject $(BIN)/pip install --quiet \
	     --force-reinstall --no-binary durable-rules --no-cache-dir '$(DURABLE)'
	$(BIN)/python -c 'import durable.engine'
	touch $@

install: $(BIN)/errorrules

example: install
	$(BIN)/errorrules check rulesets/party-office
	$(BIN)/python examples/office_summary.py
	$(BIN)/python examples/register_year.py

check: install
	$(BIN)/errorrules engines
	$(BIN)/ruff check src tests benchmarks examples noxfile.py
	$(BIN)/ruff format --check src tests benchmarks examples noxfile.py
	$(BIN)/mypy --strict src/errorrules
	$(BIN)/errorrules check rulesets/party-office
	$(BIN)/errorrules test rulesets/party-office --engine both --coverage
	$(BIN)/errorrules check rulesets/cn-traffic-points-2022
	$(BIN)/errorrules test rulesets/cn-traffic-points-2022 --engine both --coverage
	# The DMN TCK (compliance level 2) beside the repository, as CI has it; pytest enforces the count.
	if [ -d ../shared/dmn-tck ]; then $(BIN)/errorrules tck ../shared/dmn-tck | tail -n 1; fi
	# The API reference from the docstrings (docs/api.md, mkdocs.yml): a warning is an error.
	$(BIN)/mkdocs build --strict --quiet
	$(BIN)/pytest -q

# The API reference alone, into build/site/.
docs: install
	$(BIN)/mkdocs build --strict

# What CI runs: `make check` on each Python 3.11–3.14 this machine has (noxfile.py; a missing
# one is reported and skipped), each in its own venv under .nox/.
test:
	test -x .nox/nox/bin/nox || ($(PY) -m venv .nox/nox && .nox/nox/bin/pip install --quiet 'nox==2026.10.20')
	.nox/nox/bin/nox

# The year-end assessment of the example year as one self-contained HTML file.
report: install
	mkdir -p out
	$(BIN)/errorrules assess rulesets/party-office examples/year-2026.jsonl --period 2026 --format html --out out/assessment-2026.html

bench: install
	$(BIN)/python benchmarks/run.py
	# The service: decide over HTTP (1, 2, 4 workers) beside in-process decide(), and register
	# appends on SQLite and PostgreSQL; its section of docs/performance.md.
	$(BIN)/python benchmarks/serve.py

clean:
	rm -rf $(VENV) .nox build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
