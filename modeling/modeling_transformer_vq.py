"""Transformer-VQ (Lingle, ICLR 2024): a causal decoder whose attention to the whole past costs linear time.

Faithful to the official JAX code (transformer-vq/transformer_vq, branch main, 21943e4); file:line references
are to it. Each GAU quantizes its keys to a per-head codebook. A query then sees the newest `mem_len` keys
exactly (with Transformer-XL relative biases) and every older key through a compressed cache: per code, the
number of keys and the mean of their values. Since a quantized key *is* its code vector, the compressed
cache gives exactly the attention of the quadratic form `softmax((q+u)·ĉ_τ + [t-τ ≤ M] (q+v)·R_{t-τ})`
over all τ ≤ t, whatever the block partition (official tests/nn/test_attn.py). That makes chunked,
token-by-token and one-shot runs agree, and the cache's size constant in the sequence length.

Differences from the official code, all outside what its checkpoints and outputs pin down: any sequence
length (the last block is padded internally), an `attention_mask` for padded batches (padding never enters
the window, the compressed cache or the codebook statistics), and the codebook EMA applied in `forward` in
training mode instead of through an SGD optimizer on a surrogate loss (same update, see
`TransformerVQModel.update_codebooks`).
"""

import inspect
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as F
from transformers import GenerationMixin, PreTrainedModel
from transformers import initialization as init
from transformers.cache_utils import Cache
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils import ModelOutput, can_return_tuple

from ..configuration.configuration_transformer_vq import TransformerVQConfig
from .hub_files import SavesHubFiles
from .output_embedding import OutputTransform, ResidualProjection, init_output_options

# The official MASK_INFTY_APPROX (attn.py:15). Finite on purpose: a query that sees no key at all (padding)
# gets a uniform mix instead of NaN.
MASK_VALUE = -1e30
# Codes whose EMA count decays below this are clipped to it when the codebook is formed (vq.py:91-97).
CODE_COUNT_FLOOR = 0.01

# transformers renamed generate's cache argument from `past_key_values` to `cache` in 5.2x; both are accepted.
GENERATE_CACHE_ARGUMENT = (
    "cache"
    if "cache" in inspect.signature(GenerationMixin.prepare_inputs_for_generation).parameters
    else "past_key_values"
)


def rms_norm(states: torch.Tensor, eps: float) -> torch.Tensor:
    """x · rsqrt(mean(x²) + eps) in float32, the official `LayerNorm(center=False)` (norm.py:27-37)."""
    states = states.float()
    return states * torch.rsqrt(states.square().mean(-1, keepdim=True) + eps)


class TransformerVQRMSNorm(nn.Module):
    """RMS norm with a gain and a bias, as the official GAU input norm and final norm."""

    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.bias = nn.Parameter(torch.zeros(size))
        self.eps = eps

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return (rms_norm(hidden_states, self.eps) * self.weight + self.bias).to(hidden_states.dtype)


def sinusoids(positions: torch.Tensor, width: int, base: float) -> torch.Tensor:
    """[sin(p·ω) | cos(p·ω)] with ω_i = base^(-2i/width), halves concatenated (pe.py:10-21), float32."""
    exponents = torch.arange(0, width, 2, device=positions.device, dtype=torch.float32) / width
    angles = positions.float()[:, None] / torch.tensor(base, dtype=torch.float32, device=positions.device) ** exponents
    return torch.cat((angles.sin(), angles.cos()), dim=-1)


@dataclass
class GAUState:
    """What one GAU carries from one call to the next; its size does not depend on the sequence length.

    The window holds the newest `mem_len` keys (quantized), values and codes; `window_valid` is False for
    slots not filled yet and for padding. The compressed cache holds, per code, how many older keys had it
    and the mean of their values (the official "relative format for stability", attn.py:300-307).
    """

    window_keys: torch.Tensor  # (batch, heads, mem_len, d_k), float32
    window_values: torch.Tensor  # (batch, heads, mem_len, d_v)
    window_codes: torch.Tensor  # (batch, heads, mem_len)
    window_valid: torch.Tensor  # (batch, mem_len), bool
    code_counts: torch.Tensor  # (batch, heads, n_code), float32
    code_value_means: torch.Tensor  # (batch, heads, n_code, d_v), float32

    @classmethod
    def empty(cls, config: TransformerVQConfig, batch_size: int, device: torch.device, dtype: torch.dtype):
        heads, window, codes = (batch_size, config.num_attention_heads), config.mem_len, config.n_code
        return cls(
            window_keys=torch.zeros(*heads, window, config.d_k, device=device),
            window_values=torch.zeros(*heads, window, config.d_v, device=device, dtype=dtype),
            window_codes=torch.zeros(*heads, window, device=device, dtype=torch.long),
            window_valid=torch.zeros(batch_size, window, device=device, dtype=torch.bool),
            code_counts=torch.zeros(*heads, codes, device=device),
            code_value_means=torch.zeros(*heads, codes, config.d_v, device=device),
        )

    def map(self, function) -> "GAUState":
        return GAUState(**{name: function(tensor) for name, tensor in vars(self).items()})


class TransformerVQCache(Cache):
    """The recurrent state of every GAU: constant memory however long the sequence.

    Not a key/value cache: there is nothing per position to crop or extend, so it overrides the `Cache` API
    that `generate` uses (sequence length, beam reordering, batch expansion) and nothing else.
    """

    is_compileable = False
    is_croppable = False

    def __init__(self):
        super().__init__(layers=[])
        self.states: list[GAUState] = []
        self.seen_tokens = 0

    def __len__(self) -> int:
        return len(self.states)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(gaus={len(self.states)}, seen_tokens={self.seen_tokens})"

    @property
    def is_initialized(self) -> bool:
        return bool(self.states)

    @property
    def batch_size(self) -> int:
        return self.states[0].window_valid.shape[0] if self.states else -1

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.seen_tokens

    def get_max_length(self, layer_idx: int | None = None) -> int:
        return -1

    def get_mask_sizes(self, query_length: int, layer_idx: int) -> tuple[int, int]:
        raise NotImplementedError("TransformerVQCache has no per-position keys to build a mask over")

    def reset(self) -> None:
        self.states, self.seen_tokens = [], 0

    def crop(self, max_length: int) -> None:
        raise NotImplementedError("TransformerVQCache compresses the past and cannot be cropped")

    def reorder_cache(self, beam_idx: torch.LongTensor) -> None:
        self.batch_select_indices(beam_idx)

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        def select(tensor: torch.Tensor) -> torch.Tensor:
            return tensor.index_select(0, indices.to(tensor.device))

        self.states = [state.map(select) for state in self.states]

    def batch_repeat_interleave(self, repeats: int) -> None:
        self.states = [state.map(lambda tensor: tensor.repeat_interleave(repeats, dim=0)) for state in self.states]


def quantize(keys: torch.Tensor, codebook: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Nearest code per key (vq.py:36-57, float32), the straight-through quantized keys and the squared errors.

    keys (batch, heads, seq, d_k), codebook (heads, n_code, d_k). The quantized keys have the code's value and
    pass their gradient to the keys (vq.py:224).
    """
    distances = (
        keys.square().sum(-1, keepdim=True)
        - 2.0 * torch.einsum("bhtk,hsk->bhts", keys, codebook)
        + codebook.square().sum(-1)[None, :, None, :]
    )
    squared_errors, codes = distances.min(dim=-1)
    code_vectors = codebook[torch.arange(codebook.shape[0], device=codes.device)[:, None], codes]
    quantized = code_vectors.detach() + (keys - keys.detach())
    return codes, quantized, squared_errors.clamp_min(0.0)


def skew(by_distance: torch.Tensor, block_len: int) -> torch.Tensor:
    """Place per-distance scores on the window: (..., L, M+1) with column e ↔ distance M-e → (..., L, M+L).

    Row i of the result holds row i of the input at columns i..i+M and zeros elsewhere, so window column j
    gets the score of distance M+i-j exactly where 0 ≤ M+i-j ≤ M (the official rel_shift and its mask,
    attn.py:217-224), by the pad-and-reshape trick of Transformer-XL.
    """
    *lead, rows, width = by_distance.shape
    window = width - 1 + block_len
    padded = F.pad(by_distance, (0, block_len)).flatten(-2)[..., : rows * window]
    return padded.reshape(*lead, rows, window)


def per_code_totals(
    codes: torch.Tensor, values: torch.Tensor, valid: torch.Tensor, n_code: int, block: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per block of `block` positions and per code: how many valid positions had it, and their value sum.

    codes (batch, heads, seq), values (batch, heads, seq, d_v), valid (batch, seq) → counts (batch, heads,
    n_block, n_code) and sums (batch, heads, n_block, n_code, d_v), float32. An index_add over positions:
    O(seq·d_v) work, where a one-hot matmul would cost O(seq·n_code·d_v).
    """
    batch, heads, length = codes.shape
    n_block = -(-length // block)
    groups = batch * heads * n_block * n_code
    block_index = torch.arange(length, device=codes.device) // block
    group = ((torch.arange(batch * heads, device=codes.device).view(batch, heads, 1) * n_block + block_index) * n_code
             + codes)  # fmt: skip
    weight = valid[:, None, :].expand(batch, heads, length).float()
    counts = torch.zeros(groups, device=codes.device).index_add_(0, group.flatten(), weight.flatten())
    sums = torch.zeros(groups, values.shape[-1], device=codes.device).index_add_(
        0, group.flatten(), (values.float() * weight[..., None]).flatten(0, 2)
    )
    return counts.view(batch, heads, n_block, n_code), sums.view(batch, heads, n_block, n_code, -1)


def blockwise_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    codes: torch.Tensor,
    valid: torch.Tensor,
    state: GAUState,
    codebook: torch.Tensor,
    relative: torch.Tensor,
    xl_u: torch.Tensor,
    xl_v: torch.Tensor,
    block_len: int,
    agg_cache: bool,
) -> tuple[torch.Tensor, GAUState]:
    """The official `VQAttention.attn` + `update_state` (attn.py:157-324) for all blocks of a chunk at once.

    queries, keys (quantized): (batch, heads, seq, d_k) float32; values (batch, heads, seq, d_v); codes
    (batch, heads, seq); valid (batch, seq); relative: (heads, mem_len + 1, d_k), the projected sinusoid of
    each distance 0..M. Block n of length L sees the M positions before it (window) and itself exactly, and
    all older positions through the compressed cache; the caches of all blocks come from one cumulative sum
    over blocks, so there is no loop. Returns the attention output (batch, seq, heads·d_v) and the new state.
    """
    length = queries.shape[2]
    window = state.window_valid.shape[1]
    n_code = codebook.shape[1]
    block = min(block_len, length)
    n_block = -(-length // block)
    padding = n_block * block - length

    def blocks(tensor: torch.Tensor, time_dim: int = 2) -> torch.Tensor:
        pad = [0, 0] * (tensor.dim() - 1 - time_dim) + [0, padding]
        padded = F.pad(tensor, pad) if padding else tensor
        return padded.unflatten(time_dim, (n_block, block))

    # Everything carried from before a block (the window's past part and the compressed cache) is
    # stop-gradient, as the official state between blocks (grad_thru_cache=False, attn.py:322-323).
    all_keys = torch.cat((state.window_keys, keys), dim=2)
    all_values = torch.cat((state.window_values, values), dim=2)
    all_codes = torch.cat((state.window_codes, codes), dim=2)
    all_valid = torch.cat((state.window_valid, valid), dim=1)
    past_keys = all_keys.detach().unfold(2, window, block)[:, :, :n_block]  # (b, h, n, d_k, M)
    past_values = all_values.detach().unfold(2, window, block)[:, :, :n_block]  # (b, h, n, d_v, M)
    past_valid = all_valid.unfold(1, window, block)[:, :n_block]  # (b, n, M)

    block_queries = blocks(queries)
    with_u = block_queries + xl_u[:, None, None]
    content = torch.cat(
        (
            torch.einsum("bhnlk,bhnkm->bhnlm", with_u, past_keys),
            torch.einsum("bhnlk,bhnjk->bhnlj", with_u, blocks(keys)),
        ),
        dim=-1,
    )
    by_distance = torch.einsum("bhnlk,hdk->bhnld", block_queries + xl_v[:, None, None], relative.flip(1))
    scores = content + skew(by_distance, block)

    query_index = torch.arange(block, device=queries.device)[:, None]
    key_index = torch.arange(window + block, device=queries.device)[None]
    visible = key_index <= query_index + window
    if not agg_cache:
        visible = visible & (key_index >= query_index)
    key_valid = torch.cat((past_valid, blocks(valid, time_dim=1)), dim=-1)  # (b, n, M + L)
    scores = scores.masked_fill(~(visible & key_valid[:, None, :, None, :]), MASK_VALUE)

    # Compressed cache: positions leave the window in the order they entered it. Block n sees the counts and
    # value sums of everything that left before it, the state's cache included.
    leaving_counts, leaving_sums = per_code_totals(
        all_codes[:, :, :length], all_values[:, :, :length].detach(), all_valid[:, :length], n_code, block
    )
    initial_counts = state.code_counts[:, :, None]
    initial_sums = (state.code_counts[..., None] * state.code_value_means)[:, :, None]
    block_counts = torch.cat((initial_counts, leaving_counts[:, :, :-1]), dim=2).cumsum(2)
    block_sums = torch.cat((initial_sums, leaving_sums[:, :, :-1]), dim=2).cumsum(2)

    # One stabiliser for window and cache (attn.py:234-244); weights are divided by the normaliser before
    # they meet the values, so the unnormalised product is never formed.
    top = scores.amax(-1)
    if agg_cache:
        cache_bias = torch.where(block_counts > 0, block_counts.clamp(min=1.0).log(), MASK_VALUE)
        cache_scores = torch.einsum("bhnlk,hsk->bhnls", with_u, codebook) + cache_bias[:, :, :, None, :]
        top = torch.maximum(top, cache_scores.amax(-1))
    top = top.detach()[..., None]
    window_weights = torch.exp(scores - top)
    normaliser = window_weights.sum(-1, keepdim=True)
    if agg_cache:
        cache_weights = torch.exp(cache_scores - top)
        normaliser = normaliser + cache_weights.sum(-1, keepdim=True)
    window_weights = (window_weights / normaliser).to(values.dtype)
    output = torch.einsum("bhnlm,bhnvm->bhnlv", window_weights[..., :window], past_values) + torch.einsum(
        "bhnlj,bhnjv->bhnlv", window_weights[..., window:], blocks(values)
    )
    if agg_cache:
        # weight · mean = weight / count · sum, and the division is cheaper on the weights.
        cache_weights = cache_weights / normaliser / block_counts.clamp(min=1.0)[:, :, :, None, :]
        output = output + torch.einsum("bhnls,bhnsv->bhnlv", cache_weights, block_sums).to(values.dtype)
    output = output.flatten(2, 3)[:, :, :length].transpose(1, 2).flatten(2)

    final_counts = block_counts[:, :, -1] + leaving_counts[:, :, -1]
    final_sums = block_sums[:, :, -1] + leaving_sums[:, :, -1]
    new_state = GAUState(
        window_keys=all_keys[:, :, length:].detach(),
        window_values=all_values[:, :, length:].detach(),
        window_codes=all_codes[:, :, length:],
        window_valid=all_valid[:, length:],
        code_counts=final_counts,
        code_value_means=final_sums / final_counts.clamp(min=1.0)[..., None],
    )
    return output, new_state


class VectorQuantizer(nn.Module):
    """A per-head codebook kept as exponential moving averages of assigned keys (official `LearnableVQ`).

    The codebook is `code_sums / max(code_counts, 0.01)`. Both are buffers: the loss never reaches them; the
    model updates them in training mode (`TransformerVQModel.update_codebooks`).
    """

    def __init__(self, config: TransformerVQConfig):
        super().__init__()
        shape = (config.num_attention_heads, config.n_code)
        self.register_buffer("code_sums", torch.zeros(*shape, config.d_k, dtype=torch.float32))
        self.register_buffer("code_counts", torch.ones(*shape, dtype=torch.float32))

    def _apply(self, fn, recurse=True):
        # The statistics stay float32 whatever dtype the model is cast to: EMA counts grow far past the
        # integers bfloat16 represents, and the codebook decides which code each key gets.
        super()._apply(fn, recurse)
        for name, buffer in self.named_buffers(recurse=False):
            if buffer.is_floating_point() and buffer.dtype != torch.float32:
                setattr(self, name, buffer.float())
        return self

    def codebook(self) -> torch.Tensor:
        return self.code_sums / self.code_counts.clamp(min=CODE_COUNT_FLOOR)[..., None]


@dataclass
class GAUOutput:
    hidden_states: torch.Tensor
    state: GAUState
    codes: torch.Tensor
    commit_loss: torch.Tensor
    code_sums: torch.Tensor | None = None
    code_counts: torch.Tensor | None = None


class TransformerVQAttention(nn.Module):
    """One Gated Attention Unit with VQ keys, the official `VQAttention.__call__` without the residual."""

    def __init__(self, config: TransformerVQConfig):
        super().__init__()
        self.config = config
        heads, d_k, d_v, hidden = config.num_attention_heads, config.d_k, config.d_v, config.hidden_size
        self.input_norm = TransformerVQRMSNorm(hidden, config.rms_norm_eps)
        self.q_proj = nn.Linear(hidden, heads * d_k, bias=False)
        # One projection for keys | values | gates, head-major within each, as in the checkpoints.
        self.kvg_proj = nn.Linear(hidden, heads * (d_k + 2 * d_v), bias=False)
        self.r_proj = nn.Linear(hidden, heads * d_k, bias=False)
        self.o_proj = ResidualProjection(heads * d_v, hidden, bias=False)
        # Transformer-XL's global content (u) and position (v) biases, added to the queries.
        # Flat (heads·d_k), as the checkpoints store them.
        self.xl_u = nn.Parameter(torch.zeros(heads * d_k))
        self.xl_v = nn.Parameter(torch.zeros(heads * d_k))
        self.quantizer = VectorQuantizer(config)
        self.sinusoid_dropout = nn.Dropout(config.sinusoid_dropout)
        # q and k are unit-RMS, then both scaled by d_k^-1/4, so q·k carries the usual 1/sqrt(d_k).
        self.scale = d_k**-0.25

    def heads(self, states: torch.Tensor, width: int) -> torch.Tensor:
        return states.unflatten(-1, (self.config.num_attention_heads, width)).transpose(1, 2)

    def relative_positions(self, device: torch.device) -> torch.Tensor:
        """R_d = r_proj(sinusoid(d)) · d_k^-1/4 for d = 0..mem_len, (heads, mem_len + 1, d_k) (attn.py:136-155)."""
        config = self.config
        table = sinusoids(torch.arange(config.mem_len + 1, device=device), config.hidden_size, config.sinusoid_base)
        table = self.sinusoid_dropout(table.to(self.r_proj.weight.dtype))
        return self.heads(self.r_proj(table)[None], config.d_k)[0].float() * self.scale

    def forward(
        self, hidden_states: torch.Tensor, codebook: torch.Tensor, state: GAUState, valid: torch.Tensor, block_len: int
    ) -> GAUOutput:
        config = self.config
        normed = self.input_norm(hidden_states)
        queries = rms_norm(self.heads(self.q_proj(normed), config.d_k), config.rms_norm_eps) * self.scale
        keys, values, gates = self.kvg_proj(normed).split(
            [config.num_attention_heads * width for width in (config.d_k, config.d_v, config.d_v)], dim=-1
        )
        keys = rms_norm(self.heads(keys, config.d_k), config.rms_norm_eps) * self.scale
        codes, quantized, squared_errors = quantize(keys, codebook)
        output, new_state = blockwise_attention(
            queries,
            quantized,
            self.heads(F.silu(values), config.d_v),
            codes,
            valid,
            state,
            codebook,
            self.relative_positions(hidden_states.device),
            self.xl_u.view(-1, config.d_k).float() * self.scale,
            self.xl_v.view(-1, config.d_k).float() * self.scale,
            block_len,
            config.agg_cache,
        )
        output = self.o_proj(output * F.silu(gates))
        mask = valid[:, None].to(squared_errors.dtype)
        # Official l_commit: mean over positions of the sum over heads (vq.py:225-227).
        commit_loss = (squared_errors * mask).sum() / valid.numel()
        result = GAUOutput(output, new_state, codes, commit_loss)
        if self.training:
            counts, sums = per_code_totals(codes, keys.detach(), valid, config.n_code, block=codes.shape[2])
            result.code_sums, result.code_counts = sums.sum((0, 2)), counts.sum((0, 2))
        return result


class TransformerVQLayer(GradientCheckpointingLayer):
    """x + layer_drop(dropout(GAU(x))) (model.py:64-75)."""

    def __init__(self, config: TransformerVQConfig):
        super().__init__()
        self.attention = TransformerVQAttention(config)
        self.residual_dropout = nn.Dropout(config.residual_dropout)
        self.layer_dropout = config.layer_dropout

    def forward(
        self,
        hidden_states: torch.Tensor,
        codebook: torch.Tensor,
        state: GAUState,
        valid: torch.Tensor,
        block_len: int,
    ) -> GAUOutput:
        result = self.attention(hidden_states, codebook=codebook, state=state, valid=valid, block_len=block_len)
        residual = self.residual_dropout(result.hidden_states)
        if self.training and self.layer_dropout > 0:
            # Drop the whole branch per sequence, the same for every position (model.py:34-40).
            keep = torch.rand(residual.shape[0], 1, 1, device=residual.device) >= self.layer_dropout
            residual = residual * keep / (1.0 - self.layer_dropout)
        result.hidden_states = hidden_states + residual
        return result


class TransformerVQPreTrainedModel(SavesHubFiles, PreTrainedModel):
    config_class = TransformerVQConfig
    config: TransformerVQConfig
    base_model_prefix = "model"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _no_split_modules = ["TransformerVQLayer"]
    # The cache is a recurrent state: generate must not crop it (assisted decoding) or build a DynamicCache.
    _is_stateful = True

    @classmethod
    def _supports_default_dynamic_cache(cls) -> bool:
        return False

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """The official initialisers (types.py:70-73): embeddings N(0, 1); dense kernels N(0, 1/fan_in);
        biases, XL biases and the position scale 0; codebook sums N(0, 1/(heads·n_code)), counts 1. The
        output-embedding options (output_embedding.py) come first."""
        if init_output_options(module, self.config):
            return
        if isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=1.0)
        elif isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=module.in_features**-0.5)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, TransformerVQRMSNorm):
            init.ones_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, TransformerVQAttention):
            init.zeros_(module.xl_u)
            init.zeros_(module.xl_v)
        elif isinstance(module, VectorQuantizer):
            heads, n_code, _ = module.code_sums.shape
            init.normal_(module.code_sums, mean=0.0, std=(heads * n_code) ** -0.5)
            init.ones_(module.code_counts)
        elif isinstance(module, TransformerVQModel) and module.position_scale is not None:
            init.zeros_(module.position_scale)


@dataclass
class TransformerVQModelOutput(ModelOutput):
    """
    last_hidden_state: (batch, seq, hidden) output of the last GAU.
    cache: the recurrent state to continue from, when `use_cache=True`; also readable as `past_key_values`
        (transformers < 5.2x's name).
    hidden_states: the embeddings and the output of every GAU, when `output_hidden_states=True`.
    codes: per GAU, the code chosen for each key, (batch, heads, seq), when `output_codes=True`.
    commit_loss: VQ commitment loss summed over GAUs (the official `l_commit`).
    """

    last_hidden_state: torch.FloatTensor | None = None
    cache: TransformerVQCache | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    codes: tuple[torch.LongTensor, ...] | None = None
    commit_loss: torch.FloatTensor | None = None

    @property
    def past_key_values(self) -> TransformerVQCache | None:
        return self.cache


class TransformerVQModel(TransformerVQPreTrainedModel):
    def __init__(self, config: TransformerVQConfig):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_scale = nn.Parameter(torch.zeros(())) if config.use_absolute_position_embeddings else None
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        self.layers = nn.ModuleList(TransformerVQLayer(config) for _ in range(config.num_hidden_layers))
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed_tokens = value

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: TransformerVQCache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        output_codes: bool | None = None,
        cache: TransformerVQCache | None = None,
        **kwargs,
    ) -> TransformerVQModelOutput:
        r"""
        attention_mask: 1 for tokens, 0 for padding (left or right); padding is invisible to every query and
            never enters the recurrent state or the codebook statistics.
        position_ids: absolute positions, used only with `use_absolute_position_embeddings`; by default they
            continue from the cache.
        past_key_values: a `TransformerVQCache` to continue from (`cache` is the same, under the name
            transformers >= 5.2x uses). Feeding a sequence in chunks through it gives the outputs of one call.
        output_codes: return the code chosen for each key of every GAU.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("TransformerVQModel: pass exactly one of input_ids and inputs_embeds")
        if past_key_values is None:
            past_key_values = cache
        if past_key_values is not None and not isinstance(past_key_values, TransformerVQCache):
            raise TypeError(
                f"TransformerVQModel: past_key_values must be a TransformerVQCache (the recurrent state this model "
                f"returns), got {type(past_key_values).__name__}"
            )
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)
        batch, length = inputs_embeds.shape[:2]
        if length == 0:
            raise ValueError("TransformerVQModel: the input sequence is empty")
        if use_cache and past_key_values is None:
            past_key_values = TransformerVQCache()
        seen = past_key_values.seen_tokens if past_key_values is not None else 0
        if past_key_values is not None and past_key_values.states and past_key_values.batch_size != batch:
            raise ValueError(
                f"TransformerVQModel: the cache holds {past_key_values.batch_size} sequences but the input has {batch}"
            )
        valid = (
            attention_mask[:, -length:].bool()
            if attention_mask is not None
            else torch.ones(batch, length, dtype=torch.bool, device=inputs_embeds.device)
        )

        hidden_states = inputs_embeds
        if self.position_scale is not None:
            if position_ids is None:
                position_ids = torch.arange(seen, seen + length, device=hidden_states.device)[None]
            table = sinusoids(position_ids.flatten(), self.config.hidden_size, self.config.sinusoid_base)
            hidden_states = hidden_states + (self.position_scale * table).view(*position_ids.shape, -1).to(
                hidden_states.dtype
            )
        hidden_states = self.embedding_dropout(hidden_states)

        block_len = length if self.config.attention_algorithm == "quadratic" else self.config.block_len
        # Read every codebook before any layer runs: a checkpointed layer recomputed in backward must see the
        # codebook of this step, not the one `update_codebooks` leaves at the end of it.
        codebooks = [layer.attention.quantizer.codebook() for layer in self.layers]
        if past_key_values is not None and past_key_values.states:
            states = past_key_values.states
        else:  # a fresh start: every GAU reads the same empty state (nothing writes into it)
            states = [GAUState.empty(self.config, batch, hidden_states.device, hidden_states.dtype)] * len(self.layers)
        all_hidden_states = (hidden_states,) if output_hidden_states else None
        results = []
        for index, layer in enumerate(self.layers):
            result = layer(
                hidden_states, codebook=codebooks[index], state=states[index], valid=valid, block_len=block_len
            )
            hidden_states = result.hidden_states
            results.append(result)
            if output_hidden_states:
                all_hidden_states += (hidden_states,)

        if self.training:
            self.update_codebooks(results)
        if past_key_values is not None:
            past_key_values.states = [result.state for result in results]
            past_key_values.seen_tokens = seen + length
        return TransformerVQModelOutput(
            last_hidden_state=hidden_states,
            cache=past_key_values if use_cache else None,
            hidden_states=all_hidden_states,
            codes=tuple(result.codes for result in results) if output_codes else None,
            commit_loss=torch.stack([result.commit_loss for result in results]).sum(),
        )

    @torch.no_grad()
    def update_codebooks(self, results: list[GAUOutput]) -> None:
        """c ← γ·c + (1-γ)·Σ over this step's keys, for code sums and counts alike.

        The update the official code gets from SGD with lr 1 on its surrogate codebook loss (vq.py:100-165,
        launch.py:184-190). The statistics are summed over all processes, so data-parallel training keeps
        one codebook, the one a single process would have on the whole batch.
        """
        statistics = torch.cat([torch.cat((r.code_sums.flatten(), r.code_counts.flatten())) for r in results])
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            dist.all_reduce(statistics)
        rate = self.config.codebook_ema_rate
        offset = 0
        for layer in self.layers:
            quantizer = layer.attention.quantizer
            for buffer in (quantizer.code_sums, quantizer.code_counts):
                update = statistics[offset : offset + buffer.numel()].view_as(buffer)
                buffer.mul_(rate).add_(update.to(buffer.dtype), alpha=1.0 - rate)
                offset += buffer.numel()


@dataclass
class TransformerVQCausalLMOutput(ModelOutput):
    """
    loss: language-modelling loss + commitment_coefficient · commit_loss, when `labels` are given.
    lm_loss: the cross-entropy part alone.
    logits: (batch, seq, vocab) float32; `log_softmax(logits)` are the official model's log-probabilities.
    The other fields are those of `TransformerVQModelOutput`.
    """

    loss: torch.FloatTensor | None = None
    lm_loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    cache: TransformerVQCache | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    codes: tuple[torch.LongTensor, ...] | None = None
    commit_loss: torch.FloatTensor | None = None

    @property
    def past_key_values(self) -> TransformerVQCache | None:
        return self.cache


class TransformerVQForCausalLM(TransformerVQPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}

    def __init__(self, config: TransformerVQConfig):
        super().__init__(config)
        self.model = TransformerVQModel(config)
        self.final_norm = (
            TransformerVQRMSNorm(config.hidden_size, config.rms_norm_eps) if config.use_final_norm else None
        )
        self.output_transform = OutputTransform(config)  # identity unless tied_embedding_mode asks
        # Tied or not, the official head has a bias (emb.py:16-33, model.py:110-118).
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=True)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.model.embed_tokens = value

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, new_embeddings: nn.Linear) -> None:
        self.lm_head = new_embeddings

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: TransformerVQCache | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        output_codes: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        cache: TransformerVQCache | None = None,
        **kwargs,
    ) -> TransformerVQCausalLMOutput:
        r"""
        labels: next-token targets as in every transformers causal LM (shifted inside, -100 ignored).
        logits_to_keep: compute logits for the last `logits_to_keep` positions only (0: all).
        """
        outputs = self.model(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            output_hidden_states=output_hidden_states,
            output_codes=output_codes,
            cache=cache,
        )
        hidden_states = outputs.last_hidden_state
        keep = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        hidden_states = hidden_states[:, keep]
        if self.final_norm is not None:
            hidden_states = self.final_norm(hidden_states)
        hidden_states = self.output_transform(hidden_states)
        # Full-precision logits, scaled after the bias (model.py:228-232).
        logits = F.linear(hidden_states.float(), self.lm_head.weight.float(), self.lm_head.bias.float())
        logits = logits * self.config.logit_scale

        loss = lm_loss = None
        if labels is not None:
            lm_loss = self.loss_function(logits, labels, vocab_size=self.config.vocab_size, **kwargs)
            loss = lm_loss + self.config.commitment_coefficient * outputs.commit_loss
        return TransformerVQCausalLMOutput(
            loss=loss,
            lm_loss=lm_loss,
            logits=logits,
            cache=outputs.cache,
            hidden_states=outputs.hidden_states,
            codes=outputs.codes,
            commit_loss=outputs.commit_loss,
        )

    def _update_model_kwargs_for_generation(self, outputs: ModelOutput, model_kwargs: dict, *args, **kwargs) -> dict:
        model_kwargs = super()._update_model_kwargs_for_generation(outputs, model_kwargs, *args, **kwargs)
        if outputs.cache is not None:
            model_kwargs[GENERATE_CACHE_ARGUMENT] = outputs.cache
        return model_kwargs


# Auto class → model class: what the package registers, and the auto_map of every saved folder.
AUTO_MAP = {"AutoModel": TransformerVQModel, "AutoModelForCausalLM": TransformerVQForCausalLM}

__all__ = [
    "TransformerVQCache",
    "TransformerVQForCausalLM",
    "TransformerVQModel",
    "TransformerVQPreTrainedModel",
]
