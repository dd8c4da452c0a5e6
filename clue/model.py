"""Any transformers encoder (`AutoModel`) with the head and loss of a CLUE task (docs: clue_spec.md §1, §6):
the first token's last hidden state through a bare Linear (no pooler, no dropout) for classification and
multiple choice; GlobalPointer span scores for cmrc2018 (one head, softmax over all start-end pairs) and for
cluener (one head per type, Su's multilabel categorical cross-entropy). Head weights are initialised by the
encoder's own `_init_weights`, as bert4keras builds the head with the backbone's initializer."""

import torch
from torch import nn
from torch.nn import functional
from transformers import AutoModel

from .heads import EfficientGlobalPointer, GlobalPointer, multilabel_categorical_crossentropy
from .tasks import Task

GLOBAL_POINTER_HEAD_SIZE = 64  # Su's CLUE scripts: the attention head size of the base models
ENTITY_HEADS = {"global_pointer": GlobalPointer, "efficient_global_pointer": EfficientGlobalPointer}


class ClueModel(nn.Module):
    def __init__(self, encoder: nn.Module, task: Task, entity_head: str = "efficient_global_pointer"):
        super().__init__()
        self.encoder, self.kind = encoder, task.kind
        hidden = encoder.config.hidden_size
        if task.kind == "classification":
            self.head = nn.Linear(hidden, len(task.labels))
        elif task.kind == "choice":
            self.head = nn.Linear(hidden, 1)
        elif task.kind == "span":
            self.head = GlobalPointer(hidden, 1, GLOBAL_POINTER_HEAD_SIZE)
        else:
            if entity_head not in ENTITY_HEADS:
                raise ValueError(f"entity_head must be one of {sorted(ENTITY_HEADS)}, found {entity_head!r}")
            self.head = ENTITY_HEADS[entity_head](hidden, len(task.labels), GLOBAL_POINTER_HEAD_SIZE)
        self.head.apply(encoder._init_weights)

    @classmethod
    def from_pretrained(cls, path: str, task: Task, entity_head: str = "efficient_global_pointer", **kwargs):
        return cls(AutoModel.from_pretrained(path, **kwargs), task, entity_head)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        labels: torch.Tensor | None = None,
        span_mask: torch.Tensor | None = None,
        **_: torch.Tensor,
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(loss or None, scores): class logits (batch, labels), choice logits (batch, choices), or span scores
        (batch, heads, seq, seq). Multiple-choice inputs are (batch, choices, seq)."""
        shape = input_ids.shape
        hidden = self.encoder(
            input_ids=input_ids.view(-1, shape[-1]), attention_mask=attention_mask.view(-1, shape[-1])
        ).last_hidden_state
        if self.kind in ("classification", "choice"):
            scores = self.head(hidden[:, 0]).float()
            if self.kind == "choice":
                scores = scores.view(shape[0], shape[1])
            loss = functional.cross_entropy(scores, labels) if labels is not None else None
            return loss, scores
        if self.kind == "span":
            scores = self.head(hidden, span_mask)
            loss = None
            if labels is not None:
                length = scores.shape[-1]
                loss = functional.cross_entropy(scores.flatten(1), labels[:, 0] * length + labels[:, 1])
            return loss, scores
        scores = self.head(hidden, attention_mask)
        loss = multilabel_categorical_crossentropy(scores, labels) if labels is not None else None
        return loss, scores
