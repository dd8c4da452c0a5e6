"""Transformer-VQ configuration.

Transformer-VQ (Lingle, ICLR 2024, arXiv:2309.16354) is a causal decoder of Gated Attention Units whose keys
are vector-quantized, so that attention to the whole past runs in linear time. Field names follow
transformers where a concept exists there, and the paper's own terms otherwise; each docstring entry names
the field of the official `TransformerConfig` (transformer-vq/transformer_vq, nn/types.py) it stands for.
The defaults are the paper's enwik8 model (scripts/lm_enwik8.sh).
"""

from huggingface_hub.dataclasses import strict

from .configuration_common import OutputEmbeddingConfig, check_positive, check_positive_float, check_probability

ATTENTION_ALGORITHMS = ("blockwise", "quadratic")


@strict
class TransformerVQConfig(OutputEmbeddingConfig):
    r"""
    Configuration of a [`TransformerVQModel`].

    Args:
        vocab_size: size of the token vocabulary (`n_vocab`).
        hidden_size: width of the residual stream (`d_model`).
        num_hidden_layers: number of GAU blocks. The official `n_layer` counts pairs of them, so it is half
            of this.
        num_attention_heads: heads per GAU (`n_head`; 1 in every published config).
        d_k: width of each head's queries and keys.
        d_v: width of each head's values and gates.
        n_code: codebook size per head (`n_code`, S in the paper).
        block_len: block length L of the linear-time attention: the work unit, never a limit on input length.
        mem_len: how many of the most recent keys each query sees uncompressed, with relative position biases
            (`mem_len`, M); older keys are seen through the compressed cache.
        agg_cache: attend to the compressed cache of older keys (`agg_cache`); `False` gives a sliding window
            of `mem_len` + 1 keys.
        use_final_norm: RMS norm (with gain and bias) before the output head (`e_preln`).
        logit_scale: factor applied to the logits after the head's bias (`e_scale`).
        use_absolute_position_embeddings: add learned-scale sinusoidal absolute positions (`pe_abs`).
        sinusoid_base: base wavelength of every sinusoid table (`pe_lam`).
        embedding_dropout: dropout after the embeddings (`p_dropemb`).
        sinusoid_dropout: dropout on the relative-position sinusoids before their projection (`p_dropsin`).
        residual_dropout: dropout on each GAU's output (`p_dropres`).
        layer_dropout: probability of dropping a GAU's whole residual branch for a sequence (`p_droplyr`).
        commitment_coefficient: weight of the VQ commitment loss in the training loss (`c_beta`).
        codebook_ema_rate: decay of the codebook's exponential moving averages (`c_gamma`).
        rms_norm_eps: epsilon inside the RMS norms (1e-6 in the official code).
        attention_algorithm: `"blockwise"` (linear time, the default) or `"quadratic"`, which treats every
            forward call as one block and serves as the reference the linear-time path must match.
        tie_word_embeddings: the output head is the transposed token embedding (`e_tie`).
        pad_token_id, bos_token_id, eos_token_id: the official vocabularies put pad at 0 and EOS at 1, and every
            sequence starts with EOS.
    """

    model_type = "transformer_vq"
    keys_to_ignore_at_inference = ["cache"]

    vocab_size: int = 259
    hidden_size: int = 768
    num_hidden_layers: int = 48
    num_attention_heads: int = 1
    d_k: int = 128
    d_v: int = 1536
    n_code: int = 512
    block_len: int = 512
    mem_len: int = 512
    agg_cache: bool = True
    use_final_norm: bool = False
    logit_scale: float = 1.0
    use_absolute_position_embeddings: bool = False
    sinusoid_base: float = 100000.0
    embedding_dropout: float = 0.0
    sinusoid_dropout: float = 0.2
    residual_dropout: float = 0.5
    layer_dropout: float = 0.3
    commitment_coefficient: float = 1e-4
    codebook_ema_rate: float = 0.99
    rms_norm_eps: float = 1e-6
    attention_algorithm: str = "blockwise"
    tie_word_embeddings: bool = False
    pad_token_id: int | None = 0
    bos_token_id: int | None = 1
    eos_token_id: int | None = 1

    def validate_architecture(self):
        super().validate_architecture()
        check_positive(
            self,
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "d_k",
            "d_v",
            "n_code",
            "block_len",
            "mem_len",
        )
        check_probability(self, "embedding_dropout", "sinusoid_dropout", "residual_dropout", "layer_dropout")
        check_positive_float(self, "sinusoid_base", "rms_norm_eps")
        if not 0.0 < self.codebook_ema_rate < 1.0:
            raise ValueError(
                f"TransformerVQConfig: codebook_ema_rate must be in (0, 1), got {self.codebook_ema_rate!r}"
            )
        if self.commitment_coefficient < 0:
            raise ValueError(
                f"TransformerVQConfig: commitment_coefficient must be >= 0, got {self.commitment_coefficient!r}"
            )
        if self.hidden_size % 2:
            raise ValueError(
                "TransformerVQConfig: hidden_size must be even (its sinusoids pair sin and cos), "
                f"got {self.hidden_size}"
            )
        if self.attention_algorithm not in ATTENTION_ALGORITHMS:
            raise ValueError(
                f"TransformerVQConfig: attention_algorithm must be one of {ATTENTION_ALGORITHMS}, "
                f"got {self.attention_algorithm!r}"
            )


__all__ = ["TransformerVQConfig"]
