"""Model cards: valid Hub metadata (through huggingface_hub's own parsing), published numbers labelled with
their source, and the figures of the conversion that produced the folder."""

import json

import pytest
from huggingface_hub import ModelCard

from kexue_models import GAUAlphaConfig, RoFormerV2Config
from kexue_models.conversion.bert4keras import convert_bert4keras
from kexue_models.conversion.errors import ConversionError
from kexue_models.conversion.transformer_vq import convert_transformer_vq
from kexue_models.model_cards import render_card
from kexue_models.model_cards.cards import CARDS
from tests.conftest import release_dir, transformer_vq_dir

PUBLISHED = [name for name, spec in CARDS.items() if spec.shape]


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_model_cards_have_valid_metadata(tmp_path, name):
    spec = CARDS[name]
    config_class = {"roformer_v2": RoFormerV2Config, "gau_alpha": GAUAlphaConfig}[spec.model_type]
    config_class(**spec.shape).save_pretrained(tmp_path)
    source = {"format": "bert4keras TF checkpoint", "files": {"bert_model.ckpt.index": "0" * 64}}
    (tmp_path / "conversion.json").write_text(json.dumps({"source": source}))  # what a converter writes
    card = ModelCard.load(render_card(tmp_path))
    data = card.data.to_dict()
    assert data["language"] == "zh" and data["library_name"] == "transformers"
    assert data["pipeline_tag"] == "fill-mask" and data["license"] == "other"
    results = card.data.eval_results or []
    assert len(results) == sum(len(published.scores) for published in spec.published)
    for result in results:
        assert result.source_name and result.source_url and result.dataset_split == "validation"
    assert spec.title in card.text and "@techreport" in card.text and "trust_remote_code=True" in card.text


def test_same_shape_without_a_conversion_carries_no_published_numbers(tmp_path):
    """Trained from scratch or fine-tuned at the published shape: the released weights' numbers are not its."""
    RoFormerV2Config().save_pretrained(tmp_path)  # the base shape
    card = ModelCard.load(render_card(tmp_path))
    assert not card.data.eval_results and "RoFormerV2 (12 layers, hidden 768)" in card.text


def test_other_shapes_carry_no_published_numbers(tmp_path):
    GAUAlphaConfig(num_hidden_layers=2, hidden_size=64).save_pretrained(tmp_path)
    card = ModelCard.load(render_card(tmp_path))
    assert not card.data.eval_results and "GAU-α (2 layers, hidden 64)" in card.text


def test_bert4keras_card_reports_the_conversion_and_its_parity(tmp_path):
    release = release_dir("0.11.3", "gau_alpha_tiny")
    out = convert_bert4keras(release, tmp_path / "out", reference=release / "reference_outputs.npz")
    text = (out / "README.md").read_text()
    report = json.loads((out / "conversion.json").read_text())
    assert report["parity"]["same MLM argmax"] == "True"
    assert f"- MLM logits: {report['parity']['MLM logits']}" in text
    assert report["source"]["files"]["bert_model.ckpt.index"] in text  # the sha256 of each source file


def test_transformer_vq_card_reports_the_log_prob_parity(tmp_path):
    source = transformer_vq_dir("tvq_tiny_pg19")
    out = convert_transformer_vq(
        source, tmp_path / "out", source / "config.json", reference=source / "reference_outputs.npz"
    )
    card = ModelCard.load(out / "README.md")
    assert card.data.to_dict()["pipeline_tag"] == "text-generation"
    assert "- log-probs: " in card.text and "CLUE" not in card.text


def test_reference_outputs_that_do_not_match_stop_the_conversion(tmp_path):
    """The 0.11.5 outputs differ from the 0.11.3 numerics on short rows: nothing is written."""
    release = release_dir("0.11.5", "gau_alpha_tiny")
    with pytest.raises(ConversionError, match="does not reproduce"):
        convert_bert4keras(release, tmp_path / "out", reference=release / "reference_outputs.npz")
    assert not (tmp_path / "out").exists()
