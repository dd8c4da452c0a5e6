"""RoFormerV2 configuration.

RoFormerV2 (Su Jianlin, https://kexue.fm/archives/8998) is a post-norm BERT without biases or norm parameters,
with rotary position embeddings and no absolute positions. Numerics follow bert4keras
(`bert4keras/models.py: RoFormerV2`); `rms_norm_eps` selects the release: 1e-12 up to bert4keras 0.11.3 (the
published weights were trained with it), 1e-7 from 0.11.4 on.
"""

from huggingface_hub.dataclasses import strict

from .configuration_common import (
    OutputEmbeddingConfig,
    check_activation,
    check_positive,
    check_positive_float,
    check_probability,
)

ATTENTION_SCALES = ("standard", "entropy_invariant")


@strict
class RoFormerV2Config(OutputEmbeddingConfig):
    r"""
    Configuration of a [`RoFormerV2Model`]. The defaults give `chinese_roformer-v2-char_L-12_H-768_A-12` (base).

    Args:
        vocab_size: size of the token vocabulary.
        hidden_size: width of the hidden states.
        num_hidden_layers: number of post-norm Transformer layers.
        num_attention_heads: attention heads; the head size is `hidden_size // num_attention_heads`.
        intermediate_size: width of the feed-forward layer.
        hidden_act: activation of the feed-forward layer (`relu` in every published model).
        hidden_dropout_prob: dropout on the embeddings, on each residual branch and before the MLM projection.
        attention_probs_dropout_prob: dropout on the attention probabilities.
        max_position_embeddings: the length the model was pre-trained on. Not a limit: rotary positions extend
            to any length, as in bert4keras.
        type_vocab_size: number of segment ids.
        rms_norm_eps: epsilon of the parameter-free RMS norm (1e-12: bert4keras <= 0.11.3, 1e-7: >= 0.11.4).
        rope_theta: base of the rotary frequencies.
        classifier_dropout: dropout before the task heads; `hidden_dropout_prob` when `None`.
        attention_scale: `"standard"` (1/√d, as released) or `"entropy_invariant"`: log₅₁₂(n)/√d with n the
            valid keys of each sequence, as bert4keras' softmax_plus (kexue.fm/archives/8823), for length
            extrapolation.
        softmax_plus_min_length: floor on n for `"entropy_invariant"` (16 in current bert4keras).
        qk_bias: biases on the query and key projections, added before RoPE (kexue.fm/archives/9577).
        pad_token_id: padding id; the attention mask defaults to `input_ids != pad_token_id`, as in bert4keras.
        tie_word_embeddings: the MLM head is the transposed token embedding, as released.
    """

    model_type = "roformer_v2"

    vocab_size: int = 12000
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "relu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    rms_norm_eps: float = 1e-12
    rope_theta: float = 10000.0
    classifier_dropout: float | None = None
    attention_scale: str = "standard"
    softmax_plus_min_length: int = 16
    qk_bias: bool = False
    pad_token_id: int | None = 0
    tie_word_embeddings: bool = True

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def validate_architecture(self):
        super().validate_architecture()
        check_positive(
            self,
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "type_vocab_size",
            "max_position_embeddings",
            "softmax_plus_min_length",
        )
        check_probability(self, "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout")
        check_positive_float(self, "rms_norm_eps", "rope_theta")
        check_activation(self, "hidden_act")
        if self.attention_scale not in ATTENTION_SCALES:
            raise ValueError(
                f"RoFormerV2Config: attention_scale must be one of {ATTENTION_SCALES}, got {self.attention_scale!r}"
            )
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"RoFormerV2Config: hidden_size ({self.hidden_size}) must be a multiple of num_attention_heads "
                f"({self.num_attention_heads})"
            )
        if self.head_dim % 2:
            raise ValueError(
                f"RoFormerV2Config: the head size hidden_size / num_attention_heads = {self.head_dim} must be even "
                "for rotary position embeddings"
            )


__all__ = ["RoFormerV2Config"]
