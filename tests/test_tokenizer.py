"""Bert4KerasTokenizer against bert4keras' own output (fixtures/tokenizer, written by bert4keras' Tokenizer)."""

import json

import pytest
from transformers import AutoTokenizer, BertTokenizer

from kexue_models import Bert4KerasTokenizer, RoFormerV2Config
from kexue_models.modeling.tokenization_bert4keras import bert4keras_pair_lengths
from tests.conftest import FIXTURES, SHARED

VOCAB = SHARED / "vocab" / "chinese_char_vocab_12000.txt"
CASES = json.loads((FIXTURES / "tokenizer" / "bert4keras_char_vocab_12000.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tokenizer():
    return Bert4KerasTokenizer(str(VOCAB))


@pytest.mark.parametrize("case", CASES["single"], ids=lambda case: repr(case["text"])[:20])
def test_single_texts(tokenizer, case):
    encoded = tokenizer(case["text"])
    assert encoded["input_ids"] == case["input_ids"]
    assert encoded["token_type_ids"] == case["token_type_ids"]


@pytest.mark.parametrize("case", CASES["pairs"], ids=lambda case: case["text"])
def test_pairs(tokenizer, case):
    encoded = tokenizer(case["text"], case["text_pair"])
    assert encoded["input_ids"] == case["input_ids"]
    assert encoded["token_type_ids"] == case["token_type_ids"]


@pytest.mark.parametrize("case", CASES["maxlen"], ids=lambda case: case["text"])
def test_truncated_pairs(tokenizer, case):
    single = tokenizer(case["text"], case["text_pair"], truncation=True, max_length=case["maxlen"])
    batch = tokenizer(
        [case["text"]] * 2, [case["text_pair"]] * 2, truncation=True, max_length=case["maxlen"], padding=True
    )
    for encoded in (single, {key: value[1] for key, value in batch.items()}):
        assert encoded["input_ids"] == case["input_ids"]
        assert encoded["token_type_ids"] == case["token_type_ids"]


def test_stock_bert_tokenizer_differs_on_a_truncation_tie():
    """Why this class exists: HF trims the second segment on a tie, bert4keras the first."""
    case = CASES["maxlen"][1]
    stock = BertTokenizer(vocab=str(VOCAB))(
        case["text"], case["text_pair"], truncation=True, max_length=case["maxlen"]
    )
    assert stock["input_ids"] != case["input_ids"]


def test_pair_lengths_follow_truncate_sequences():
    """bert4keras pops from the longest sequence, the first on a tie (np.argmax)."""
    assert bert4keras_pair_lengths(5, 8, 9) == (4, 5)
    assert bert4keras_pair_lengths(8, 5, 9) == (4, 5)
    assert bert4keras_pair_lengths(2, 20, 9) == (2, 7)
    assert bert4keras_pair_lengths(20, 2, 9) == (7, 2)
    assert bert4keras_pair_lengths(3, 4, 9) == (3, 4)


def test_normalisation_edges_follow_bert4keras(tokenizer):
    """Edges read off bert4keras tokenizers.py: only Cc/Cf are deleted (HF drops every C*), words up to 200
    characters are word-pieced (HF: 100), Python's lower() writes a final sigma."""
    normalize = tokenizer.backend_tokenizer.normalizer.normalize_str
    assert normalize("a\u200bb\x00c\ufffdd") == "abcd"  # Cf, NUL and U+FFFD deleted
    assert normalize("x\ue000y") == "x\ue000y"  # private use (Co) kept
    assert normalize("ΑΣ ΣΑ ὈΔΥΣΣΕΎΣ") == "ΑΣ ΣΑ ὈΔΥΣΣΕΎΣ".lower().replace("ὀ", "ο").replace("ύ", "υ")
    long_word = "ab" * 75  # 150 characters
    assert tokenizer.unk_token not in tokenizer.tokenize(long_word)
    assert tokenizer.tokenize("ab" * 101) == [tokenizer.unk_token]


def test_zero_token_type_ids_option():
    tokenizer = Bert4KerasTokenizer(str(VOCAB), zero_token_type_ids=True)
    assert set(tokenizer("我喜欢北京", "北京是中国的首都")["token_type_ids"]) == {0}


def test_decode_joins_chinese_without_spaces(tokenizer):
    ids = tokenizer("今天天气不错，我们去公园散步吧！")["input_ids"]
    assert tokenizer.decode(ids, skip_special_tokens=True) == "今天天气不错，我们去公园散步吧！"
    assert tokenizer.decode(tokenizer("it's 3.5 kg")["input_ids"], skip_special_tokens=True) == "it's 3.5 kg"


def test_round_trip_through_auto_tokenizer(tokenizer, tmp_path):
    RoFormerV2Config().save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert type(loaded) is Bert4KerasTokenizer
    case = CASES["maxlen"][1]
    assert (
        loaded(case["text"], case["text_pair"], truncation=True, max_length=case["maxlen"])["input_ids"]
        == case["input_ids"]
    )
    for single in CASES["single"]:
        assert loaded(single["text"])["input_ids"] == single["input_ids"]


def test_vocab_without_special_tokens_is_rejected(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n一\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"mask_token '\[MASK\]'"):
        Bert4KerasTokenizer(str(vocab))


def test_zero_token_type_ids_when_loading(tokenizer, tmp_path):
    RoFormerV2Config().save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path, zero_token_type_ids=True)
    assert set(loaded("我喜欢北京", "北京是中国的首都")["token_type_ids"]) == {0}
