"""kexue-models: Su Jianlin's RoFormerV2 and GAU-α, and Transformer-VQ, as transformers models.

Importing the package registers every config, model and tokenizer with transformers' Auto classes, so
`AutoModelForMaskedLM.from_pretrained(folder)` works on any folder our converters write. Saved folders also
carry the code and an `auto_map`, so they load with `trust_remote_code=True` where the package is absent.
"""

import transformers
from transformers import AutoConfig, AutoTokenizer

from .configuration import GAUAlphaConfig, RoFormerV2Config, TransformerVQConfig
from .modeling import (
    Bert4KerasTokenizer,
    GAUAlphaForMaskedLM,
    GAUAlphaForMultipleChoice,
    GAUAlphaForQuestionAnswering,
    GAUAlphaForSequenceClassification,
    GAUAlphaForTokenClassification,
    GAUAlphaModel,
    RoFormerV2ForMaskedLM,
    RoFormerV2ForMultipleChoice,
    RoFormerV2ForQuestionAnswering,
    RoFormerV2ForSequenceClassification,
    RoFormerV2ForTokenClassification,
    RoFormerV2Model,
    TransformerVQCache,
    TransformerVQForCausalLM,
    TransformerVQModel,
    modeling_gau_alpha,
    modeling_roformer_v2,
    modeling_transformer_vq,
)

__version__ = "0.1.0"

# Config class → {Auto class: model class}, from each modeling module's AUTO_MAP (the one table both the
# registration, the exported auto_map and the tests read).
AUTO_CLASSES = {
    module.AUTO_MAP["AutoModel"].config_class: {
        getattr(transformers, auto): model_class for auto, model_class in module.AUTO_MAP.items()
    }
    for module in (modeling_roformer_v2, modeling_gau_alpha, modeling_transformer_vq)
}
# The encoders share the bert4keras char tokenizer; Transformer-VQ's vocabularies (bytes, SentencePiece) are
# the training run's own and are not part of its checkpoints.
TOKENIZERS = {RoFormerV2Config: Bert4KerasTokenizer, GAUAlphaConfig: Bert4KerasTokenizer}

for _config_class, _models in AUTO_CLASSES.items():
    AutoConfig.register(_config_class.model_type, _config_class, exist_ok=True)
    if _config_class in TOKENIZERS:
        AutoTokenizer.register(_config_class, fast_tokenizer_class=TOKENIZERS[_config_class], exist_ok=True)
    for _auto_class, _model_class in _models.items():
        _auto_class.register(_config_class, _model_class, exist_ok=True)
# Saved tokenizers carry their code and auto_map too (transformers copies this self-contained file).
Bert4KerasTokenizer.register_for_auto_class("AutoTokenizer")

__all__ = [
    "AUTO_CLASSES",
    "Bert4KerasTokenizer",
    "GAUAlphaConfig",
    "GAUAlphaForMaskedLM",
    "GAUAlphaForMultipleChoice",
    "GAUAlphaForQuestionAnswering",
    "GAUAlphaForSequenceClassification",
    "GAUAlphaForTokenClassification",
    "GAUAlphaModel",
    "RoFormerV2Config",
    "RoFormerV2ForMaskedLM",
    "RoFormerV2ForMultipleChoice",
    "RoFormerV2ForQuestionAnswering",
    "RoFormerV2ForSequenceClassification",
    "RoFormerV2ForTokenClassification",
    "RoFormerV2Model",
    "TransformerVQCache",
    "TransformerVQConfig",
    "TransformerVQForCausalLM",
    "TransformerVQModel",
]
