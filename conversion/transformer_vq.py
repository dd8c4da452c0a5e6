"""Convert a checkpoint of the official Transformer-VQ code (JAX, transformer-vq/transformer_vq) to transformers.

No trained weights were ever published, so this brings any checkpoint that code wrote: the unreplicated flax
`TrainState` `{step, params, opt_state}` saved by its utils/io.py, through orbax (default) or legacy flax.
Parameters are mapped by path through the table below; the optimizer state is ignored on purpose. The
official `TransformerConfig` fields come from a JSON file, at its top level or under `transformer_config`.
"""

import logging
import re
from pathlib import Path

import torch
from transformers import GenerationConfig

from ..configuration import TransformerVQConfig
from ..model_cards import render_card
from ..modeling import TransformerVQForCausalLM
from .bert4keras import package_version, sha256
from .errors import ConversionError
from .flax_checkpoint import FlaxCheckpoint, locate_checkpoint
from .inputs import read_json_object
from .mapping import MappingPlan, Rule, load_mapped_weights, transpose
from .output import atomic_directory, refuse_existing, write_json_atomic
from .parity import PARITY_TOLERANCE, transformer_vq_parity

logger = logging.getLogger(__name__)

# Official field → our config field (nn/types.py). n_layer counts pairs of GAUs; ours counts GAUs.
CONFIG_FIELDS = {
    "n_vocab": "vocab_size",
    "d_model": "hidden_size",
    "n_layer": "num_hidden_layers",
    "n_head": "num_attention_heads",
    "d_k": "d_k",
    "d_v": "d_v",
    "n_code": "n_code",
    "block_len": "block_len",
    "mem_len": "mem_len",
    "agg_cache": "agg_cache",
    "e_tie": "tie_word_embeddings",
    "e_preln": "use_final_norm",
    "e_scale": "logit_scale",
    "pe_abs": "use_absolute_position_embeddings",
    "pe_lam": "sinusoid_base",
    "p_dropemb": "embedding_dropout",
    "p_dropsin": "sinusoid_dropout",
    "p_dropres": "residual_dropout",
    "p_droplyr": "layer_dropout",
    "c_beta": "commitment_coefficient",
    "c_gamma": "codebook_ema_rate",
}
BOOLEAN_FIELDS = {"agg_cache", "e_tie", "e_preln", "pe_abs"}
# Fields that only steer the official training loop, or are unused by its model (d_ff).
RUNTIME_FIELDS = {"param_dtype", "dtype", "global_batch_size", "sequence_len", "update_len", "is_train", "d_ff",
                  "grad_thru_cache", "p_nucleus", "no_emb"}  # fmt: skip
EOS_ID = 1  # the official vocabularies: pad 0, eos 1, unk 2 (utils/vocab.py)


def gau(suffix: str):
    """transformer_layers_<i>/scanned_attn<1|2> → GAU 2i + 0|1 of our flat list."""
    return lambda found: f"model.layers.{2 * int(found[1]) + int(found[2]) - 1}.attention.{suffix}"


def mapping_rules(tied: bool) -> list[Rule]:
    GAU = r"params/transformer_layers_(\d+)/scanned_attn([12])"
    # fmt: off
    return [
        Rule(r"params/token_embedder/embs",           "model.embed_tokens.weight"),
        # The embedder always has bias_out; the official model uses it only as the tied head's bias.
        Rule(r"params/token_embedder/bias_out",       "lm_head.bias" if tied else None),
        Rule(r"params/position_embedder/scale",       "model.position_scale"),
        Rule(rf"{GAU}/input_ln/g",                    gau("input_norm.weight")),
        Rule(rf"{GAU}/input_ln/b",                    gau("input_norm.bias")),
        Rule(rf"{GAU}/q_proj/kernel",                 gau("q_proj.weight"),            transpose),
        Rule(rf"{GAU}/kvg_proj/kernel",               gau("kvg_proj.weight"),          transpose),
        Rule(rf"{GAU}/r_proj/kernel",                 gau("r_proj.weight"),            transpose),
        Rule(rf"{GAU}/res_proj/kernel",               gau("o_proj.weight"),            transpose),
        Rule(rf"{GAU}/u",                             gau("xl_u")),
        Rule(rf"{GAU}/v",                             gau("xl_v")),
        Rule(rf"{GAU}/quantizer/c_sum",               gau("quantizer.code_sums")),
        Rule(rf"{GAU}/quantizer/c_count",             gau("quantizer.code_counts")),
        Rule(r"params/out_ln/g",                      "final_norm.weight"),
        Rule(r"params/out_ln/b",                      "final_norm.bias"),
        Rule(r"params/out_proj/kernel",               "lm_head.weight",                transpose),
        Rule(r"params/out_proj/bias",                 "lm_head.bias"),
        Rule(r"step",                                 None),  # optimizer update counter
        Rule(r"opt_state/.*",                         None),  # optimizer state
    ]
    # fmt: on


def read_official_config(path: str | Path) -> tuple[TransformerVQConfig, dict]:
    """The official `TransformerConfig` fields in `path` → (our config, the official fields as read)."""
    path = Path(path)
    raw = read_json_object(path)
    official = raw.get("transformer_config", raw)
    if not isinstance(official, dict):
        raise ConversionError(
            f"{path}: expected a JSON object of TransformerConfig fields, found {type(official).__name__}"
        )
    missing = sorted(set(CONFIG_FIELDS) - set(official))
    if missing:
        raise ConversionError(f"{path}: missing TransformerConfig fields {missing}")
    unknown = sorted(set(official) - set(CONFIG_FIELDS) - RUNTIME_FIELDS)
    if unknown:
        raise ConversionError(f"{path}: fields that are not TransformerConfig fields: {unknown}")
    if official.get("no_emb"):
        raise ConversionError(f"{path}: no_emb=true (a model without token embeddings) is not supported")
    for name in BOOLEAN_FIELDS:
        if official[name] not in (True, False, 0, 1):
            raise ConversionError(f"{path}: {name} must be a boolean (or 0/1), got {official[name]!r}")
    values = {ours: official[theirs] for theirs, ours in CONFIG_FIELDS.items()}
    values.update({CONFIG_FIELDS[name]: bool(official[name]) for name in BOOLEAN_FIELDS})
    if isinstance(official["n_layer"], int):
        values["num_hidden_layers"] = 2 * official["n_layer"]
    for name in ("logit_scale", "sinusoid_base"):
        if isinstance(values[name], int) and not isinstance(values[name], bool):
            values[name] = float(values[name])
    try:
        config = TransformerVQConfig(**values, architectures=[TransformerVQForCausalLM.__name__])
    except (ValueError, TypeError) as error:
        raise ConversionError(f"{path}: {error}") from error
    return config, official


def generation_config(config: TransformerVQConfig, official: dict) -> GenerationConfig:
    """The official sampler: nucleus sampling with p_nucleus, no top-k, no temperature (ops/sample.py)."""
    sampling = {}
    if "p_nucleus" in official:
        sampling = {"do_sample": True, "top_p": float(official["p_nucleus"]), "top_k": 0}
    return GenerationConfig(
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
        **sampling,
    )


def load_weights(model: TransformerVQForCausalLM, checkpoint: FlaxCheckpoint) -> MappingPlan:
    """Map, read and check every parameter into `model` (built on the meta device); return the plan."""
    where = str(checkpoint.path)
    pairs = {found[1] for name in checkpoint.names() if (found := re.match(r"params/transformer_layers_(\d+)/", name))}
    if 2 * len(pairs) != model.config.num_hidden_layers:
        raise ConversionError(
            f"{where}: the checkpoint has {len(pairs)} transformer_layers_<i> (pairs of GAUs), but the config "
            f"says n_layer={model.config.num_hidden_layers // 2}"
        )
    return load_mapped_weights(
        model, checkpoint.names(), mapping_rules(model.config.tie_word_embeddings), checkpoint.read, where
    )


def convert_transformer_vq(
    src: str | Path,
    out_dir: str | Path,
    config_path: str | Path,
    overwrite: bool = False,
    max_shard_size: str = "2GB",
    reference: str | Path | None = None,
) -> Path:
    """Convert the official checkpoint at `src` with the official config at `config_path` into `out_dir`.

    With `reference` (an npz of `input_ids` and the official `logprobs` for them), the converted model must
    reproduce them within 1e-4, and the card reports the figure."""
    out_dir = Path(out_dir)
    refuse_existing(out_dir, overwrite)
    config, official = read_official_config(config_path)
    checkpoint_path = locate_checkpoint(src)
    checkpoint = FlaxCheckpoint(checkpoint_path)
    with torch.device("meta"):
        model = TransformerVQForCausalLM(config)
    plan = load_weights(model, checkpoint)
    model.generation_config = generation_config(config, official)
    step = checkpoint.read("step").item() if "step" in checkpoint.leaves else None
    report = {
        "source": {
            "format": "transformer-vq (official JAX code, flax/orbax msgpack)",
            "checkpoint": str(checkpoint_path.resolve()),
            "train_state_step": step,
            "files": {str(path.resolve()): sha256(path) for path in (checkpoint_path, Path(config_path))},
        },
        "official_config": official,
        "variables_converted": {target: name for target, (name, _) in sorted(plan.targets.items())},
        "variables_ignored": sorted(
            {"opt_state/..." if name.startswith("opt_state/") else name for name in plan.ignored}
        ),
        "kexue_models_version": package_version(),
    }
    figures = None
    if reference is not None:
        difference = transformer_vq_parity(model.eval(), reference)
        if difference > PARITY_TOLERANCE:
            raise ConversionError(f"{reference}: the converted model's log-probs differ by {difference:.2e}")
        figures = report["parity"] = {"log-probs": f"{difference:.2e}"}
    with atomic_directory(out_dir, overwrite=overwrite) as staging:
        model.save_pretrained(staging, max_shard_size=max_shard_size)
        write_json_atomic(staging / "conversion.json", report)
        render_card(staging, figures)
    logger.info("converted %s to %s", checkpoint_path, out_dir)
    return out_dir
