"""What the configurations share: validation on construction, and field checks whose errors name the config
class, the field and the value."""

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig
from transformers.activations import ACT2FN

TIED_EMBEDDING_MODES = ("direct", "untied", "small_std", "projection", "half_swap")


class ValidatedConfig(PreTrainedConfig):
    """A config that runs `validate_architecture` when constructed, not only when transformers asks."""

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        # A bad field then raises a plain ValueError naming it, not strict's wrapper error.
        self.validate_architecture()


@strict
class OutputEmbeddingConfig(ValidatedConfig):
    r"""
    The output-embedding options every kexue model shares (modeling/output_embedding.py, kexue.fm/archives/9698).

    Args:
        tied_embedding_mode: `direct` (logits = h·Eᵀ, as released), `untied`, `small_std` (tied, embedding
            σ = log(n)/d), `projection` (tied, orthogonal d×d projection first) or `half_swap` (tied, halves of
            the state swapped first). `None` follows `tie_word_embeddings`; a mode, once given, sets it.
        output_projection_activation: activation after the `projection` mode's projection (BERT's head: `gelu`).
        zero_init_residual: start every residual branch's output projection at zero.
    """

    tied_embedding_mode: str | None = None
    output_projection_activation: str | None = None
    zero_init_residual: bool = False

    def __post_init__(self, **kwargs):
        # Two fields say whether the output is tied; the mode, when given, decides.
        if self.tied_embedding_mode is None:
            self.tied_embedding_mode = "direct" if self.tie_word_embeddings else "untied"
        else:
            self.tie_word_embeddings = self.tied_embedding_mode != "untied"
        super().__post_init__(**kwargs)

    def validate_architecture(self):
        super().validate_architecture()
        name = type(self).__name__
        if self.tied_embedding_mode not in TIED_EMBEDDING_MODES:
            raise ValueError(
                f"{name}: tied_embedding_mode must be one of {TIED_EMBEDDING_MODES}, got {self.tied_embedding_mode!r}"
            )
        if self.tied_embedding_mode == "half_swap" and self.hidden_size % 2:
            raise ValueError(f"{name}: half_swap needs an even hidden_size, got {self.hidden_size}")
        if self.output_projection_activation is not None:
            check_activation(self, "output_projection_activation")


def check_positive(config: PreTrainedConfig, *fields: str) -> None:
    for name in fields:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{type(config).__name__}: {name} must be a positive integer, got {value!r}")


def check_positive_float(config: PreTrainedConfig, *fields: str) -> None:
    for name in fields:
        value = getattr(config, name)
        if not value > 0:
            raise ValueError(f"{type(config).__name__}: {name} must be > 0, got {value!r}")


def check_probability(config: PreTrainedConfig, *fields: str) -> None:
    for name in fields:
        value = getattr(config, name)
        if value is not None and not 0.0 <= value < 1.0:
            raise ValueError(f"{type(config).__name__}: {name} must be in [0, 1), got {value!r}")


def check_activation(config: PreTrainedConfig, name: str) -> None:
    value = getattr(config, name)
    if value not in ACT2FN:
        raise ValueError(
            f"{type(config).__name__}: {name} must be one of transformers' activations "
            f"(e.g. 'relu', 'swish', 'gelu'), got {value!r}"
        )
