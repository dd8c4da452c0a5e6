"""GAU-α in PyTorch, exactly as bert4keras computes it (ZhuiyiTechnology/GAU-alpha `models.py` on top of
bert4keras' RoFormerV2, `layers.py: GatedAttentionUnit`, `backend.py: attention_normalize`).

Embeddings → dropout → RMSNorm, then per layer a single Gated Attention Unit and no feed-forward:
    u, v, z = split(swish(x · W_i))                     # widths e, e, s; no bias
    q, k = RoPE(z ⊙ γ_q), RoPE(z ⊙ γ_k)                 # one head of width s
    A = softmax(log(n)/log(512) · q·kᵀ/√s)              # softmax_plus, n = valid tokens of the sequence
    x = RMSNorm(x + Dropout((u ⊙ A·v) · W_o))
Introduced in https://kexue.fm/archives/9052 (GAU: https://kexue.fm/archives/8934).
"""

import torch
from torch import nn
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer

from ..configuration.configuration_gau_alpha import GAUAlphaConfig
from .junnyu_layout import GAU_ALPHA
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


class GatedAttentionUnit(nn.Module):
    """GAU with a shared q/k projection and per-dimension scales γ_q, γ_k (no offsets), single head."""

    def __init__(self, config: GAUAlphaConfig):
        super().__init__()
        self.config = config
        self.intermediate_size = config.intermediate_size
        self.key_size = config.attention_key_size
        self.is_causal = False
        self.attention_dropout = config.attention_probs_dropout_prob
        self.i_proj = nn.Linear(
            config.hidden_size, 2 * config.intermediate_size + config.attention_key_size, bias=False
        )
        self.q_scale = nn.Parameter(torch.ones(config.attention_key_size))
        self.k_scale = nn.Parameter(torch.ones(config.attention_key_size))
        self.o_proj = ResidualProjection(config.intermediate_size, config.hidden_size, bias=False)
        self.act_fn = activation(config.hidden_act)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor],
        padding_mask: torch.Tensor,
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        projected = self.act_fn(self.i_proj(hidden_states))
        # Split order u, v, qk as in bert4keras layers.py:666.
        gate, value, shared_qk = projected.split([self.intermediate_size, self.intermediate_size, self.key_size], -1)
        cos, sin = position_embeddings  # (batch, seq, key_size)
        query = apply_rotary(shared_qk * self.q_scale, cos, sin)
        key = apply_rotary(shared_qk * self.k_scale, cos, sin)
        scale = softmax_plus_scale(padding_mask, self.key_size, self.config.softmax_plus_min_length)

        output, probs = attention_function(self.config)(
            self,
            query.unsqueeze(1) * scale.to(query.dtype),  # (batch, 1, seq, key_size)
            key.unsqueeze(1),
            value.unsqueeze(1),  # (batch, 1, seq, intermediate_size)
            attention_mask,
            scaling=1.0,
            dropout=self.attention_dropout if self.training else 0.0,
            **kwargs,
        )
        return self.o_proj(gate * output.squeeze(2)), probs


class GAUAlphaLayer(GradientCheckpointingLayer):
    """GAU → Dropout → Add → RMSNorm."""

    def __init__(self, config: GAUAlphaConfig):
        super().__init__()
        self.gau = GatedAttentionUnit(config)
        self.norm = RMSNorm(config.rms_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        position_embeddings: tuple[torch.Tensor, torch.Tensor],
        padding_mask: torch.Tensor,
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        gau_output, probs = self.gau(hidden_states, attention_mask, position_embeddings, padding_mask, **kwargs)
        return self.norm(hidden_states + self.dropout(gau_output)), probs


class GAUAlphaPreTrainedModel(Bert4KerasPreTrainedModel):
    config: GAUAlphaConfig
    _no_split_modules = ["GAUAlphaLayer"]
    init_order = 3
    junnyu_layout = GAU_ALPHA

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, GatedAttentionUnit):
            # bert4keras ScaleOffset gammas start at one (layers.py:227-234).
            init.ones_(module.q_scale)
            init.ones_(module.k_scale)


class GAUAlphaModel(EncoderModel, GAUAlphaPreTrainedModel):
    """The bare encoder: the hidden states after the last layer (there is no pooler and no final norm)."""

    layer_class = GAUAlphaLayer

    @property
    def rotary_dim(self) -> int:
        return self.config.attention_key_size


class GAUAlphaForMaskedLM(EncoderForMaskedLM, GAUAlphaPreTrainedModel):
    backbone_class = GAUAlphaModel


class GAUAlphaForSequenceClassification(EncoderForSequenceClassification, GAUAlphaPreTrainedModel):
    backbone_class = GAUAlphaModel


class GAUAlphaForMultipleChoice(EncoderForMultipleChoice, GAUAlphaPreTrainedModel):
    backbone_class = GAUAlphaModel


class GAUAlphaForTokenClassification(EncoderForTokenClassification, GAUAlphaPreTrainedModel):
    backbone_class = GAUAlphaModel


class GAUAlphaForQuestionAnswering(EncoderForQuestionAnswering, GAUAlphaPreTrainedModel):
    backbone_class = GAUAlphaModel


# Auto class → model class: what the package registers, and the auto_map of every saved folder.
AUTO_MAP = {
    "AutoModel": GAUAlphaModel,
    "AutoModelForMaskedLM": GAUAlphaForMaskedLM,
    "AutoModelForSequenceClassification": GAUAlphaForSequenceClassification,
    "AutoModelForMultipleChoice": GAUAlphaForMultipleChoice,
    "AutoModelForTokenClassification": GAUAlphaForTokenClassification,
    "AutoModelForQuestionAnswering": GAUAlphaForQuestionAnswering,
}

__all__ = [
    "GAUAlphaForMaskedLM",
    "GAUAlphaForMultipleChoice",
    "GAUAlphaForQuestionAnswering",
    "GAUAlphaForSequenceClassification",
    "GAUAlphaForTokenClassification",
    "GAUAlphaModel",
    "GAUAlphaPreTrainedModel",
]
