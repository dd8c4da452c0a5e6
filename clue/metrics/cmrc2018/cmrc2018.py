"""CMRC 2018 exact match and F1 as its official evaluation script computes them, plus Su's span accuracy.

The official script (ymcui/cmrc2018 `squad-style-data/cmrc2018_evaluate.py`, v5, Python 2) scores each
question against all its gold answers (best one counts):
- EM: equality after lower-casing, stripping and removing a fixed set of punctuation;
- F1: over "mixed segmentation" tokens (each CJK character is a token, runs of other characters are split
  by nltk's word tokenizer, the punctuation set removed), with overlap = the longest common *contiguous*
  run of tokens; P = overlap / len(prediction), R = overlap / len(gold).
A question without a prediction counts 0. `nltk.word_tokenize` needs downloaded punkt data only to split
sentences first; `preserve_line=True` runs the same word tokenizer without it.
Su's span accuracy (his CLUE scripts' dev number): the prediction is the first gold answer, same text and
same start, when `answer_start` is predicted.
"""

import re

import datasets
import evaluate
from nltk.tokenize import word_tokenize

_DESCRIPTION = __doc__
_KWARGS_DESCRIPTION = """
Args:
    predictions: list of {"id": str, "prediction_text": str, "answer_start": int (optional, -1 if unknown)}.
    references: list of {"id": str, "answers": {"text": [str, ...], "answer_start": [int, ...]}}.
Returns:
    exact_match, f1, average ((EM + F1) / 2, as the official script prints), span_accuracy: in percent.
Examples:
    >>> from kexue_models.clue.metrics import load
    >>> references = [{"id": "q1", "answers": {"text": ["北京大学"], "answer_start": [3]}}]
    >>> predictions = [{"id": "q1", "prediction_text": "北京大学。", "answer_start": 3}]
    >>> load("cmrc2018").compute(predictions=predictions, references=references)
    {'exact_match': 100.0, 'f1': 100.0, 'average': 100.0, 'span_accuracy': 0.0}
"""
# The official script's list; "……" is two characters and never matches one, as there.
PUNCTUATION = {"-", ":", "_", "*", "^", "/", "\\", "~", "`", "+", "=", "，", "。", "：", "？", "！", "“", "”", "；",
               "’", "《", "》", "……", "·", "、", "「", "」", "（", "）", "－", "～", "『", "』"}  # fmt: skip
CJK = re.compile(r"[\u4e00-\u9fa5]")


def mixed_segmentation(text: str, remove_punctuation: bool = False) -> list[str]:
    tokens, run = [], ""
    for char in str(text).lower().strip():
        if remove_punctuation and char in PUNCTUATION:
            continue
        if CJK.search(char) or char in PUNCTUATION:
            if run:
                tokens.extend(word_tokenize(run, preserve_line=True))
                run = ""
            tokens.append(char)
        else:
            run += char
    if run:
        tokens.extend(word_tokenize(run, preserve_line=True))
    return tokens


def without_punctuation(text: str) -> str:
    return "".join(char for char in str(text).lower().strip() if char not in PUNCTUATION)


def longest_common_run(first: list[str], second: list[str]) -> int:
    best, previous = 0, [0] * (len(second) + 1)
    for item in first:
        current = [0] * (len(second) + 1)
        for column, other in enumerate(second):
            if item == other:
                current[column + 1] = previous[column] + 1
                best = max(best, current[column + 1])
        previous = current
    return best


def f1_score(answers: list[str], prediction: str) -> float:
    scores = []
    predicted = mixed_segmentation(prediction, remove_punctuation=True)
    for answer in answers:
        gold = mixed_segmentation(answer, remove_punctuation=True)
        overlap = longest_common_run(gold, predicted)
        if overlap == 0:
            scores.append(0.0)
            continue
        precision, recall = overlap / len(predicted), overlap / len(gold)
        scores.append(2 * precision * recall / (precision + recall))
    return max(scores)


def exact_match(answers: list[str], prediction: str) -> float:
    return float(any(without_punctuation(answer) == without_punctuation(prediction) for answer in answers))


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Cmrc2018(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="Cui et al., A Span-Extraction Dataset for Chinese Machine Reading Comprehension, EMNLP 2019.",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": {
                        "id": datasets.Value("string"),
                        "prediction_text": datasets.Value("string"),
                        "answer_start": datasets.Value("int64"),
                    },
                    "references": {
                        "id": datasets.Value("string"),
                        "answers": datasets.Sequence(
                            {"text": datasets.Value("string"), "answer_start": datasets.Value("int64")}
                        ),
                    },
                }
            ),
        )

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch; a prediction without `answer_start` gets -1 (it then never counts for span accuracy)."""
        predictions = [{"answer_start": -1, **prediction} for prediction in predictions or []] or None
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def _compute(self, predictions, references):
        by_id = {prediction["id"]: prediction for prediction in predictions}
        em = f1 = span = 0.0
        for reference in references:
            answers = reference["answers"]
            prediction = by_id.get(reference["id"])
            if prediction is None:  # unanswered: 0, as the official script
                continue
            em += exact_match(answers["text"], prediction["prediction_text"])
            f1 += f1_score(answers["text"], prediction["prediction_text"])
            span += float(
                (prediction["prediction_text"], prediction["answer_start"])
                == (answers["text"][0], answers["answer_start"][0])
            )
        total = len(references)
        em, f1, span = (100.0 * value / total for value in (em, f1, span))
        return {"exact_match": em, "f1": f1, "average": (em + f1) / 2, "span_accuracy": span}
