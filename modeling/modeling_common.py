"""Building blocks shared by the kexue encoders (RoFormerV2, GAU-α), faithful to bert4keras.

Everything here is exported next to the model files as Hub remote code, so it imports only torch and
transformers. Numerics follow bert4keras (`backend.py`, `layers.py`); file:line references are to
bojone/bert4keras c1ae0dc (= v0.11.5) unless a version is named.
"""

import math
from collections.abc import Callable

import torch
from torch import nn
from transformers import PreTrainedConfig, PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.masking_utils import create_bidirectional_mask
from transformers.modeling_outputs import (
    BaseModelOutput,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.utils import can_return_tuple

from .hub_files import SavesHubFiles
from .junnyu_layout import JunnYuLayout
from .output_embedding import OutputTransform, init_output_options


def rms_norm(hidden_states: torch.Tensor, eps: float) -> torch.Tensor:
    """bert4keras `LayerNormalization(zero_mean=False, scale=False, offset=False)`: x / sqrt(mean(x²) + eps).

    No gain and no bias, so the checkpoints hold no weights for it. Like bert4keras (layers.py:733-741) this
    divides by the square root. mean(x²) comes from `vector_norm`, a fused reduction, so that no
    (batch, seq, hidden) temporary is allocated for x²: one fewer large allocation per norm, which CPUs feel.
    Computed in float32 whatever the activation dtype.
    """
    states = hidden_states.float()
    mean_square = torch.linalg.vector_norm(states, dim=-1, keepdim=True).square() / states.shape[-1]
    return (states / torch.sqrt(mean_square + eps)).to(hidden_states.dtype)


class RMSNorm(nn.Module):
    """Parameter-free RMS norm as a module, so that the block structure reads as in bert4keras."""

    def __init__(self, eps: float):
        super().__init__()
        self.eps = eps

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return rms_norm(hidden_states, self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


def rotary_tables(
    position_ids: torch.Tensor, dim: int, theta: float, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and signed sin tables of interleaved RoPE, each (batch, seq, dim), one value per pair (2i, 2i+1).

    Computed on the fly rather than kept in a buffer: a non-persistent buffer is left uninitialised when
    transformers builds the model on the meta device, the failure that makes existing ports compute garbage.
    Built in float32 like bert4keras' `sinusoidal_embeddings` (backend.py:336-345): frequency
    pow(theta, -2i/dim), angle = position * frequency in one float32 multiply.
    """
    exponents = torch.arange(0, dim // 2, dtype=torch.float32, device=position_ids.device) * (-2.0 / dim)
    inv_freq = torch.pow(torch.tensor(theta, dtype=torch.float32, device=position_ids.device), exponents)
    angles = position_ids.float()[..., None] * inv_freq  # (batch, seq, dim / 2)
    cos = angles.cos().repeat_interleave(2, dim=-1)
    # The sign of the rotation lives in the table (-sin on even, +sin on odd dimensions), so that applying
    # it needs only a swap of each pair, see `apply_rotary`.
    signed_sin = torch.stack((-angles.sin(), angles.sin()), dim=-1).flatten(-2)
    return cos.to(dtype), signed_sin.to(dtype)


def apply_rotary(states: torch.Tensor, cos: torch.Tensor, signed_sin: torch.Tensor) -> torch.Tensor:
    """Interleaved ("GPT-J") rotation of the pairs (2i, 2i+1), as bert4keras backend.py:359-377.

    out[2i] = x[2i]·cos - x[2i+1]·sin, out[2i+1] = x[2i+1]·cos + x[2i]·sin, with `signed_sin` from
    `rotary_tables`. Not Llama's rotate_half: bert4keras rotates adjacent dimensions, and keeping its layout
    keeps the summation order of q·k the same as the original.
    """
    swapped = states.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)  # [x1, x0, x3, x2, ...]
    # In place on the fresh product: one large temporary fewer (mul's backward does not need its output).
    return (states * cos).addcmul_(swapped, signed_sin)


SOFTMAX_PLUS_TRAINING_LENGTH = 512


def softmax_plus_scale(padding_mask: torch.Tensor, key_size: int, min_length: int) -> torch.Tensor:
    """Per-sequence factor of `softmax_plus` times 1/√s, shaped (batch, 1, 1, 1) to multiply the queries.

    bert4keras scales the scores a = q·kᵀ/√s by log(n)/log(512), n the number of valid keys: with it the
    entropy of the attention stays near that of the 512-token pre-training length (kexue.fm/archives/8823).
    Folding the whole factor into q lets SDPA serve the attention with scale 1. n is floored at
    `min_length` (1 up to bert4keras 0.11.4, 16 in 0.11.5).
    """
    lengths = padding_mask.sum(dim=-1, dtype=torch.float32).clamp(min=min_length)
    scale = torch.log(lengths) / math.log(SOFTMAX_PLUS_TRAINING_LENGTH) / math.sqrt(key_size)
    return scale.view(-1, 1, 1, 1)


IN_PLACE_ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU, "swish": nn.SiLU}


def activation(name: str) -> nn.Module:
    """The activation `name` of transformers' ACT2FN, in place where torch allows it (relu, silu/swish: every
    release uses one). The input is a fresh projection nobody else reads, and skipping one
    (batch, seq, intermediate) allocation per layer is measurably faster on CPU."""
    return IN_PLACE_ACTIVATIONS[name](inplace=True) if name in IN_PLACE_ACTIVATIONS else ACT2FN[name]


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference attention: softmax(q·kᵀ · scaling + mask) · v, on (batch, heads, seq, dim) inputs.

    Returns the output as (batch, seq, heads, dim_v) and the probabilities; the SDPA and flash back-ends of
    transformers' `ALL_ATTENTION_FUNCTIONS` have the same contract. Padded keys get probability 0 exactly,
    as with bert4keras' -1e12 (<= 0.11.4) or -inf (0.11.5) masking.
    """
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling  # (batch, heads, seq_q, seq_k)
    if attention_mask is not None:
        scores = scores + attention_mask
    probs = nn.functional.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    probs = nn.functional.dropout(probs, p=dropout, training=module.training)
    output = torch.matmul(probs, value).transpose(1, 2).contiguous()
    return output, probs


def attention_function(config) -> Callable:
    """The attention back-end chosen by `config._attn_implementation` (eager, sdpa, flash_attention_2, ...)."""
    return ALL_ATTENTION_FUNCTIONS.get_interface(config._attn_implementation, eager_attention_forward)


class EncoderEmbeddings(nn.Module):
    """Token + segment embeddings, dropout, then the RMS norm (bert4keras models.py:1243-1281).

    No absolute positions. bert4keras applies dropout *before* the norm; the existing ports swap the two.
    """

    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.norm = RMSNorm(config.rms_norm_eps)

    def forward(
        self,
        input_ids: torch.Tensor | None,
        token_type_ids: torch.Tensor | None,
        inputs_embeds: torch.Tensor | None,
    ) -> torch.Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros(inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device)
        embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)
        return self.norm(self.dropout(embeddings))


def init_bert4keras_(weight: torch.Tensor, tf_shape: tuple[int, int], num_layers: int, order: int) -> None:
    """bert4keras' `RoFormerV2.initializer` (models.py:1224-1233) for a kernel of TensorFlow shape [in, out].

    The fan is the second dimension when the first is above 10000 (the 12000-token embedding) or below 10
    (the segment embedding), else the first. Truncated normal at ±2σ; 1.13684723 undoes the variance lost to
    the truncation, and the num_layers^(-1/order) gain keeps deep post-norm stacks trainable.
    """
    rows, cols = tf_shape
    fan = cols if (rows > 10000 or rows < 10) else rows
    std = 1.13684723 / math.sqrt(fan) * num_layers ** (-1.0 / order)
    init.trunc_normal_(weight, mean=0.0, std=std, a=-2 * std, b=2 * std)


# from_pretrained arguments that say where to find a checkpoint's files.
HUB_KWARGS = ("cache_dir", "force_download", "proxies", "token", "revision", "local_files_only", "subfolder")


# Keyword arguments of from_pretrained that set fields of the config every model config has.
CONFIG_OVERRIDES = {"num_labels", "id2label", "label2id", "problem_type", "output_hidden_states", "output_attentions"}


class Bert4KerasPreTrainedModel(SavesHubFiles, PreTrainedModel):
    """Capability flags and initialisation shared by the bert4keras encoders.

    `_init_weights` reproduces bert4keras' initializer for training from scratch; `init_order` is 2 for
    RoFormerV2 and 3 for GAU-α (GAU-alpha models.py:12-13).
    """

    base_model_prefix = "model"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    init_order: int = 2

    # How JunnYu's published PyTorch folder of this model is laid out; recognised by `from_pretrained`.
    junnyu_layout: JunnYuLayout | None = None

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *model_args, **kwargs):
        """transformers' `from_pretrained`, which also reads JunnYu's folders of the same model (see
        junnyu_layout.py): config translated, weights renamed by `key_mapping`, and an error naming the keys
        when they do not fill the backbone."""
        if pretrained_model_name_or_path is None or cls.junnyu_layout is None:
            return super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        hub_kwargs = {key: kwargs[key] for key in HUB_KWARGS if key in kwargs}
        raw, _ = PreTrainedConfig.get_config_dict(pretrained_model_name_or_path, **hub_kwargs)
        if not cls.junnyu_layout.matches(raw):
            return super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        where = f"{pretrained_model_name_or_path} (JunnYu's {raw['model_type']} layout)"
        # Config overrides (num_labels=..., a dropout) go into the translated config, as transformers does.
        overrides = {
            key: kwargs.pop(key)
            for key in list(kwargs)
            if key in CONFIG_OVERRIDES | set(cls.config_class.__annotations__)
        }
        kwargs["config"] = cls.junnyu_layout.translate(raw, cls.config_class, where, **overrides)
        wants_info = kwargs.pop("output_loading_info", False)
        # Shape mismatches are collected, not raised, so that the error below names them with the rest.
        kwargs["ignore_mismatched_sizes"] = True
        model, info = super().from_pretrained(
            pretrained_model_name_or_path,
            *model_args,
            key_mapping=cls.junnyu_layout.key_mapping,
            output_loading_info=True,
            **kwargs,
        )
        base = model.base_model
        prefix = "" if base is model else f"{model.base_model_prefix}."
        backbone = {f"{prefix}{name}" for name in base.state_dict()}
        unfit = {
            "missing": sorted(set(info["missing_keys"]) & backbone),
            "unexpected": sorted(
                key
                for key in info["unexpected_keys"]
                if key not in cls.junnyu_layout.ignored_keys and not key.startswith("lm_head.")
            ),
            "of another shape": sorted(
                f"{key} ({list(found)} in the file, {list(expected)} expected)"
                for key, found, expected in info.get("mismatched_keys", [])
            ),
        }
        if any(unfit.values()):
            details = "; ".join(f"{kind}: {', '.join(keys)}" for kind, keys in unfit.items() if keys)
            raise ValueError(f"{where}: the weights do not fit {cls.__name__}: {details}")
        # Saving writes our layout, not his: forget the renaming transformers would otherwise revert on save.
        model._weight_conversions = []
        return (model, info) if wants_info else model

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        num_layers = self.config.num_hidden_layers
        if init_output_options(module, self.config):
            return
        if isinstance(module, nn.Linear):
            # torch stores Linear weights as [out, in]; bert4keras computes the fan on TF's [in, out].
            init_bert4keras_(module.weight, (module.in_features, module.out_features), num_layers, self.init_order)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init_bert4keras_(module.weight, tuple(module.weight.shape), num_layers, self.init_order)


class EncoderModel(Bert4KerasPreTrainedModel):
    """The bert4keras `Transformer.call` skeleton: embeddings, then the layers, then nothing (no final norm).

    Subclasses set `layer_class` and the `rotary_dim` property (the width RoPE rotates). The attention mask
    defaults to `input_ids != pad_token_id`, as bert4keras derives it; padding is masked on the key axis only,
    as in bert4keras.
    """

    layer_class: type[nn.Module]
    rotary_dim: int

    def __init__(self, config):
        super().__init__(config)
        self.embeddings = EncoderEmbeddings(config)
        self.layers = nn.ModuleList(self.layer_class(config) for _ in range(config.num_hidden_layers))
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        **kwargs,
    ) -> BaseModelOutput:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of input_ids or inputs_embeds")
        output_attentions = self.config.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = (
            self.config.output_hidden_states if output_hidden_states is None else output_hidden_states
        )
        if output_attentions and self.config._attn_implementation != "eager":
            raise ValueError(
                f"output_attentions=True needs attn_implementation='eager' (the {self.config._attn_implementation!r}"
                " kernel does not return attention probabilities); load with attn_implementation='eager' or call "
                "model.set_attn_implementation('eager')"
            )

        hidden_states = self.embeddings(input_ids, token_type_ids, inputs_embeds)
        batch_size, seq_length = hidden_states.shape[:2]
        if attention_mask is None:
            if input_ids is not None and self.config.pad_token_id is not None:
                attention_mask = (input_ids != self.config.pad_token_id).long()
            else:
                attention_mask = torch.ones(batch_size, seq_length, dtype=torch.long, device=hidden_states.device)
        if position_ids is None:
            position_ids = torch.arange(seq_length, device=hidden_states.device).expand(batch_size, -1)
        position_embeddings = rotary_tables(position_ids, self.rotary_dim, self.config.rope_theta, hidden_states.dtype)
        mask = create_bidirectional_mask(
            config=self.config, inputs_embeds=hidden_states, attention_mask=attention_mask
        )

        all_hidden_states = (hidden_states,) if output_hidden_states else None
        all_attentions = () if output_attentions else None
        for layer in self.layers:
            hidden_states, attentions = layer(
                hidden_states, mask, position_embeddings, padding_mask=attention_mask, **kwargs
            )
            if output_hidden_states:
                all_hidden_states += (hidden_states,)
            if output_attentions:
                all_attentions += (attentions,)
        return BaseModelOutput(
            last_hidden_state=hidden_states, hidden_states=all_hidden_states, attentions=all_attentions
        )


# Task heads. Each model file declares them as `class XForY(EncoderForY, XPreTrainedModel)` with
# `backbone_class = XModel`, so the heads are written once and every model gets the same behaviour. Their
# forward signatures stay explicit: Trainer and the pipelines read the input names off them.


class EncoderHead:
    """The encoder under `model`, then the layers `build_head` adds, then `post_init`."""

    backbone_class: type[nn.Module]

    def __init__(self, config):
        super().__init__(config)
        self.model = self.backbone_class(config)
        self.build_head(config)
        self.post_init()

    def build_head(self, config) -> None:
        raise NotImplementedError

    def head_dropout(self, config) -> nn.Dropout:
        rate = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        return nn.Dropout(rate)


class EncoderForMaskedLM(EncoderHead):
    """MLM head as released: dropout, then logits = h · Eᵀ with the token embedding E, no bias
    (bert4keras models.py:1374-1410, `with_mlm='linear'`)."""

    _tied_weights_keys = {"lm_head.weight": "model.embeddings.word_embeddings.weight"}

    def build_head(self, config) -> None:
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.output_transform = OutputTransform(config)  # identity unless tied_embedding_mode asks
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, new_embeddings: nn.Linear) -> None:
        self.lm_head = new_embeddings

    @can_return_tuple
    def forward(
        self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, inputs_embeds=None,
        labels=None, **kwargs,
    ) -> MaskedLMOutput:  # fmt: skip
        outputs = self.model(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, **kwargs)
        logits = self.lm_head(self.output_transform(self.dropout(outputs.last_hidden_state)))
        loss = None if labels is None else self.loss_function(logits, labels, vocab_size=self.config.vocab_size)
        return MaskedLMOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class EncoderForSequenceClassification(EncoderHead):
    """Classifier on the first token ([CLS]), as in Su's CLUE scripts (roformer-v2 clue/afqmc.py:66-71).

    The released models have no pooler, so none is invented here."""

    def build_head(self, config) -> None:
        self.num_labels = config.num_labels
        self.dropout = self.head_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    @can_return_tuple
    def forward(
        self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, inputs_embeds=None,
        labels=None, **kwargs,
    ) -> SequenceClassifierOutput:  # fmt: skip
        outputs = self.model(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, **kwargs)
        logits = self.classifier(self.dropout(outputs.last_hidden_state[:, 0]))
        loss = None if labels is None else self.loss_function(labels, logits, self.config)
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class EncoderForMultipleChoice(EncoderHead):
    """One score per choice from its first token; inputs are (batch, num_choices, seq)."""

    def build_head(self, config) -> None:
        self.dropout = self.head_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, 1)

    @can_return_tuple
    def forward(
        self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, inputs_embeds=None,
        labels=None, **kwargs,
    ) -> MultipleChoiceModelOutput:  # fmt: skip
        num_choices = (input_ids if input_ids is not None else inputs_embeds).shape[1]
        # (batch, choices, seq, ...) -> (batch * choices, seq, ...)
        flat = [None if tensor is None else tensor.flatten(0, 1)
                for tensor in (input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds)]  # fmt: skip
        outputs = self.model(*flat, **kwargs)
        logits = self.classifier(self.dropout(outputs.last_hidden_state[:, 0])).view(-1, num_choices)
        loss = None if labels is None else nn.functional.cross_entropy(logits.float(), labels)
        return MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class EncoderForTokenClassification(EncoderHead):
    """A label per token."""

    def build_head(self, config) -> None:
        self.num_labels = config.num_labels
        self.dropout = self.head_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    @can_return_tuple
    def forward(
        self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, inputs_embeds=None,
        labels=None, **kwargs,
    ) -> TokenClassifierOutput:  # fmt: skip
        outputs = self.model(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, **kwargs)
        logits = self.classifier(self.dropout(outputs.last_hidden_state))
        loss = None if labels is None else self.loss_function(logits, labels, self.config)
        return TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class EncoderForQuestionAnswering(EncoderHead):
    """Extractive QA: start and end logits per token."""

    def build_head(self, config) -> None:
        self.qa_outputs = nn.Linear(config.hidden_size, 2)

    @can_return_tuple
    def forward(
        self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, inputs_embeds=None,
        start_positions=None, end_positions=None, **kwargs,
    ) -> QuestionAnsweringModelOutput:  # fmt: skip
        outputs = self.model(input_ids, attention_mask, token_type_ids, position_ids, inputs_embeds, **kwargs)
        start_logits, end_logits = self.qa_outputs(outputs.last_hidden_state).unbind(dim=-1)
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = self.loss_function(start_logits, end_logits, start_positions, end_positions)
        return QuestionAnsweringModelOutput(
            loss=loss, start_logits=start_logits.contiguous(), end_logits=end_logits.contiguous(),
            hidden_states=outputs.hidden_states, attentions=outputs.attentions,
        )  # fmt: skip
