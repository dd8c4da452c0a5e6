"""What the configurations share: validation on construction, and field checks whose errors name the config
class, the field and the value."""

from transformers import PreTrainedConfig
from transformers.activations import ACT2FN


class ValidatedConfig(PreTrainedConfig):
    """A config that runs `validate_architecture` when constructed, not only when transformers asks."""

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        # A bad field then raises a plain ValueError naming it, not strict's wrapper error.
        self.validate_architecture()


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
