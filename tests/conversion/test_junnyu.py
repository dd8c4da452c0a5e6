"""JunnYu's PyTorch folders, the checkpoints users already download, load through the package and give the
outputs of the original bert4keras code; a folder that does not fit fails with the key names."""

import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModel, AutoModelForMaskedLM

from kexue_models import (
    GAUAlphaForMaskedLM,
    GAUAlphaModel,
    RoFormerV2ForMaskedLM,
    RoFormerV2ForSequenceClassification,
    RoFormerV2Model,
)
from kexue_models.conversion.bert4keras import convert_bert4keras
from kexue_models.conversion.cli import main as cli_main
from kexue_models.conversion.errors import ConversionError
from kexue_models.conversion.parity import bert4keras_parity
from tests.conftest import PARITY_TOLERANCE, release_dir
from tests.junnyu_folders import write_junnyu_folder

FIXTURE = {"roformer_v2": "roformer_v2_tiny", "gau_alpha": "gau_alpha_tiny"}
MASKED_LM = {"roformer_v2": RoFormerV2ForMaskedLM, "gau_alpha": GAUAlphaForMaskedLM}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Our conversion of each 0.11.3 fixture (his numerics: the 0.11.3 rule)."""
    root = tmp_path_factory.mktemp("ours")
    return {name: convert_bert4keras(release_dir("0.11.3", FIXTURE[name]), root / name) for name in FIXTURE}


def junnyu(converted, tmp_path, name, edit=None):
    return write_junnyu_folder(converted[name], release_dir("0.11.3", FIXTURE[name]), tmp_path / "his", name, edit)


def reference(name):
    return release_dir("0.11.3", FIXTURE[name]) / "reference_outputs.npz"


@pytest.mark.parametrize("name", list(FIXTURE))
def test_his_folder_loads_through_the_package_and_matches_bert4keras(converted, tmp_path, name):
    folder = junnyu(converted, tmp_path, name)
    model = MASKED_LM[name].from_pretrained(folder).eval()
    parity = bert4keras_parity(model, reference(name))
    assert parity.within(PARITY_TOLERANCE), parity


def test_auto_classes_read_his_gau_alpha_folder(converted, tmp_path):
    """JunnYu/GAU-alpha-pytorch#2: `KeyError: 'gau_alpha'` without a registering package."""
    folder = junnyu(converted, tmp_path, "gau_alpha")
    model = AutoModelForMaskedLM.from_pretrained(folder).eval()
    assert type(model) is GAUAlphaForMaskedLM
    assert bert4keras_parity(model, reference("gau_alpha")).within(PARITY_TOLERANCE)
    assert type(AutoModel.from_pretrained(folder)) is GAUAlphaModel


def test_backbone_and_new_heads_from_his_roformer_v2_folder(converted, tmp_path):
    folder = junnyu(converted, tmp_path, "roformer_v2")
    base = RoFormerV2Model.from_pretrained(folder)
    masked_lm = RoFormerV2ForMaskedLM.from_pretrained(folder)
    torch.testing.assert_close(
        base.embeddings.word_embeddings.weight, masked_lm.model.embeddings.word_embeddings.weight
    )
    classifier = RoFormerV2ForSequenceClassification.from_pretrained(folder, num_labels=3)  # new head, no error
    assert classifier.config.num_labels == 3


def test_saving_after_loading_his_folder_writes_our_layout(converted, tmp_path):
    folder = junnyu(converted, tmp_path, "roformer_v2")
    RoFormerV2ForMaskedLM.from_pretrained(folder).save_pretrained(tmp_path / "resaved")
    assert set(load_file(tmp_path / "resaved" / "model.safetensors")) == set(
        load_file(converted["roformer_v2"] / "model.safetensors")
    )
    assert json.loads((tmp_path / "resaved" / "config.json").read_text())["model_type"] == "roformer_v2"


@pytest.mark.parametrize(
    ("name", "edit", "fragments"),
    [
        (
            "gau_alpha",
            lambda state: state.pop("gau_alpha.encoder.layer.1.gau.o_dense.weight"),
            ["missing: model.layers.1.gau.o_proj.weight"],
        ),
        (
            "roformer_v2",
            lambda state: state.update({"roformer.encoder.layer.0.attention.self.query.bias": torch.zeros(64)}),
            ["unexpected: model.layers.0.self_attn.q_proj.bias"],
        ),
        (
            "roformer_v2",
            lambda state: state.update({"roformer.encoder.layer.0.intermediate.dense.weight": torch.zeros(3, 64)}),
            ["of another shape: model.layers.0.feed_forward.up_proj.weight ([3, 64] in the file, [128, 64] expected)"],
        ),
    ],
)
def test_folder_that_does_not_fit_names_the_keys(converted, tmp_path, name, edit, fragments):
    folder = junnyu(converted, tmp_path, name, edit)
    with pytest.raises(ValueError) as raised:
        MASKED_LM[name].from_pretrained(folder)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_v1_roformer_config_is_refused(converted, tmp_path):
    folder = junnyu(converted, tmp_path, "roformer_v2")
    config = json.loads((folder / "config.json").read_text())
    del config["norm_type"]  # his v1 configs lack the v2 flags
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="norm_type"):
        RoFormerV2ForMaskedLM.from_pretrained(folder)


@pytest.mark.parametrize("name", list(FIXTURE))
def test_converter_rewrites_his_folder_into_ours(converted, tmp_path, name):
    folder = junnyu(converted, tmp_path, name)
    out = tmp_path / "ours"
    assert cli_main(["junnyu", str(folder), str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["model_type"] == name
    model = AutoModelForMaskedLM.from_pretrained(out).eval()
    assert bert4keras_parity(model, reference(name)).within(PARITY_TOLERANCE)
    assert json.loads((out / "conversion.json").read_text())["source"]["files"]["pytorch_model.bin"]


def test_converter_refuses_a_folder_that_is_not_his(converted, tmp_path):
    with pytest.raises(ConversionError, match="not one of JunnYu's layouts"):
        from kexue_models.conversion.junnyu import convert_junnyu

        convert_junnyu(converted["gau_alpha"], tmp_path / "out")
    assert not (tmp_path / "out").exists()
