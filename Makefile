# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU wheel of this torch is on local disk; a bare `torch` would pull a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_PIN)
	$(BIN)/python -m pip install --quiet --editable '.[test,plots]'
	touch $@

demo: setup
	$(BIN)/python scripts/demo.py
	rm -rf demo_output/pretrain  # the demo starts afresh; a real run resumes instead
	$(BIN)/python scripts/pretrain.py --steps 30 --output-dir demo_output/pretrain

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python scripts/bench_encoders.py
	$(BIN)/python scripts/bench_transformer_vq.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache .ruff_cache
