# The two set-up commands of the README:
#   make main   runs the baseline and its alternative scenarios, then the report
#   make test   installs what the tests need and runs them (what .ci/run calls)
# Both create .venv with Python 3.12 (from pyenv, as .python-version says) on first use.

PYTHON ?= $(shell pyenv which python 2>/dev/null || command -v python3.12 || echo python3.12)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
RESULTS ?= results/main
REPLICATES ?= 50
MAIN_SCENARIOS := $(addprefix scenarios/,$(addsuffix .toml,baseline no_intervention forums_only \
	followup_only intensive_followup province_forum marketing_forum ideology_forums))

# Debian packages the project needs beyond Python: a font with Thai glyphs for charts and
# the page (fonts-thai-tlwg), and Chromium for the browser tests. Installed with apt-get
# (as root, or through sudo) only when missing.
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get
APT_UPDATED := /tmp/.netsim-apt-updated

.PHONY: install warm test lint main clean fonts browser ui ui-assets

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "netsim needs Python 3.12 or later (pyenv install 3.12.1)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

fonts:
	@[ -d /usr/share/fonts/truetype/tlwg ] || { [ -f $(APT_UPDATED) ] || { $(APT) update -qq && touch $(APT_UPDATED); }; \
		$(APT) install -y -qq fonts-thai-tlwg > /dev/null; }

browser:
	@[ -x /usr/bin/chromium ] || { [ -f $(APT_UPDATED) ] || { $(APT) update -qq && touch $(APT_UPDATED); }; \
		$(APT) install -y -qq chromium > /dev/null; }

# The planner's page's browser files (the npm packages Solara's page asks its CDN for), packed
# once with npm into the folder Solara's asset proxy reads (.venv/share/solara/cdn), so the
# page never fetches anything at run time. The list follows the installed Solara version;
# packages already there are kept.
ui-assets: $(STAMP)
	@$(BIN)/python -m netsim.ui.assets --check > /dev/null 2>&1 || $(BIN)/python -m netsim.ui.assets

# Set up, then start the planner's page on http://127.0.0.1:8765/ (make ui UI_LANG=th: in Thai).
UI_LANG ?= en
ui: $(STAMP) fonts ui-assets warm
	$(BIN)/netsim ui --lang $(UI_LANG)

# Compile the model's kernels once (numba caches them per version of the source, so this
# takes a minute after a change and a second otherwise).
warm: $(STAMP)
	$(BIN)/netsim run scenarios/baseline.toml --months 1 --json > /dev/null

lint: $(STAMP)
	$(BIN)/ruff check netsim tests benchmarks calibration

test: $(STAMP) fonts browser ui-assets lint warm
	$(BIN)/python -m pytest

# The main job: the baseline and its alternatives, REPLICATES runs each, then the report.
# Run again, it resumes (or finds the batch complete) and redraws the report.
main: $(STAMP) fonts warm
	$(BIN)/netsim batch $(MAIN_SCENARIOS) --replicates $(REPLICATES) --seed 1 --other-version restart \
		--keep-ties --out $(RESULTS)
	$(BIN)/netsim report $(RESULTS)
	@echo "Open $(RESULTS)/report/report.html (or report.md) for the comparison."

clean:
	rm -rf $(VENV) results
