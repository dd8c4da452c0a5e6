"""Model scores → predictions per example → metric inputs and CLUE's submission files (docs: clue_spec.md §2).

Scores are reduced per feature on the process that computed them (a class's logits, a window's best span, a
text's entities), so only small Python objects are gathered across processes."""

import json
from collections import defaultdict

import torch

from .decode import best_span, decode_entities
from .tasks import Task


def reduce_batch(task: Task, batch: dict[str, torch.Tensor], scores: torch.Tensor) -> list[tuple[int, object]]:
    """(feature index, what that feature predicts) for each feature of the batch."""
    indices = batch["index"].tolist()
    if task.kind in ("classification", "choice"):
        return list(zip(indices, scores.tolist(), strict=True))
    if task.kind == "span":
        starts, ends, best = best_span(scores)
        return list(zip(indices, zip(starts.tolist(), ends.tolist(), best.tolist(), strict=True), strict=True))
    return list(zip(indices, decode_entities(scores), strict=True))


def assign_jointly(logits: list[list[float]]) -> list[int]:
    """The candidate of each blank of one chid line, each candidate used at most once, maximising the summed
    logits (Su's Hungarian decoding with `linear_sum_assignment`)."""
    from scipy.optimize import linear_sum_assignment

    rows, columns = linear_sum_assignment(-torch.tensor(logits).numpy())
    choice = dict(zip(rows.tolist(), columns.tolist(), strict=True))
    return [choice[row] for row in range(len(logits))]


def argmax(scores: list[float]) -> int:
    return max(range(len(scores)), key=scores.__getitem__)


def per_example(task: Task, examples: list, features: list[dict], reduced: dict[int, object]) -> list:
    """One prediction per example: a class index, a choice index, (answer text, start) or (type, start, end)
    character spans."""
    if task.kind == "classification":
        return [argmax(reduced[i]) for i in range(len(features))]
    if task.kind == "choice":
        logits = [reduced[i][: len(example.choices)] for i, example in enumerate(examples)]
        if task.name != "chid":
            return [argmax(row) for row in logits]
        groups = defaultdict(list)
        for index, example in enumerate(examples):
            groups[example.group].append(index)
        predictions = [0] * len(examples)
        for members in groups.values():
            for index, choice in zip(members, assign_jointly([logits[i] for i in members]), strict=True):
                predictions[index] = choice
        return predictions
    if task.kind == "span":
        best: dict[int, tuple[float, int]] = {}
        for index, feature in enumerate(features):
            score = reduced[index][2]
            if feature["example"] not in best or score > best[feature["example"]][0]:
                best[feature["example"]] = (score, index)
        answers = []
        for example_index, example in enumerate(examples):
            feature_index = best[example_index][1]
            feature, (start, end, _) = features[feature_index], reduced[feature_index]
            offsets, first = feature["offsets"], feature["context_start"]
            begin, stop = offsets[start - first][0], offsets[end - first][1]
            answers.append((example.context[begin:stop], begin))
        return answers
    entities = []
    for index, feature in enumerate(features):
        offsets = feature["offsets"]
        entities.append(
            sorted(
                (task.labels[kind], offsets[start - 1][0], offsets[end - 1][1] - 1)
                for kind, start, end in reduced[index]
                if 0 < start and end <= len(offsets)
            )
        )
    return entities


def label_dict(text: str, entities) -> dict:
    """CLUE's label format: type → {entity text → [[start, end], ...]}, end inclusive."""
    label: dict = {}
    for kind, start, end in entities:
        label.setdefault(kind, {}).setdefault(text[start : end + 1], []).append([start, end])
    return label


def metric_inputs(task: Task, examples: list, predictions: list) -> tuple[list, list]:
    """(predictions, references) in the shapes the task's `evaluate` module takes."""
    if task.metric == "accuracy":
        return predictions, [example.label for example in examples]
    if task.metric == "cmrc2018":
        return (
            [
                {"id": example.id, "prediction_text": text, "answer_start": start}
                for example, (text, start) in zip(examples, predictions, strict=True)
            ],
            [
                {
                    "id": example.id,
                    "answers": {"text": list(example.answers), "answer_start": list(example.answer_starts)},
                }
                for example in examples
            ],
        )
    return (
        [label_dict(example.text, entities) for example, entities in zip(examples, predictions, strict=True)],
        [label_dict(example.text, example.entities) for example in examples],
    )


def submission_text(task: Task, examples: list, predictions: list) -> str:
    """The file CLUE's leaderboard takes for this task: JSON lines, or one JSON object for cmrc2018 and chid."""
    if task.kind == "span":
        return json.dumps(
            {example.id: text for example, (text, _) in zip(examples, predictions, strict=True)}, ensure_ascii=False
        )
    if task.name == "chid":
        return json.dumps(
            {example.id: choice for example, choice in zip(examples, predictions, strict=True)}, ensure_ascii=False
        )
    if task.kind == "entity":
        rows = [
            {"id": example.id, "text": example.text, "label": label_dict(example.text, entities)}
            for example, entities in zip(examples, predictions, strict=True)
        ]
    elif task.kind == "choice":
        rows = [
            {"id": example.id, "label": str(choice)} for example, choice in zip(examples, predictions, strict=True)
        ]
    else:
        rows = [
            {"id": example.id, "label": task.labels[label]}
            for example, label in zip(examples, predictions, strict=True)
        ]
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
