from .configuration_gau_alpha import GAUAlphaConfig
from .configuration_roformer_v2 import RoFormerV2Config
from .configuration_transformer_vq import TransformerVQConfig

__all__ = ["GAUAlphaConfig", "RoFormerV2Config", "TransformerVQConfig"]
