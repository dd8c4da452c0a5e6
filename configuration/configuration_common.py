"""Field checks shared by the configurations: each error names the config class, the field and the value."""

from transformers import PreTrainedConfig
from transformers.activations import ACT2FN


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
