# The two set-up commands of the README:
#   make main   runs the baseline and its alternative scenarios, then the report
#   make test   installs what the tests need and runs them (what .ci/run calls)
# Both create .venv with Python 3.12 (from pyenv, as .python-version says) on first use.

PYTHON ?= $(shell pyenv which python 2>/dev/null || command -v python3.12 || echo python3.12)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RESULTS ?= results
SEEDS ?= 20

.PHONY: install test lint main clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "netsim needs Python 3.12 or later (pyenv install 3.12.1)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check netsim tests benchmarks

test: $(STAMP) lint
	$(BIN)/python -m pytest

main: $(STAMP)
	$(BIN)/netsim scenarios
	for s in baseline no_intervention forums_only followup_only marketing_forum ideology_forums; do \
		$(BIN)/netsim run scenarios/$$s.toml --seed 1 --out $(RESULTS)/$$s || exit $$?; \
	done

clean:
	rm -rf $(VENV) $(RESULTS)
