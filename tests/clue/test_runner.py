"""The harness end to end on CPU with tiny encoders and slices of the real CLUE files: fine-tuning, best-epoch
selection, results beside the published numbers, resume after an interrupt, skipping finished tasks, and any
transformers encoder (a BERT) as well as ours."""

import json

import pytest

from kexue_models import RoFormerV2Config
from kexue_models.clue import ClueArguments, run_clue
from kexue_models.clue.cli import main
from kexue_models.clue.model import ClueModel
from kexue_models.clue.runner import TaskRun, published_results
from tests.clue.conftest import CLUE_DATA


def arguments(model, output_dir, **overrides) -> ClueArguments:
    settings = {"epochs": 1, "batch_size": 8, "max_train_samples": 64, "max_eval_samples": 32, "split_dev": 0.5,
                "cpu": True, "lr": 5e-3, **overrides}  # fmt: skip
    return ClueArguments(model=str(model), data_dir=str(CLUE_DATA), output_dir=str(output_dir), **settings)


def test_fine_tunes_afqmc_and_cluener_end_to_end(tiny_roformer_v2, tmp_path):
    results = run_clue(
        arguments(tiny_roformer_v2, tmp_path, tasks="afqmc,cluener", epochs=2, compare_with="GAU-α", predict_test=True)
    )
    assert list(results["tasks"]) == ["afqmc", "cluener"]
    afqmc, cluener = results["tasks"]["afqmc"], results["tasks"]["cluener"]
    assert afqmc["protocol"].startswith("dev split") and cluener["protocol"] == "train → dev"  # no afqmc train file
    assert (afqmc["train_size"], afqmc["dev_size"], cluener["train_size"], cluener["dev_size"]) == (64, 32, 64, 32)
    assert set(cluener["scores"]) >= {"precision", "recall", "f1", "leaderboard_f1", "f1_name"}
    losses = [epoch["train_loss"] for epoch in cluener["history"]]
    assert len(losses) == 2 and losses[1] < losses[0]  # it learns
    for entry in (afqmc, cluener):
        best = max(entry["history"], key=lambda epoch: epoch["scores"][entry["score_name"]])
        assert entry["score"] == best["scores"][entry["score_name"]]
        assert entry["train_examples_per_second"] > 0 and entry["train_seconds"] > 0
    assert results["device"].startswith("CPU") and results["processes"] == 1
    assert (cluener["device"], cluener["precision"], cluener["seed"]) == (results["device"], "float32", 42)
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(results))
    table = (tmp_path / "results.md").read_text()
    assert "| afqmc | Accuracy |" in table and "74.17" in table and "80.01" in table  # Su's GAU-α row
    assert (tmp_path / "results.png").stat().st_size > 0
    for task in ("afqmc", "cluener"):
        rows = (tmp_path / task / "dev_predictions.json").read_text().splitlines()
        assert len(rows) == 32 and len({json.loads(row)["id"] for row in rows}) == 32
        assert (tmp_path / task / "best.safetensors").is_file() and not (tmp_path / task / "checkpoint").exists()
    assert not list(tmp_path.rglob("*.partial*"))
    # cluener's test file is here (afqmc's is not): a submission from the best epoch, under CLUE's name
    assert (afqmc["submissions"], cluener["submissions"]) == ([], ["cluener_predict.json"])
    submission = [
        json.loads(row) for row in (tmp_path / "submission" / "cluener_predict.json").read_text().splitlines()
    ]
    assert len(submission) == 1345 and set(submission[0]) == {"id", "text", "label"}


@pytest.mark.parametrize("encoder", ["tiny_gau_alpha", "tiny_bert"])
def test_gau_alpha_and_any_transformers_encoder(encoder, request, tmp_path):
    model = request.getfixturevalue(encoder)
    results = run_clue(arguments(model, tmp_path, tasks="wsc,cmrc2018,c3", max_length=128, max_train_samples=16))
    assert set(results["tasks"]) == {"wsc", "cmrc2018", "c3"}
    assert set(results["tasks"]["cmrc2018"]["scores"]) == {"exact_match", "f1", "average", "span_accuracy"}
    assert "No published numbers" in (tmp_path / "results.md").read_text()


def test_resume_after_an_interrupt_continues_where_it_stopped(tiny_roformer_v2, tmp_path, monkeypatch):
    settings = {"tasks": "wsc,cluener", "epochs": 2, "checkpoint_steps": 3}  # 8 batches an epoch
    whole = run_clue(arguments(tiny_roformer_v2, tmp_path / "whole", **settings))["tasks"]["cluener"]

    saved = TaskRun.save_checkpoint

    def save_then_die(self):
        saved(self)
        if self.task.name == "cluener":
            raise KeyboardInterrupt  # killed right after cluener's first checkpoint (epoch 1, batch 3)

    monkeypatch.setattr(TaskRun, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_clue(arguments(tiny_roformer_v2, tmp_path / "cut", **settings))
    state = json.loads((tmp_path / "cut" / "cluener" / "checkpoint" / "state.json").read_text())
    assert (state["epoch"], state["batches"]) == (0, 3)
    assert list(json.loads((tmp_path / "cut" / "results.json").read_text())["tasks"]) == ["wsc"]
    monkeypatch.undo()
    resumed = run_clue(arguments(tiny_roformer_v2, tmp_path / "cut", **settings))["tasks"]["cluener"]
    for ours, reference in zip(resumed["history"], whole["history"], strict=True):
        assert ours["train_loss"] == pytest.approx(reference["train_loss"], rel=1e-5)
        assert ours["scores"] == pytest.approx(reference["scores"], rel=1e-5)


def test_finished_tasks_are_skipped_and_changed_settings_rerun(tiny_roformer_v2, tmp_path, monkeypatch):
    first = run_clue(arguments(tiny_roformer_v2, tmp_path, tasks="afqmc"))

    def no_training(*args, **kwargs):
        raise AssertionError("a finished task was trained again")

    monkeypatch.setattr(ClueModel, "from_pretrained", no_training)
    assert run_clue(arguments(tiny_roformer_v2, tmp_path, tasks="afqmc")) == first
    with pytest.raises(AssertionError, match="trained again"):
        run_clue(arguments(tiny_roformer_v2, tmp_path, tasks="afqmc", seed=7))


def test_clear_errors(tiny_roformer_v2, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"afqmc/train.json: missing .*--split-dev"):
        run_clue(arguments(tiny_roformer_v2, tmp_path, tasks="afqmc", split_dev=None))
    with pytest.raises(FileNotFoundError, match=r"chid/dev.json: missing") as missing:
        run_clue(arguments(tiny_roformer_v2, tmp_path, tasks="wsc,chid"))  # found before wsc trains
    assert not (tmp_path / "wsc").exists() and "chid/train.json" not in str(missing.value)  # --split-dev given
    with pytest.raises(ValueError, match="unknown CLUE task 'qnli'"):
        arguments(tiny_roformer_v2, tmp_path, tasks="afqmc,qnli")
    with pytest.raises(ValueError, match="split_dev must be a fraction"):
        arguments(tiny_roformer_v2, tmp_path, split_dev=1.5)
    with pytest.raises(ValueError, match=r"batch size 7 \(wsc\) must be divisible by the 2 processes"):
        arguments(tiny_roformer_v2, tmp_path, tasks="wsc", batch_size=7).check_batch_sizes(2)
    (tmp_path / "results.json").write_text("{")
    with pytest.raises(ValueError, match=r"results\.json: not valid JSON"):
        run_clue(arguments(tiny_roformer_v2, tmp_path, tasks="wsc"))


def test_command_line(tiny_roformer_v2, tmp_path):
    main([
        "--model", str(tiny_roformer_v2), "--tasks", "wsc", "--data-dir", str(CLUE_DATA), "--output-dir",
        str(tmp_path), "--epochs", "1", "--batch-size", "16", "--max-train-samples", "32", "--max-eval-samples", "16",
        "--cpu", "--compare-with", "BERT",
    ])  # fmt: skip
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["tasks"]["wsc"]["batch_size"] == 16 and "78.62" in (tmp_path / "results.md").read_text()
    with pytest.raises(SystemExit):
        main(["--model", "m", "--data-dir", "d", "--output-dir", "o", "--entity-head", "crf"])


def test_published_numbers_only_for_converted_published_weights(tmp_path):
    """Shape alone does not make a published model: a base-shaped RoFormerV2 compares with JunnYu's runs of the
    released weights only if a converter wrote the folder (conversion.json)."""
    RoFormerV2Config().save_pretrained(tmp_path)  # base shape, no weights needed to decide
    settings = ClueArguments(model=str(tmp_path), data_dir=str(CLUE_DATA), output_dir=str(tmp_path / "run"))
    assert published_results(settings) is None
    (tmp_path / "conversion.json").write_text("{}")
    assert published_results(settings).scores["afqmc"] == 76.20
    settings.compare_with = "RoBERTa"
    assert published_results(settings).scores["afqmc"] == 74.05
