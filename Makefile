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
	rm -rf demo_output/clue
	$(BIN)/kexue-clue --model demo_output/pretrain/direct/model --tasks cmrc2018 --data-dir demo/clue \
		--output-dir demo_output/clue --epochs 2 --batch-size 8 --max-length 256 --compare-with GAU-α
	cat demo_output/clue/results.md

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python scripts/bench_encoders.py
	$(BIN)/python scripts/bench_transformer_vq.py
	$(BIN)/python scripts/bench_clue.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache .ruff_cache
