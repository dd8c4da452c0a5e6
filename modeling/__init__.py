from .modeling_gau_alpha import (
    GAUAlphaForMaskedLM,
    GAUAlphaForMultipleChoice,
    GAUAlphaForQuestionAnswering,
    GAUAlphaForSequenceClassification,
    GAUAlphaForTokenClassification,
    GAUAlphaModel,
    GAUAlphaPreTrainedModel,
)
from .modeling_roformer_v2 import (
    RoFormerV2ForMaskedLM,
    RoFormerV2ForMultipleChoice,
    RoFormerV2ForQuestionAnswering,
    RoFormerV2ForSequenceClassification,
    RoFormerV2ForTokenClassification,
    RoFormerV2Model,
    RoFormerV2PreTrainedModel,
)
from .modeling_transformer_vq import (
    TransformerVQCache,
    TransformerVQForCausalLM,
    TransformerVQModel,
    TransformerVQPreTrainedModel,
)
from .tokenization_bert4keras import Bert4KerasTokenizer

__all__ = [
    "Bert4KerasTokenizer",
    "GAUAlphaForMaskedLM",
    "GAUAlphaForMultipleChoice",
    "GAUAlphaForQuestionAnswering",
    "GAUAlphaForSequenceClassification",
    "GAUAlphaForTokenClassification",
    "GAUAlphaModel",
    "GAUAlphaPreTrainedModel",
    "RoFormerV2ForMaskedLM",
    "RoFormerV2ForMultipleChoice",
    "RoFormerV2ForQuestionAnswering",
    "RoFormerV2ForSequenceClassification",
    "RoFormerV2ForTokenClassification",
    "RoFormerV2Model",
    "RoFormerV2PreTrainedModel",
    "TransformerVQCache",
    "TransformerVQForCausalLM",
    "TransformerVQModel",
    "TransformerVQPreTrainedModel",
]
