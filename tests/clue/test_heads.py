"""GlobalPointer heads, their loss and decoding (clue_spec.md §6)."""

import math

import pytest
import torch

from kexue_models.clue.decode import best_span, decode_entities
from kexue_models.clue.heads import (
    MASKED,
    EfficientGlobalPointer,
    GlobalPointer,
    multilabel_categorical_crossentropy,
)

GOLD = [[(0, 1, 2), (2, 4, 4)], [(1, 0, 3)]]  # per example: (type, start, end)


def gold_scores(batch: int = 2, types: int = 3, length: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    targets = torch.zeros(batch, types, length, length)
    for example, spans in enumerate(GOLD):
        for kind, start, end in spans:
            targets[example, kind, start, end] = 1
    return torch.where(targets.bool(), 10.0, -10.0), targets


def test_decoding_gold_scores_recovers_the_gold_spans():
    scores, _ = gold_scores()
    assert decode_entities(scores) == GOLD


def test_best_span_skips_the_no_answer_slot():
    scores = torch.full((1, 1, 5, 5), -1.0)
    scores[0, 0, 0, 0] = 9.0  # [CLS]/[CLS]: "no answer" in training, never an answer
    scores[0, 0, 2, 3] = 5.0
    start, end, score = best_span(scores)
    assert (start.item(), end.item(), score.item()) == (2, 3, 5.0)


def test_multilabel_crossentropy_matches_its_formula():
    scores, targets = gold_scores()
    scores = scores + torch.randn_like(scores)
    loss = multilabel_categorical_crossentropy(scores, targets)
    expected = []
    for example in range(2):
        for kind in range(3):
            cell, gold = scores[example, kind].flatten(), targets[example, kind].flatten().bool()
            expected.append(math.log1p(cell[~gold].exp().sum()) + math.log1p((-cell[gold]).exp().sum()))
    assert loss.item() == pytest.approx(sum(expected) / len(expected), rel=1e-5)
    confident = torch.where(targets.bool(), 50.0, -50.0)
    assert multilabel_categorical_crossentropy(confident, targets) < 1e-6


@pytest.mark.parametrize("head_class", [GlobalPointer, EfficientGlobalPointer])
def test_heads_mask_padding_and_ends_before_starts_and_learn_spans(head_class):
    torch.manual_seed(0)
    head = head_class(hidden_size=16, heads=3, head_size=8)
    hidden = torch.randn(2, 6, 16)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    scores = head(hidden, mask)
    assert scores.shape == (2, 3, 6, 6)
    assert (scores[:, :, 3, 1] == MASKED).all()  # end before start
    assert (scores[1, :, 4:, :] == MASKED).all() and (scores[1, :, :, 4:] == MASKED).all()  # padding
    _, targets = gold_scores()
    targets[1, :, 4:, :] = targets[1, :, :, 4:] = 0
    optimizer = torch.optim.Adam([*head.parameters(), hidden.requires_grad_()], lr=0.05)
    for _ in range(150):
        loss = multilabel_categorical_crossentropy(head(hidden, mask), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert decode_entities(head(hidden, mask)) == GOLD


def test_global_pointer_scores_depend_on_relative_position():
    """RoPE: the same vectors at every position give s(i, j) that depends on j - i only."""
    torch.manual_seed(0)
    head = GlobalPointer(hidden_size=16, heads=1, head_size=8)
    scores = head(torch.randn(1, 1, 16).expand(1, 7, 16), torch.ones(1, 7))[0, 0]
    torch.testing.assert_close(scores[0, 2], scores[3, 5])
    torch.testing.assert_close(scores[1, 1], scores[4, 4])
