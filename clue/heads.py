"""Span heads of the CLUE harness, for any encoder: GlobalPointer, Efficient GlobalPointer, and their loss
(docs: clue_spec.md §6; kexue.fm/archives/8373, 8877, 7359). They score every (start, end) pair of tokens per
type; `decode.py` turns scores into spans."""

import math

import torch
from torch import nn

from ..modeling.modeling_common import apply_rotary, rotary_tables

# Pairs that cannot be a span (end before start, or padding): a large finite negative, so that the loss's
# log-sum-exp and the decoders see "never" without infinities.
MASKED = -1e12


def span_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """(batch, 1, seq, seq) bool: True where start and end are both tokens and start ≤ end."""
    valid = attention_mask.bool()
    pairs = valid[:, None, :, None] & valid[:, None, None, :]
    return pairs & torch.ones(pairs.shape[-2:], dtype=torch.bool, device=valid.device).triu()


def rotate(states: torch.Tensor) -> torch.Tensor:
    """Interleaved RoPE over (batch, heads, seq, dim) with positions 0..seq-1, as bert4keras' GlobalPointer."""
    positions = torch.arange(states.shape[-2], device=states.device)[None]
    cos, sin = rotary_tables(positions, states.shape[-1], 10000.0, states.dtype)
    return apply_rotary(states, cos[:, None], sin[:, None])


class GlobalPointer(nn.Module):
    """s_α(i, j) = <RoPE(q_α,i), RoPE(k_α,j)> / √d for every type α (bert4keras layers.py `GlobalPointer`)."""

    def __init__(self, hidden_size: int, heads: int, head_size: int = 64, bias: bool = False):
        super().__init__()
        self.heads, self.head_size = heads, head_size
        self.dense = nn.Linear(hidden_size, heads * 2 * head_size, bias=bias)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(batch, seq, hidden) → scores (batch, heads, seq, seq), float32, masked pairs at MASKED."""
        batch, length = hidden_states.shape[:2]
        projected = self.dense(hidden_states).view(batch, length, self.heads, 2 * self.head_size).transpose(1, 2)
        query, key = rotate(projected[..., : self.head_size]), rotate(projected[..., self.head_size :])
        scores = torch.einsum("bhid,bhjd->bhij", query.float(), key.float()) / math.sqrt(self.head_size)
        return scores.masked_fill(~span_mask(attention_mask), MASKED)


class EfficientGlobalPointer(nn.Module):
    """One shared q/k projection and per-type start/end biases (kexue.fm/archives/8877, bert4keras layers.py
    `EfficientGlobalPointer`): s_α(i, j) = <RoPE(q_i), RoPE(k_j)>/√d + (b_{2α+1}(i) + b_{2α}(j)) / 2, with q and
    k the even and odd channels of the shared projection, and the biases computed from it before RoPE."""

    def __init__(self, hidden_size: int, heads: int, head_size: int = 64, bias: bool = False):
        super().__init__()
        self.heads, self.head_size = heads, head_size
        self.dense = nn.Linear(hidden_size, 2 * head_size, bias=bias)
        self.type_dense = nn.Linear(2 * head_size, 2 * heads, bias=bias)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        projected = self.dense(hidden_states)  # (batch, seq, 2d)
        query, key = rotate(projected[:, None, :, 0::2]), rotate(projected[:, None, :, 1::2])  # one shared "head"
        shared = torch.einsum("bxid,bxjd->bxij", query.float(), key.float()) / math.sqrt(self.head_size)
        biases = self.type_dense(projected).float().transpose(1, 2) / 2  # (batch, 2·heads, seq)
        scores = shared + biases[:, 1::2, :, None] + biases[:, 0::2, None, :]
        return scores.masked_fill(~span_mask(attention_mask), MASKED)


def multilabel_categorical_crossentropy(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Su's multilabel CE (kexue.fm/archives/7359) per (sample, type) over all start-end cells, averaged:
    log(1 + Σ_neg e^s) + log(1 + Σ_pos e^-s). scores, targets: (batch, heads, seq, seq); masked cells hold
    MASKED and are never targets."""
    scores, targets = scores.flatten(2), targets.flatten(2).to(scores.dtype)
    zero = torch.zeros_like(scores[..., :1])
    negatives = scores.masked_fill(targets.bool(), MASKED)
    positives = (-scores).masked_fill(~targets.bool(), MASKED)
    loss = torch.logsumexp(torch.cat((negatives, zero), -1), -1) + torch.logsumexp(
        torch.cat((positives, zero), -1), -1
    )
    return loss.mean()
