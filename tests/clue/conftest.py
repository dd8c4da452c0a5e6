"""Tiny encoders for the harness tests: a RoFormerV2 and a BERT (any transformers encoder) on the real 12,000-
character vocabulary of the published models, randomly initialised, without dropout so runs compare exactly."""

from pathlib import Path

import pytest
from transformers import BertConfig, BertModel, BertTokenizerFast

from kexue_models import Bert4KerasTokenizer, GAUAlphaConfig, GAUAlphaModel, RoFormerV2Config, RoFormerV2Model
from tests.conftest import SHARED

VOCAB = SHARED / "vocab" / "chinese_char_vocab_12000.txt"
CLUE_DATA = SHARED / "data" / "clue"
TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}  # fmt: skip


def save_tiny_roformer_v2(folder: Path) -> Path:
    tokenizer = Bert4KerasTokenizer(str(VOCAB))
    RoFormerV2Model(RoFormerV2Config(vocab_size=tokenizer.vocab_size, **TINY)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_roformer_v2(tmp_path_factory) -> Path:
    return save_tiny_roformer_v2(tmp_path_factory.mktemp("tiny_roformer_v2"))


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_bert")
    tokenizer = BertTokenizerFast(vocab_file=str(VOCAB))
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size, max_position_embeddings=512, **TINY)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gau_alpha(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_gau_alpha")
    tokenizer = Bert4KerasTokenizer(str(VOCAB))
    shape = {key: value for key, value in TINY.items() if key != "num_attention_heads"}
    config = GAUAlphaConfig(vocab_size=tokenizer.vocab_size, attention_key_size=16, **shape)
    GAUAlphaModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
