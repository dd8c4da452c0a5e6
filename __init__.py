"""kexue-models: Su Jianlin's RoFormerV2 and GAU-α, and Transformer-VQ, as transformers models.

Importing the package registers every config, model and tokenizer with transformers' Auto classes, so
`AutoModelForMaskedLM.from_pretrained(folder)` works on any folder our converters write.
"""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForMultipleChoice,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)

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
)

__version__ = "0.1.0"

# Auto class → the model class for each config; the one table both the registration and the tests read.
AUTO_CLASSES = {
    RoFormerV2Config: {
        AutoModel: RoFormerV2Model,
        AutoModelForMaskedLM: RoFormerV2ForMaskedLM,
        AutoModelForSequenceClassification: RoFormerV2ForSequenceClassification,
        AutoModelForMultipleChoice: RoFormerV2ForMultipleChoice,
        AutoModelForTokenClassification: RoFormerV2ForTokenClassification,
        AutoModelForQuestionAnswering: RoFormerV2ForQuestionAnswering,
    },
    GAUAlphaConfig: {
        AutoModel: GAUAlphaModel,
        AutoModelForMaskedLM: GAUAlphaForMaskedLM,
        AutoModelForSequenceClassification: GAUAlphaForSequenceClassification,
        AutoModelForMultipleChoice: GAUAlphaForMultipleChoice,
        AutoModelForTokenClassification: GAUAlphaForTokenClassification,
        AutoModelForQuestionAnswering: GAUAlphaForQuestionAnswering,
    },
    TransformerVQConfig: {
        AutoModel: TransformerVQModel,
        AutoModelForCausalLM: TransformerVQForCausalLM,
    },
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
