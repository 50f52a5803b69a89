# make demo | serve | test | lint | bench | eval | train — each creates or refreshes .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo serve test lint bench eval train venv clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@# mypy cannot follow the editable install's import hook: it finds `regwatch` by this link.
	@mkdir -p $(VENV)/mypy-path && ln -sfn "$(CURDIR)" $(VENV)/mypy-path/regwatch
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/regwatch demo

# The web UI on the demo's database, with the settings `make demo` wrote.
serve: $(STAMP)
	@test -f demo-out/config.toml || { echo "no demo-out/config.toml yet: run 'make demo' first"; exit 2; }
	$(BIN)/regwatch --config demo-out/config.toml serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

eval: $(STAMP)
	$(BIN)/python -m regwatch.nlp.evaluate tests/nlp/data/labelled tests/nlp/data/heldout tests/nlp/data/real
	$(BIN)/python -m regwatch.instruments.evaluate tests/instruments/data/linking/set.jsonl tests/instruments/data/linking/heldout.jsonl

# the learned stage: fit on the real train split (+ team-written set), threshold on the real dev
# split; writes nlp/models/learned.json (deterministic: same data, same file)
train: $(STAMP)
	$(BIN)/python -m regwatch.nlp.train

clean:
	rm -rf $(VENV) demo-out .mypy_cache .ruff_cache .pytest_cache *.egg-info build
