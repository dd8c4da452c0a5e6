"""scripts/pretrain.py: the CPU demo path end to end (all three models), its outputs, and resuming a killed run."""

import csv
import importlib.util
import sys

import pytest

from tests.conftest import REPO


@pytest.fixture
def pretrain(monkeypatch):
    spec = importlib.util.spec_from_file_location("pretrain", REPO / "scripts" / "pretrain.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(*arguments):
        monkeypatch.setattr(sys, "argv", ["pretrain.py", *arguments])
        module.main()

    module.run = run
    return module


def log_steps(path) -> list[tuple[str, int]]:
    with path.open(encoding="utf-8") as file:
        return [(row["mode"], int(row["step"])) for row in csv.DictReader(file)]


@pytest.mark.parametrize("model", ["roformer_v2", "gau_alpha", "transformer_vq"])
def test_demo_path_writes_log_plot_and_extrapolation(pretrain, tmp_path, model):
    pretrain.run("--model", model, "--modes", "direct,half_swap", "--steps", "4", "--eval-lengths", "64", "128",
                 "--eval-windows", "2", "--output-dir", str(tmp_path))  # fmt: skip
    assert log_steps(tmp_path / "log.csv") == [
        (mode, step) for mode in ("direct", "half_swap") for step in range(1, 5)
    ]
    assert (tmp_path / "curves.png").stat().st_size > 0
    with (tmp_path / "extrapolation.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [row["mode"] for row in rows] == ["direct", "half_swap"] and all(row["128"] for row in rows)
    assert (tmp_path / "half_swap" / "model" / "config.json").exists()


def test_killed_run_resumes_from_its_last_checkpoint(pretrain, tmp_path, monkeypatch):
    arguments = ("--modes", "untied", "--steps", "9", "--checkpoint-every", "4", "--eval-windows", "1",
                 "--output-dir", str(tmp_path))  # fmt: skip
    original, calls = pretrain.loss_and_accuracy, []

    def dies_at_step_7(*args, **kwargs):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(pretrain, "loss_and_accuracy", dies_at_step_7)
    with pytest.raises(KeyboardInterrupt):
        pretrain.run(*arguments)
    assert (tmp_path / "untied" / "checkpoint" / "step.json").exists()
    assert not (tmp_path / "untied" / "model").exists()
    assert log_steps(tmp_path / "log.csv") == [("untied", step) for step in range(1, 5)]  # up to the checkpoint

    monkeypatch.setattr(pretrain, "loss_and_accuracy", original)
    pretrain.run(*arguments)
    assert log_steps(tmp_path / "log.csv") == [("untied", step) for step in range(1, 10)]  # each step once
    assert (tmp_path / "untied" / "model" / "config.json").exists()
    assert not (tmp_path / "untied" / "checkpoint").exists()
    pretrain.run(*arguments)  # finished: skipped, nothing trained again
    assert log_steps(tmp_path / "log.csv") == [("untied", step) for step in range(1, 10)]


def test_reads_a_datasets_dataset(pretrain, tmp_path):
    """--dataset takes what `datasets.load_dataset` takes: here a local folder of text files (column `text`)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = (REPO / "demo" / "pretrain_corpus" / "cmrc2018_train_contexts.txt").read_text(encoding="utf-8")
    (corpus / "train.txt").write_text("\n".join(lines.splitlines()[:30]), encoding="utf-8")
    pretrain.run("--dataset", str(corpus), "--modes", "direct", "--steps", "2", "--eval-windows", "1",
                 "--output-dir", str(tmp_path / "out"))  # fmt: skip
    assert log_steps(tmp_path / "out" / "log.csv") == [("direct", 1), ("direct", 2)]
