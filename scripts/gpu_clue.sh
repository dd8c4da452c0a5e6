#!/usr/bin/env bash
# The whole GPU run of the CLUE harness in one command, on the lent machine (see scripts/gpu_clue.py):
#   run with carry [".gpu_bundle"]:  bash scripts/gpu_clue.sh
# Installs the carried wheels beside the image's packages, makes the repo importable as kexue_models, runs.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .gpu_bundle/wheels/*.whl
mkdir -p /tmp/pkg && ln -sfn "$PWD" /tmp/pkg/kexue_models
export PYTHONPATH=/tmp/site:/tmp/pkg:$PWD/scripts PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 scripts/gpu_clue.py run --output-dir "${OUT:-/tmp/out}/clue" "$@" 2>&1 | grep -v "it/s\]$" || exit "${PIPESTATUS[0]}"
