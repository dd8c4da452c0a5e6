"""CLUENER2020 entity scores: micro precision/recall/F1 over (type, start, end) (Su's dev metric), per-type
F1, and the leaderboard score of CLUENER's `score.py` (per-type F1 over entity texts, averaged over the 10
types). Inputs per example are CLUE's own label dicts: type → {entity text → [[start, end], ...]}, end
inclusive."""

import json
from collections import Counter

import datasets
import evaluate

TYPES = ("address", "book", "company", "game", "government", "movie", "name", "organization", "position", "scene")
_DESCRIPTION = __doc__
_KWARGS_DESCRIPTION = """
Args:
    predictions, references: one CLUE label dict per example, e.g. {"name": {"彭小军": [[0, 2]]}}.
Returns:
    precision, recall, f1 (micro over (type, start, end)), f1_<type> for each type, and leaderboard_f1
    (mean over the 10 types of the per-type F1 over entity texts, as CLUENER's score.py): in percent.
Examples:
    >>> from kexue_models.clue.metrics import load
    >>> gold = [{"name": {"彭小军": [[0, 2]]}, "address": {"台湾": [[15, 16]]}}]
    >>> predicted = [{"name": {"彭小军": [[0, 2]]}}]
    >>> scores = load("cluener").compute(predictions=predicted, references=gold)
    >>> round(scores["precision"], 2), round(scores["recall"], 2), round(scores["f1"], 2)
    (100.0, 50.0, 66.67)
"""


def spans(label: dict) -> set[tuple[str, int, int]]:
    return {(kind, start, end) for kind, mentions in label.items() for ranges in mentions.values()
            for start, end in ranges}  # fmt: skip


def as_json(labels: list[dict] | None) -> list[str] | None:
    return None if labels is None else [json.dumps(label, ensure_ascii=False) for label in labels]


def f1(correct: int, predicted: int, gold: int) -> tuple[float, float, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if correct else 0.0)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Cluener(evaluate.Metric):
    def _info(self):
        # The label dicts have free-form keys, which Arrow features cannot describe: they travel as JSON.
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Xu et al., CLUENER2020: Fine-grained Named Entity Recognition Dataset and Benchmark for "
            "Chinese, arXiv:2001.04351.",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of CLUE label dicts (encoded as JSON for the Arrow buffer)."""
        return super().add_batch(predictions=as_json(predictions), references=as_json(references), **kwargs)

    def _compute(self, predictions, references):
        predicted_labels = [json.loads(label) for label in predictions]
        gold_labels = [json.loads(label) for label in references]
        counts = Counter()
        text_counts = {kind: Counter() for kind in TYPES}
        for predicted_label, gold_label in zip(predicted_labels, gold_labels, strict=True):
            predicted, gold = spans(predicted_label), spans(gold_label)
            for kind in TYPES:
                typed_predicted = {span for span in predicted if span[0] == kind}
                typed_gold = {span for span in gold if span[0] == kind}
                counts[kind, "correct"] += len(typed_predicted & typed_gold)
                counts[kind, "predicted"] += len(typed_predicted)
                counts[kind, "gold"] += len(typed_gold)
                # score.py compares entity texts per type, not positions.
                predicted_texts = set(predicted_label.get(kind, {}))
                gold_texts = set(gold_label.get(kind, {}))
                text_counts[kind].update(
                    correct=len(predicted_texts & gold_texts), predicted=len(predicted_texts), gold=len(gold_texts)
                )
        totals = [sum(counts[kind, key] for kind in TYPES) for key in ("correct", "predicted", "gold")]
        precision, recall, micro = f1(*totals)
        scores = {"precision": 100 * precision, "recall": 100 * recall, "f1": 100 * micro}
        for kind in TYPES:
            scores[f"f1_{kind}"] = (
                100 * f1(counts[kind, "correct"], counts[kind, "predicted"], counts[kind, "gold"])[2]
            )
        by_text = [f1(text_counts[kind]["correct"], text_counts[kind]["predicted"], text_counts[kind]["gold"])[2]
                   for kind in TYPES]  # fmt: skip
        scores["leaderboard_f1"] = 100 * sum(by_text) / len(TYPES)
        return scores
