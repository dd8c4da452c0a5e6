"""GAU-α configuration.

GAU-α (Su Jianlin, https://kexue.fm/archives/9052) replaces each attention + FFN pair of RoFormerV2 by one Gated
Attention Unit (https://arxiv.org/abs/2202.10447) with the `softmax_plus` normalisation, softmax of
`log(n)/log(512) * qk/sqrt(s)` with n the number of valid tokens. Numerics follow bert4keras
(`layers.py: GatedAttentionUnit`, `backend.py: attention_normalize`) and ZhuiyiTechnology/GAU-alpha `models.py`.
"""

from huggingface_hub.dataclasses import strict

from .configuration_common import (
    OutputEmbeddingConfig,
    check_activation,
    check_positive,
    check_positive_float,
    check_probability,
)


@strict
class GAUAlphaConfig(OutputEmbeddingConfig):
    r"""
    Configuration of a [`GAUAlphaModel`]. The defaults give `chinese_GAU-alpha-char_L-24_H-768`.

    Args:
        vocab_size: size of the token vocabulary.
        hidden_size: width of the hidden states.
        num_hidden_layers: number of GAU layers (one GAU per layer, no feed-forward).
        intermediate_size: width e of the gated branches u and v.
        attention_key_size: width s of the shared query/key projection.
        hidden_act: activation of the GAU input projection (`swish`, i.e. SiLU).
        hidden_dropout_prob: dropout on the embeddings, on each residual branch and before the MLM projection.
        attention_probs_dropout_prob: dropout on the attention probabilities.
        max_position_embeddings: the length the model was pre-trained on. Not a limit: rotary positions extend
            to any length, as in bert4keras.
        type_vocab_size: number of segment ids.
        rms_norm_eps: epsilon of the parameter-free RMS norm (1e-12: bert4keras <= 0.11.3, 1e-7: >= 0.11.4).
        softmax_plus_min_length: floor on the token count n in `log(n)/log(512)`: 1 in bert4keras <= 0.11.4 (how
            GAU-α was trained), 16 in 0.11.5, whose authors found the scale harmful on very short inputs.
        rope_theta: base of the rotary frequencies.
        classifier_dropout: dropout before the task heads; `hidden_dropout_prob` when `None`.
        pad_token_id: padding id; the attention mask defaults to `input_ids != pad_token_id`, as in bert4keras.
        tie_word_embeddings: the MLM head is the transposed token embedding, as released.
    """

    model_type = "gau_alpha"

    vocab_size: int = 12000
    hidden_size: int = 768
    num_hidden_layers: int = 24
    intermediate_size: int = 1536
    attention_key_size: int = 128
    hidden_act: str = "swish"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    rms_norm_eps: float = 1e-12
    softmax_plus_min_length: int = 1
    rope_theta: float = 10000.0
    classifier_dropout: float | None = None
    pad_token_id: int | None = 0
    tie_word_embeddings: bool = True

    def validate_architecture(self):
        super().validate_architecture()
        check_positive(
            self,
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "intermediate_size",
            "attention_key_size",
            "type_vocab_size",
            "max_position_embeddings",
            "softmax_plus_min_length",
        )
        check_probability(self, "hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout")
        check_positive_float(self, "rms_norm_eps", "rope_theta")
        check_activation(self, "hidden_act")
        if self.attention_key_size % 2:
            raise ValueError(
                f"GAUAlphaConfig: attention_key_size must be even for rotary position embeddings, "
                f"got {self.attention_key_size}"
            )


__all__ = ["GAUAlphaConfig"]
