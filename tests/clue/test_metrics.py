"""The CLUE metrics, loaded offline from the package: their documented examples, gold answers scoring 100,
and CMRC 2018 EM/F1 on imperfect predictions equal to what the official script computes. The official script
is Python 2 (ymcui/cmrc2018 `squad-style-data/cmrc2018_evaluate.py`); the expected values below are worked
out by hand, step by step, from its code."""

import json
import random

import pytest

from kexue_models.clue import read_task
from kexue_models.clue.metrics import load
from tests.conftest import SHARED

DATA = SHARED / "data" / "clue"


def test_documented_examples():
    assert load("accuracy").compute(predictions=[0, 1, 1, 2], references=[0, 1, 2, 2]) == {"accuracy": 75.0}
    references = [{"id": "q1", "answers": {"text": ["北京大学"], "answer_start": [3]}}]
    scores = load("cmrc2018").compute(
        predictions=[{"id": "q1", "prediction_text": "北京大学。", "answer_start": 3}], references=references
    )
    assert scores == {"exact_match": 100.0, "f1": 100.0, "average": 100.0, "span_accuracy": 0.0}


@pytest.mark.parametrize("task", ["afqmc", "tnews", "c3"])
def test_gold_accuracy_is_100(task):
    labels = [example.label for example in read_task(DATA, task, "dev")]
    assert load("accuracy").compute(predictions=labels, references=labels)["accuracy"] == 100.0


def test_gold_cmrc2018_is_100_on_every_score():
    examples = read_task(DATA, "cmrc2018", "dev")
    references = [{"id": e.id, "answers": {"text": list(e.answers), "answer_start": list(e.answer_starts)}}
                  for e in examples]  # fmt: skip
    predictions = [{"id": e.id, "prediction_text": e.answers[0], "answer_start": e.answer_starts[0]} for e in examples]
    scores = load("cmrc2018").compute(predictions=predictions, references=references)
    assert scores == {"exact_match": 100.0, "f1": 100.0, "average": 100.0, "span_accuracy": 100.0}


def test_cmrc2018_matches_the_official_script_on_imperfect_predictions():
    cases = [  # (gold answers, prediction); the official EM and F1 of each, by hand
        (["北京大学"], "北京"),  # EM 0; tokens 北京大学 vs 北京: run 2, P 1, R 1/2 -> F1 2/3
        (["Peking University"], "the Peking University"),  # EM 0; nltk words: run 2, P 2/3, R 1 -> F1 0.8
        (["1998年", "1998"], "1998年"),  # EM 1, F1 1
        (["红楼梦"], "《红楼梦》"),  # 《 》 are in the punctuation list: EM 1, F1 1
        (["北京大学"], "大学北京"),  # contiguous run 2 of 4 each: P = R = 1/2 -> F1 0.5; EM 0
        (["上海"], ""),  # unanswered (evaluate takes one prediction per reference; empty scores 0 like a missing one)
    ]
    references = [{"id": f"q{i}", "answers": {"text": gold, "answer_start": [0] * len(gold)}}
                  for i, (gold, _) in enumerate(cases)]  # fmt: skip
    predictions = [{"id": f"q{i}", "prediction_text": text} for i, (_, text) in enumerate(cases)]
    scores = load("cmrc2018").compute(predictions=predictions, references=references)
    assert scores["exact_match"] == pytest.approx(100 * 2 / 6)
    assert scores["f1"] == pytest.approx(100 * (2 / 3 + 0.8 + 1 + 1 + 0.5 + 0) / 6)
    assert scores["average"] == pytest.approx((scores["exact_match"] + scores["f1"]) / 2)


def test_gold_cluener_is_100_on_every_score():
    examples = read_task(DATA, "cluener", "dev")
    labels = []
    for example in examples:
        label: dict = {}
        for kind, start, end in example.entities:
            label.setdefault(kind, {}).setdefault(example.text[start : end + 1], []).append([start, end])
        labels.append(label)
    scores = load("cluener").compute(predictions=labels, references=labels)
    assert all(value == 100.0 for value in scores.values()), scores


def test_cluener_positions_count_for_micro_f1_and_texts_for_the_leaderboard():
    gold = [{"name": {"张三": [[0, 1], [5, 6]]}, "address": {"北京": [[8, 9]]}}]
    predicted = [{"name": {"张三": [[0, 1]]}, "company": {"北京": [[8, 9]]}}]
    scores = load("cluener").compute(predictions=predicted, references=gold)
    # (type, start, end): 1 of 2 predicted right, 1 of 3 gold found.
    assert scores["precision"] == pytest.approx(50.0) and scores["recall"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(40.0)
    assert scores["f1_name"] == pytest.approx(100 * 2 * 1 * 0.5 / 1.5) and scores["f1_address"] == 0.0
    # By text, name is perfect (张三 predicted, 张三 gold); the mean runs over all 10 types.
    assert scores["leaderboard_f1"] == pytest.approx(100 / 10)


def test_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="unknown CLUE metric"):
        load("squad")


def perturbed(example, index: int, rng: random.Random) -> str:
    """An imperfect prediction of one of six kinds: gold, one character short, two long, shifted, a random span
    of the context, or the answer wrapped in punctuation and Latin text."""
    answer, start, context = example.answers[0], example.answer_starts[0], example.context
    end = start + len(answer)
    offset = rng.randrange(max(1, len(context) - len(answer)))
    return [answer, context[start : end - 1], context[start : end + 2], context[start + 1 : end + 1],
            context[offset : offset + len(answer)], f"《{answer}》 the {answer}-2018"][index % 6]  # fmt: skip


def test_cmrc2018_equals_the_official_script_on_every_dev_question_perturbed():
    """Our metric against CMRC 2018's official script (ported line for line to Python 3 in
    cmrc2018_official.py) on all 3,219 dev questions, each with an imperfect prediction."""
    from tests.clue import cmrc2018_official

    path = DATA / "cmrc2018" / "dev.json"
    examples = read_task(DATA, "cmrc2018", "dev")
    rng = random.Random(0)
    predictions = {example.id: perturbed(example, index, rng) for index, example in enumerate(examples)}
    official_f1, official_em, total, skipped = cmrc2018_official.evaluate(json.loads(path.read_text()), predictions)
    ours = load("cmrc2018").compute(
        predictions=[{"id": key, "prediction_text": text} for key, text in predictions.items()],
        references=[
            {"id": e.id, "answers": {"text": list(e.answers), "answer_start": list(e.answer_starts)}} for e in examples
        ],
    )
    assert (total, skipped) == (3219, 0)
    assert 15 < official_em < 60 and 40 < official_f1 < 90  # the perturbations cost something, not everything
    assert ours["exact_match"] == pytest.approx(official_em, abs=1e-9)
    assert ours["f1"] == pytest.approx(official_f1, abs=1e-9)
