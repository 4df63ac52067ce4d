# Two commands do everything on a fresh clone:
#   make example   — install, then decide the example incidents, register a year in order, assess it
#   make test      — install, then run every check (pytest incl. scenarios on both engines, ruff, mypy)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: example test install bench report clean

$(BIN)/errorrules: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

install: $(BIN)/errorrules

example: install
	$(BIN)/errorrules check rulesets/party-office
	$(BIN)/python examples/office_summary.py
	$(BIN)/python examples/register_year.py

test: install
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy --strict src/errorrules
	$(BIN)/errorrules check rulesets/party-office
	$(BIN)/errorrules test rulesets/party-office --engine both --coverage
	$(BIN)/errorrules check rulesets/cn-traffic-points-2022
	$(BIN)/errorrules test rulesets/cn-traffic-points-2022 --engine both --coverage
	# The DMN TCK (compliance level 2) beside the repository, as CI has it; pytest enforces the count.
	if [ -d ../shared/dmn-tck ]; then $(BIN)/errorrules tck ../shared/dmn-tck | tail -n 1; fi
	$(BIN)/pytest -q

# The year-end assessment of the example year as one self-contained HTML file.
report: install
	mkdir -p out
	$(BIN)/errorrules assess rulesets/party-office examples/year-2026.jsonl --period 2026 --format html --out out/assessment-2026.html

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
