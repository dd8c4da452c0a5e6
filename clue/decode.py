"""Scores of the span heads → answers: entities above a threshold (cluener), the best span of a window
(cmrc2018). Plain tensor code, testable with gold scores."""

import torch


def decode_entities(scores: torch.Tensor, threshold: float = 0.0) -> list[list[tuple[int, int, int]]]:
    """(batch, types, seq, seq) → per example the sorted (type, start, end) whose score is above `threshold`
    (bert4keras' NER decoding: every cell > 0)."""
    found = (scores > threshold).nonzero().tolist()
    entities: list[list[tuple[int, int, int]]] = [[] for _ in range(scores.shape[0])]
    for example, kind, start, end in found:
        entities[example].append((kind, start, end))
    return entities


def best_span(scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(batch, 1, seq, seq) → (start, end, score) per example: the argmax over all pairs except those touching
    position 0 ([CLS], the no-answer slot in training), as Su's cmrc2018 decoding."""
    scores = scores[:, 0].clone()
    scores[:, 0, :] = scores[:, :, 0] = float("-inf")
    best, flat = scores.flatten(1).max(-1)
    length = scores.shape[-1]
    return flat // length, flat % length, best
