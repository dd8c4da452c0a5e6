"""Data-parallel training as users scale out: two gloo processes each on half a batch end one step where one
process on the whole batch does (same weights, same codebook: the EMA statistics are summed over processes)."""

import socket
import subprocess
import sys

import torch

from tests.conftest import REPO

SCRIPT = REPO / "tests" / "distributed" / "transformer_vq_step.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_two_processes_end_the_step_like_one(tmp_path):
    single, double = tmp_path / "single.pt", tmp_path / "double.pt"
    run([sys.executable, str(SCRIPT), str(single)])
    # torchrun; `accelerate launch --cpu --num_processes 2` starts one process unless mpirun is installed.
    run([
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
        str(SCRIPT), str(double),
    ])  # fmt: skip
    expected, actual = torch.load(single), torch.load(double)
    assert expected.keys() == actual.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)
    before = torch.ones_like(expected["model.layers.0.attention.quantizer.code_counts"])
    assert not torch.equal(expected["model.layers.0.attention.quantizer.code_counts"], before)
