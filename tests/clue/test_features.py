"""Features Su's way, checked on the real dev files: gold answers pushed through windowing/alignment and back
through decoding score (almost) 100, the misses being answers that end inside a token; inputs stay within the
task's max length; choices, chid trimming and pairs are built as the recipes say."""

from itertools import pairwise

import pytest

from kexue_models import Bert4KerasTokenizer
from kexue_models.clue import metrics
from kexue_models.clue.features import WINDOW_STRIDE, Collator, encode, fit_pieces, trim_context
from kexue_models.clue.predictions import metric_inputs, per_example
from kexue_models.clue.readers import ChoiceExample
from kexue_models.clue.tasks import get_task, read_task
from tests.clue.conftest import CLUE_DATA, VOCAB


@pytest.fixture(scope="module")
def tokenizer():
    return Bert4KerasTokenizer(str(VOCAB))


def test_cmrc2018_windows_cover_the_context_and_gold_spans_decode_to_the_answers(tokenizer):
    task = get_task("cmrc2018")
    examples = read_task(CLUE_DATA, "cmrc2018", "dev")
    features = encode(task, tokenizer, examples, task.max_length)
    assert max(len(feature["input_ids"]) for feature in features) <= task.max_length
    by_example = {}
    for feature in features:
        by_example.setdefault(feature["example"], []).append(feature)
    for index, windows in by_example.items():
        starts = [window["offsets"][0][0] for window in windows]
        assert starts == sorted(starts) and windows[-1]["offsets"][-1][1] >= len(examples[index].context.rstrip())
    assert len(by_example) == len(examples) == 3219 and len(features) > len(examples)
    # a window holding the answer scores its gold span highest; the others only their [CLS] slot
    reduced = {
        index: (*feature["label"], 1.0) if feature["label"] != (0, 0) else (1, 1, -1.0)
        for index, feature in enumerate(features)
    }
    predictions = per_example(task, examples, features, reduced)
    inputs, references = metric_inputs(task, examples, predictions)
    scores = metrics.load("cmrc2018").compute(predictions=inputs, references=references)
    misses = [(example.answers[0], text) for example, (text, _) in zip(examples, predictions, strict=True)
              if text != example.answers[0]]  # fmt: skip
    assert misses == [("4个", "34个")]  # "34" is one token: the answer starts inside it
    assert scores["exact_match"] == scores["span_accuracy"] == pytest.approx(100 * 3218 / 3219)


def test_window_stride(tokenizer):
    task = get_task("cmrc2018")
    long = [example for example in read_task(CLUE_DATA, "cmrc2018", "dev") if len(example.context) > 1200][:5]
    features = encode(task, tokenizer, long, 256)
    for first, second in pairwise(features):
        if first["example"] == second["example"]:
            tokens = tokenizer(long[first["example"]].context, add_special_tokens=False, return_offsets_mapping=True)
            offsets = [tuple(pair) for pair in tokens["offset_mapping"]]
            step = offsets.index(tuple(second["offsets"][0])) - offsets.index(tuple(first["offsets"][0]))
            assert step == WINDOW_STRIDE


def test_cluener_gold_entities_survive_alignment(tokenizer):
    task = get_task("cluener")
    examples = read_task(CLUE_DATA, "cluener", "dev")
    features = encode(task, tokenizer, examples, task.max_length)
    reduced = {index: feature["entities"] for index, feature in enumerate(features)}
    predictions, references = metric_inputs(task, examples, per_example(task, examples, features, reduced))
    scores = metrics.load("cluener").compute(predictions=predictions, references=references)
    assert sum(len(example.entities) for example in examples) == 3072
    assert sum(len(feature["entities"]) for feature in features) == 3068  # 4 end inside a multi-character token
    assert scores["precision"] == 100.0 and scores["f1"] == pytest.approx(100 * 2 * 3068 / (3068 + 3072))


def test_pairs_are_truncated_to_the_recipe_without_token_types(tokenizer):
    task = get_task("afqmc")
    features = encode(task, tokenizer, read_task(CLUE_DATA, "afqmc", "dev")[:200], 32)
    assert all(len(feature["input_ids"]) <= 32 for feature in features)
    assert all(feature["input_ids"].count(tokenizer.sep_token_id) == 2 for feature in features)
    batch = Collator(task, tokenizer.pad_token_id)(list(enumerate(features[:4])))
    assert set(batch) == {"index", "input_ids", "attention_mask", "labels"}  # no token_type_ids: all segments 0


def test_c3_choices_are_padded_to_four_and_fit(tokenizer):
    task = get_task("c3")
    examples = [example for example in read_task(CLUE_DATA, "c3", "dev") if len(example.choices) < 4][:20]
    features = encode(task, tokenizer, examples, task.max_length)
    for example, feature in zip(examples, features, strict=True):
        assert len(feature["input_ids"]) == 4 and feature["label"] == example.label
        assert all(len(sequence) <= task.max_length and sequence.count(tokenizer.sep_token_id) == 3
                   for sequence in feature["input_ids"])  # fmt: skip
        assert tokenizer.decode(feature["input_ids"][-1]).endswith("无效答案[SEP]")
    batch = Collator(task, tokenizer.pad_token_id)(list(enumerate(features)))
    assert batch["input_ids"].shape[:2] == (20, 4)


def test_chid_context_trimming_and_longest_piece_cut():
    """No ChID file is available here: hand-written pieces in its format (docs: clue_spec.md §2.10)."""
    assert trim_context("一二三四五", "六七", 4) == ("四五", "六七")  # longer side first, from its far end
    assert trim_context("一二", "三四五六七", 4) == ("一二", "三四")
    assert fit_pieces([[1] * 5, [2] * 2, [3] * 3], 6) == [[1] * 2, [2] * 2, [3] * 2]
    task = get_task("chid")
    example = ChoiceExample("#idiom000001#", "甲" * 80, "乙" * 10, ("一心一意",) * 10, 3, group="1")
    features = encode(task, Bert4KerasTokenizer(str(VOCAB)), [example], task.max_length)
    assert len(features[0]["input_ids"]) == 10 and all(len(s) <= 64 for s in features[0]["input_ids"])
