"""The harness as users scale out: two gloo processes (global batch 8, each process 4) give the dev metrics and
predictions of one process on the same global batches; evaluation gathers each dev example once (29 examples:
the last global batch is uneven, so accelerate pads it and the padding must be dropped), and only the main
process writes files."""

import json
import sys

import pytest

from tests.clue.conftest import CLUE_DATA
from tests.conftest import REPO
from tests.test_distributed import free_port, run

SCRIPT = REPO / "tests" / "distributed" / "clue_run.py"


def test_two_processes_score_like_one(tiny_roformer_v2, tmp_path):
    single, double = tmp_path / "single", tmp_path / "double"
    run([sys.executable, str(SCRIPT), str(tiny_roformer_v2), str(single), str(CLUE_DATA)])
    run([
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
        str(SCRIPT), str(tiny_roformer_v2), str(double), str(CLUE_DATA),
    ])  # fmt: skip
    one, two = (json.loads((folder / "results.json").read_text()) for folder in (single, double))
    assert (one["processes"], two["processes"]) == (1, 2)
    for task in ("afqmc", "cluener"):
        for ours, reference in zip(two["tasks"][task]["history"], one["tasks"][task]["history"], strict=True):
            assert ours["scores"] == pytest.approx(reference["scores"], abs=1e-9)
            assert ours["train_loss"] == pytest.approx(reference["train_loss"], rel=1e-4)
        predictions = (double / task / "dev_predictions.json").read_text()
        assert predictions == (single / task / "dev_predictions.json").read_text()
        assert len(predictions.splitlines()) == two["tasks"][task]["dev_size"] == 29
