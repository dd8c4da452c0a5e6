"""JunnYu's PyTorch conversions on the Hub (`junnyu/roformer_v2_chinese_char_*`,
`junnyu/chinese_GAU-alpha-char_L-24_H-768`), read as our models.

His folders use his own config schema and parameter names: RoFormerV2 as `model_type: roformer` with v2 flags
(so transformers' Auto classes build the v1 RoFormer and compute garbage), GAU-α as `model_type: gau_alpha`
with his names. Our `from_pretrained` recognises such a folder by its config, translates the config, renames
the weights through transformers' `key_mapping`, and refuses a folder whose weights do not fill the model,
naming the keys, instead of returning a partly random model.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JunnYuLayout:
    model_type: str  # his config's model_type
    marker: str | None  # a config key only his schema has, where his model_type is also ours
    required: dict  # his config values that make the checkpoint this architecture
    config_fields: dict  # his config key → ours
    key_mapping: dict  # regex on his parameter names → ours
    # His parameters with no counterpart here, e.g. a RoPE table we compute instead of store.
    ignored_keys: tuple[str, ...] = field(default=())

    def matches(self, raw: dict) -> bool:
        return raw.get("model_type") == self.model_type and (self.marker is None or self.marker in raw)

    def translate(self, raw: dict, config_class, where: str, **overrides):
        # A missing flag counts as wrong: without them his RoFormer config means v1.
        wrong = {key: raw.get(key) for key, value in self.required.items() if raw.get(key) != value}
        if wrong:
            raise ValueError(
                f"{where}: a {self.model_type} config with {wrong}, but {config_class.__name__} needs "
                f"{ {key: self.required[key] for key in wrong} } (this is not the architecture of the published "
                "checkpoints)"
            )
        if raw.get("embedding_size", raw.get("hidden_size")) != raw.get("hidden_size"):
            raise ValueError(f"{where}: embedding_size differs from hidden_size, which {config_class.__name__} lacks")
        values = {ours: raw[theirs] for theirs, ours in self.config_fields.items() if theirs in raw}
        return config_class(**{**values, **overrides})


COMMON_FIELDS = {
    "vocab_size": "vocab_size",
    "hidden_size": "hidden_size",
    "num_hidden_layers": "num_hidden_layers",
    "intermediate_size": "intermediate_size",
    "hidden_act": "hidden_act",
    "hidden_dropout_prob": "hidden_dropout_prob",
    "attention_probs_dropout_prob": "attention_probs_dropout_prob",
    "max_position_embeddings": "max_position_embeddings",
    "type_vocab_size": "type_vocab_size",
    "layer_norm_eps": "rms_norm_eps",
    "pad_token_id": "pad_token_id",
    "classifier_dropout": "classifier_dropout",
}
EMBEDDINGS = r"^{prefix}\.embeddings\.(word|token_type)_embeddings"

ROFORMER_V2 = JunnYuLayout(
    model_type="roformer",  # not ours (roformer_v2): any such folder is his, or a v1 RoFormer
    marker=None,
    required={"norm_type": "rms_norm", "use_bias": False, "rotary_value": False},
    config_fields={**COMMON_FIELDS, "num_attention_heads": "num_attention_heads"},
    key_mapping={
        EMBEDDINGS.format(prefix="roformer"): r"model.embeddings.\1_embeddings",
        r"^roformer\.encoder\.layer\.(\d+)\.attention\.self\.query": r"model.layers.\1.self_attn.q_proj",
        r"^roformer\.encoder\.layer\.(\d+)\.attention\.self\.key": r"model.layers.\1.self_attn.k_proj",
        r"^roformer\.encoder\.layer\.(\d+)\.attention\.self\.value": r"model.layers.\1.self_attn.v_proj",
        r"^roformer\.encoder\.layer\.(\d+)\.attention\.output\.dense": r"model.layers.\1.self_attn.o_proj",
        r"^roformer\.encoder\.layer\.(\d+)\.intermediate\.dense": r"model.layers.\1.feed_forward.up_proj",
        r"^roformer\.encoder\.layer\.(\d+)\.output\.dense": r"model.layers.\1.feed_forward.down_proj",
        r"^cls\.predictions\.decoder": "lm_head",
    },
    ignored_keys=("roformer.encoder.embed_positions.weight",),
)

GAU_ALPHA = JunnYuLayout(
    model_type="gau_alpha",
    marker="normalization",
    required={"normalization": "softmax_plus", "attention_scale": True, "use_bias": False},
    config_fields={**COMMON_FIELDS, "attention_key_size": "attention_key_size"},
    key_mapping={
        EMBEDDINGS.format(prefix="gau_alpha"): r"model.embeddings.\1_embeddings",
        r"^gau_alpha\.encoder\.layer\.(\d+)\.gau\.i_dense": r"model.layers.\1.gau.i_proj",
        r"^gau_alpha\.encoder\.layer\.(\d+)\.gau\.o_dense": r"model.layers.\1.gau.o_proj",
        r"^gau_alpha\.encoder\.layer\.(\d+)\.gau\.q_scaleoffset\.weight": r"model.layers.\1.gau.q_scale",
        r"^gau_alpha\.encoder\.layer\.(\d+)\.gau\.k_scaleoffset\.weight": r"model.layers.\1.gau.k_scale",
        r"^cls\.predictions\.decoder": "lm_head",
    },
)
