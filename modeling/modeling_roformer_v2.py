"""RoFormerV2 in PyTorch, exactly as bert4keras computes it (`bert4keras/models.py: RoFormerV2`, 1220-1424).

Embeddings → dropout → RMSNorm, then per layer (post-norm, no biases, no norm parameters):
    x = RMSNorm(x + Dropout(MultiHeadAttention(x)))      # RoPE on q and k, softmax(q·kᵀ/√d)
    x = RMSNorm(x + Dropout(FeedForward(x)))             # W2 · relu(W1 · x)
Introduced in https://kexue.fm/archives/8998.
"""

import torch
from torch import nn
from transformers.modeling_layers import GradientCheckpointingLayer

from ..configuration.configuration_roformer_v2 import RoFormerV2Config
from .junnyu_layout import ROFORMER_V2
from .modeling_common import (
    Bert4KerasPreTrainedModel,
    EncoderForMaskedLM,
    EncoderForMultipleChoice,
    EncoderForQuestionAnswering,
    EncoderForSequenceClassification,
    EncoderForTokenClassification,
    EncoderModel,
    RMSNorm,
    activation,
    apply_rotary,
    attention_function,
    softmax_plus_scale,
)
from .output_embedding import ResidualProjection


class RoFormerV2Attention(nn.Module):
    """Multi-head self-attention without biases; RoPE on q and k per head (bert4keras layers.py:450-541)."""

    def __init__(self, config: RoFormerV2Config):
        super().__init__()
        self.config = config
        self.head_dim = config.head_dim
        self.scaling = self.head_dim**-0.5
        self.is_causal = False
        self.attention_dropout = config.attention_probs_dropout_prob
        # qk_bias: biases on q and k, added before RoPE (kexue.fm/archives/9577).
        self.q_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qk_bias)
        self.k_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=config.qk_bias)
        self.v_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)
        self.o_proj = ResidualProjection(config.hidden_size, config.hidden_size, bias=False)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor],
        padding_mask: torch.Tensor,
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        batch_size, seq_length = hidden_states.shape[:2]
        heads_shape = (batch_size, seq_length, -1, self.head_dim)
        cos, sin = (table.unsqueeze(1) for table in position_embeddings)  # (batch, 1, seq, head_dim)
        query = apply_rotary(self.q_proj(hidden_states).view(heads_shape).transpose(1, 2), cos, sin)
        key = apply_rotary(self.k_proj(hidden_states).view(heads_shape).transpose(1, 2), cos, sin)
        value = self.v_proj(hidden_states).view(heads_shape).transpose(1, 2)  # (batch, heads, seq, head_dim)
        scaling = self.scaling
        if self.config.attention_scale == "entropy_invariant":  # folded into q, as GAU-α's softmax_plus
            query = query * softmax_plus_scale(padding_mask, self.head_dim, self.config.softmax_plus_min_length)
            scaling = 1.0

        output, probs = attention_function(self.config)(
            self,
            query,
            key,
            value,
            attention_mask,
            scaling=scaling,
            dropout=self.attention_dropout if self.training else 0.0,
            **kwargs,
        )
        return self.o_proj(output.reshape(batch_size, seq_length, -1)), probs


class RoFormerV2FeedForward(nn.Module):
    """W2 · act(W1 · x) without biases (bert4keras layers.py:1041-1066)."""

    def __init__(self, config: RoFormerV2Config):
        super().__init__()
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.down_proj = ResidualProjection(config.intermediate_size, config.hidden_size, bias=False)
        self.act_fn = activation(config.hidden_act)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act_fn(self.up_proj(hidden_states)))


class RoFormerV2Layer(GradientCheckpointingLayer):
    """Attention → Dropout → Add → RMSNorm → FeedForward → Dropout → Add → RMSNorm."""

    def __init__(self, config: RoFormerV2Config):
        super().__init__()
        self.self_attn = RoFormerV2Attention(config)
        self.attention_norm = RMSNorm(config.rms_norm_eps)
        self.feed_forward = RoFormerV2FeedForward(config)
        self.feed_forward_norm = RMSNorm(config.rms_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor],
        padding_mask: torch.Tensor | None = None,
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attention_output, probs = self.self_attn(
            hidden_states, attention_mask, position_embeddings, padding_mask, **kwargs
        )
        hidden_states = self.attention_norm(hidden_states + self.dropout(attention_output))
        hidden_states = self.feed_forward_norm(hidden_states + self.dropout(self.feed_forward(hidden_states)))
        return hidden_states, probs


class RoFormerV2PreTrainedModel(Bert4KerasPreTrainedModel):
    config: RoFormerV2Config
    _no_split_modules = ["RoFormerV2Layer"]
    _supports_flash_attn = True
    init_order = 2
    junnyu_layout = ROFORMER_V2


class RoFormerV2Model(EncoderModel, RoFormerV2PreTrainedModel):
    """The bare encoder: the hidden states after the last layer (there is no pooler and no final norm)."""

    layer_class = RoFormerV2Layer

    @property
    def rotary_dim(self) -> int:
        return self.config.head_dim


class RoFormerV2ForMaskedLM(EncoderForMaskedLM, RoFormerV2PreTrainedModel):
    backbone_class = RoFormerV2Model


class RoFormerV2ForSequenceClassification(EncoderForSequenceClassification, RoFormerV2PreTrainedModel):
    backbone_class = RoFormerV2Model


class RoFormerV2ForMultipleChoice(EncoderForMultipleChoice, RoFormerV2PreTrainedModel):
    backbone_class = RoFormerV2Model


class RoFormerV2ForTokenClassification(EncoderForTokenClassification, RoFormerV2PreTrainedModel):
    backbone_class = RoFormerV2Model


class RoFormerV2ForQuestionAnswering(EncoderForQuestionAnswering, RoFormerV2PreTrainedModel):
    backbone_class = RoFormerV2Model


# Auto class → model class: what the package registers, and the auto_map of every saved folder.
AUTO_MAP = {
    "AutoModel": RoFormerV2Model,
    "AutoModelForMaskedLM": RoFormerV2ForMaskedLM,
    "AutoModelForSequenceClassification": RoFormerV2ForSequenceClassification,
    "AutoModelForMultipleChoice": RoFormerV2ForMultipleChoice,
    "AutoModelForTokenClassification": RoFormerV2ForTokenClassification,
    "AutoModelForQuestionAnswering": RoFormerV2ForQuestionAnswering,
}

__all__ = [
    "RoFormerV2ForMaskedLM",
    "RoFormerV2ForMultipleChoice",
    "RoFormerV2ForQuestionAnswering",
    "RoFormerV2ForSequenceClassification",
    "RoFormerV2ForTokenClassification",
    "RoFormerV2Model",
    "RoFormerV2PreTrainedModel",
]
