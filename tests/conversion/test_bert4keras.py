"""Converted fixtures reproduce the outputs of the original bert4keras code, for both numerics."""

import json
import subprocess
import sys

import pytest
from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

from kexue_models import GAUAlphaForMaskedLM, RoFormerV2ForMaskedLM
from kexue_models.conversion.bert4keras import convert_bert4keras
from kexue_models.conversion.cli import main as cli_main
from kexue_models.conversion.parity import bert4keras_parity
from tests.conftest import BERT4KERAS_VERSIONS, MODEL_FIXTURES, PARITY_TOLERANCE, REPO, release_dir

CASES = [(version, model) for version in BERT4KERAS_VERSIONS for model in MODEL_FIXTURES]
EXPECTED_CLASS = {"roformer_v2_tiny": RoFormerV2ForMaskedLM, "gau_alpha_tiny": GAUAlphaForMaskedLM}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Each fixture converted once with the numerics of the bert4keras version that wrote it."""
    root = tmp_path_factory.mktemp("converted")
    return {
        (version, model): convert_bert4keras(
            release_dir(version, model), root / version / model, numerics=f"bert4keras-{version}"
        )
        for version, model in CASES
    }


@pytest.mark.parametrize("attn_implementation", ["eager", "sdpa"])
@pytest.mark.parametrize(("version", "model_name"), CASES)
def test_converted_model_matches_bert4keras(converted, version, model_name, attn_implementation):
    model = AutoModelForMaskedLM.from_pretrained(
        converted[version, model_name], attn_implementation=attn_implementation
    ).eval()
    assert type(model) is EXPECTED_CLASS[model_name]
    parity = bert4keras_parity(model, release_dir(version, model_name) / "reference_outputs.npz")
    assert parity.within(PARITY_TOLERANCE), parity


@pytest.mark.parametrize(("version", "model_name"), CASES)
def test_parity_survives_save_and_reload(converted, tmp_path, version, model_name):
    AutoModelForMaskedLM.from_pretrained(converted[version, model_name]).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(converted[version, model_name]).save_pretrained(tmp_path)
    model = AutoModelForMaskedLM.from_pretrained(tmp_path).eval()
    parity = bert4keras_parity(model, release_dir(version, model_name) / "reference_outputs.npz")
    assert parity.within(PARITY_TOLERANCE), parity
    base = AutoModel.from_pretrained(tmp_path)
    assert type(base).__name__ == EXPECTED_CLASS[model_name].__name__.replace("ForMaskedLM", "Model")


def test_numerics_are_not_interchangeable(tmp_path):
    """0.11.5 floors softmax_plus' n at 16: converting its fixture with 0.11.3 numerics breaks parity on the
    short rows, so the --numerics switch is what makes 0.11.5 reachable."""
    release = release_dir("0.11.5", "gau_alpha_tiny")
    out = convert_bert4keras(release, tmp_path / "wrong", numerics="bert4keras-0.11.3")
    parity = bert4keras_parity(AutoModelForMaskedLM.from_pretrained(out).eval(), release / "reference_outputs.npz")
    assert not parity.within(PARITY_TOLERANCE)


def test_output_folder_is_complete(converted):
    out = converted["0.11.3", "gau_alpha_tiny"]
    assert sorted(path.name for path in out.iterdir()) == [
        "README.md",
        "config.json",
        "configuration_common.py",
        "configuration_gau_alpha.py",
        "conversion.json",
        "hub_files.py",
        "junnyu_layout.py",
        "model.safetensors",
        "modeling_common.py",
        "modeling_gau_alpha.py",
        "output_embedding.py",
        "tokenization_bert4keras.py",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert json.loads((out / "tokenizer_config.json").read_text())["auto_map"]["AutoTokenizer"][0] == (
        "tokenization_bert4keras.Bert4KerasTokenizer"
    )
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "gau_alpha" and config["architectures"] == ["GAUAlphaForMaskedLM"]
    assert config["rms_norm_eps"] == 1e-12 and config["softmax_plus_min_length"] == 1
    report = json.loads((out / "conversion.json").read_text())
    assert report["numerics"] == "bert4keras-0.11.3"
    assert set(report["source"]["files"]) == {
        "bert_config.json",
        "vocab.txt",
        "bert_model.ckpt.index",
        "bert_model.ckpt.data-00000-of-00001",
    }
    assert (
        report["variables_converted"]["model.layers.1.gau.i_proj.weight"]
        == "GAU_alpha/encoder/layer_1/gau/i_dense/kernel"
    )
    assert not list(out.parent.glob(".*partial*")), "no temporary folder left behind"


def test_tokenizer_is_saved_with_the_model(converted):
    tokenizer = AutoTokenizer.from_pretrained(converted["0.11.3", "roformer_v2_tiny"])
    assert type(tokenizer).__name__ == "Bert4KerasTokenizer"
    assert tokenizer("一丁")["input_ids"] == [2, 5, 6, 3]


def test_cli(tmp_path, capsys):
    out = tmp_path / "cli"
    assert (
        cli_main(
            ["bert4keras", str(release_dir("0.11.5", "roformer_v2_tiny")), str(out), "--numerics", "bert4keras-0.11.5"]
        )
        == 0
    )
    assert json.loads((out / "config.json").read_text())["rms_norm_eps"] == 1e-7
    assert cli_main(["bert4keras", str(release_dir("0.11.5", "roformer_v2_tiny")), str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_overwrite_replaces_a_previous_conversion(tmp_path):
    out = tmp_path / "model"
    convert_bert4keras(release_dir("0.11.3", "roformer_v2_tiny"), out)
    convert_bert4keras(release_dir("0.11.3", "gau_alpha_tiny"), out, overwrite=True)
    assert json.loads((out / "config.json").read_text())["model_type"] == "gau_alpha"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


FRESH_PROCESS = """
import sys, kexue_models
from transformers import AutoModelForMaskedLM
from kexue_models.conversion.parity import bert4keras_parity
model = AutoModelForMaskedLM.from_pretrained(sys.argv[1]).eval()
parity = bert4keras_parity(model, sys.argv[2])
print(parity.hidden_states, parity.mlm_logits, parity.same_argmax)
"""


@pytest.mark.parametrize("model_name", MODEL_FIXTURES)
def test_fresh_process_load_is_not_silently_wrong(converted, model_name):
    """transformers builds the model on the meta device, then loads weights: anything not in the checkpoint
    (a RoPE buffer, say) must still come out right. Checked in a new interpreter, as a user would load it."""
    release = release_dir("0.11.3", model_name)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            FRESH_PROCESS,
            str(converted["0.11.3", model_name]),
            str(release / "reference_outputs.npz"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO.parent,
        check=True,
    )
    hidden, logits, same_argmax = result.stdout.split()
    assert float(hidden) <= PARITY_TOLERANCE and float(logits) <= PARITY_TOLERANCE and same_argmax == "True"


def test_large_checkpoints_are_sharded(tmp_path):
    release = release_dir("0.11.3", "gau_alpha_tiny")
    out = convert_bert4keras(release, tmp_path / "sharded", max_shard_size="40KB")
    index = json.loads((out / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) > 1
    parity = bert4keras_parity(AutoModelForMaskedLM.from_pretrained(out).eval(), release / "reference_outputs.npz")
    assert parity.within(PARITY_TOLERANCE), parity
