"""Convert a bert4keras release (RoFormerV2 or GAU-α) into a transformers folder.

A release is an unzipped folder with `bert_config.json`, `bert_model.ckpt.{index,data-*}`, `checkpoint` and
`vocab.txt`. Variables are mapped by name through the tables below (never by position: bert4keras' own
positional lists broke between versions), read without TensorFlow, and written atomically.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from ..configuration import GAUAlphaConfig, RoFormerV2Config
from ..model_cards import render_card
from ..modeling import Bert4KerasTokenizer, GAUAlphaForMaskedLM, RoFormerV2ForMaskedLM
from ..modeling.tokenization_bert4keras import load_vocab
from .errors import ConversionError
from .inputs import read_json_object
from .mapping import Rule, load_mapped_weights, transpose
from .output import atomic_directory, refuse_existing, write_json_atomic
from .parity import PARITY_TOLERANCE, bert4keras_parity
from .tf_checkpoint import TFCheckpoint

logger = logging.getLogger(__name__)

# The two bert4keras numerics the fixtures pin down (docs: gau_roformerv2_spec.md §1.2, §1.4). 0.11.3 is what
# the released weights were trained with; 0.11.5 changed the RMS-norm epsilon and floored softmax_plus' n at 16.
NUMERICS = {
    "bert4keras-0.11.3": {"rms_norm_eps": 1e-12, "softmax_plus_min_length": 1},
    "bert4keras-0.11.5": {"rms_norm_eps": 1e-7, "softmax_plus_min_length": 16},
}
DEFAULT_NUMERICS = "bert4keras-0.11.3"

# fmt: off
IGNORED = [
    Rule(r"global_step",                               None),  # training step counter
    Rule(r".*/(adam_[mv]|Adam(_\d+)?|AdaFactor\w*)",   None),  # optimizer slots
    Rule(r"(bad|good)_steps|loss_scale|current_loss_scale", None),  # mixed-precision loss scaling
]
EMBEDDINGS = [
    Rule(r"bert/embeddings/word_embeddings",           "model.embeddings.word_embeddings.weight"),
    Rule(r"bert/embeddings/token_type_embeddings",     "model.embeddings.token_type_embeddings.weight"),
]
# Layer prefixes: RoFormerV2 keeps BERT's names, GAU-α has its own; both become model.layers.<i>.
BERT, GAU, LAYER = r"bert/encoder/layer_(\d+)", r"GAU_alpha/encoder/layer_(\d+)/gau", r"model.layers.\1"
RULES = {
    "roformer_v2": [
        *EMBEDDINGS,
        Rule(rf"{BERT}/attention/self/query/kernel",   rf"{LAYER}.self_attn.q_proj.weight",         transpose),
        Rule(rf"{BERT}/attention/self/key/kernel",     rf"{LAYER}.self_attn.k_proj.weight",         transpose),
        Rule(rf"{BERT}/attention/self/value/kernel",   rf"{LAYER}.self_attn.v_proj.weight",         transpose),
        Rule(rf"{BERT}/attention/output/dense/kernel", rf"{LAYER}.self_attn.o_proj.weight",         transpose),
        Rule(rf"{BERT}/intermediate/dense/kernel",     rf"{LAYER}.feed_forward.up_proj.weight",     transpose),
        Rule(rf"{BERT}/output/dense/kernel",           rf"{LAYER}.feed_forward.down_proj.weight",   transpose),
        *IGNORED,
    ],
    "gau_alpha": [
        *EMBEDDINGS,
        Rule(rf"{GAU}/i_dense/kernel",                 rf"{LAYER}.gau.i_proj.weight",               transpose),
        Rule(rf"{GAU}/o_dense/kernel",                 rf"{LAYER}.gau.o_proj.weight",               transpose),
        Rule(rf"{GAU}/q_scaleoffset/gamma",            rf"{LAYER}.gau.q_scale"),
        Rule(rf"{GAU}/k_scaleoffset/gamma",            rf"{LAYER}.gau.k_scale"),
        *IGNORED,
    ],
}
# bert_config.json key → config field, per model type. bert4keras reads exactly these (models.py:2662-2675).
CONFIG_FIELDS = {
    "roformer_v2": ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                    "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob",
                    "max_position_embeddings", "type_vocab_size"],
    "gau_alpha": ["vocab_size", "hidden_size", "num_hidden_layers", "intermediate_size", "attention_key_size",
                  "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
                  "type_vocab_size"],
}
OPTIONAL_CONFIG_FIELDS = {"max_position_embeddings", "type_vocab_size", "hidden_dropout_prob",
                          "attention_probs_dropout_prob"}
# Keys bert4keras does not read for these models (GAU-α is single-head whatever num_attention_heads says).
UNUSED_CONFIG_KEYS = {"initializer_range", "num_attention_heads", "directionality", "pooler_fc_size",
                      "pooler_num_attention_heads", "pooler_num_fc_layers", "pooler_size_per_head", "pooler_type",
                      "layer_norm_eps", "model_type", "with_pool", "with_nsp", "with_mlm"}
# fmt: on
MODEL_CLASSES = {
    "roformer_v2": (RoFormerV2Config, RoFormerV2ForMaskedLM),
    "gau_alpha": (GAUAlphaConfig, GAUAlphaForMaskedLM),
}


@dataclass
class Release:
    """The files of an unzipped bert4keras release."""

    folder: Path
    config_path: Path
    checkpoint_prefix: Path
    vocab_path: Path

    @classmethod
    def locate(cls, folder: str | Path) -> "Release":
        folder = Path(folder)
        if not folder.is_dir():
            raise ConversionError(f"{folder}: not a folder (expected an unzipped bert4keras release)")
        config_path, vocab_path = folder / "bert_config.json", folder / "vocab.txt"
        for path in (config_path, vocab_path):
            if not path.is_file():
                raise ConversionError(f"{path}: missing (a bert4keras release has bert_config.json and vocab.txt)")
        return cls(folder, config_path, checkpoint_prefix(folder), vocab_path)

    def files(self) -> list[Path]:
        shards = sorted(self.folder.glob(f"{self.checkpoint_prefix.name}.data-*"))
        return [self.config_path, self.vocab_path, Path(f"{self.checkpoint_prefix}.index"), *shards]


def checkpoint_prefix(folder: Path) -> Path:
    """The checkpoint prefix named by TF's `checkpoint` file, else the folder's only `*.index`."""
    pointer = folder / "checkpoint"
    if pointer.is_file():
        found = re.search(r'^model_checkpoint_path:\s*"(.*)"', pointer.read_text(encoding="utf-8"), re.M)
        if found is None:
            raise ConversionError(f"{pointer}: no model_checkpoint_path line")
        prefix = Path(found.group(1))
        return prefix if prefix.is_absolute() else folder / prefix
    indexes = sorted(folder.glob("*.index"))
    if len(indexes) != 1:
        raise ConversionError(
            f"{folder}: expected one *.index checkpoint file (or a `checkpoint` file), found {len(indexes)}"
        )
    return indexes[0].with_suffix("")


def detect_model_type(names: list[str], where: str) -> str:
    """RoFormerV2 and GAU-α share the embedding names; their layers are named apart."""
    if any(name.startswith("GAU_alpha/") for name in names):
        return "gau_alpha"
    if any(re.fullmatch(r"bert/encoder/layer_\d+/attention/self/query/kernel", name) for name in names):
        if any("LayerNorm" in name or name.endswith("/bias") for name in names):
            raise ConversionError(
                f"{where}: this looks like a BERT checkpoint (it has LayerNorm or bias variables); RoFormerV2 and "
                "GAU-α have neither"
            )
        return "roformer_v2"
    raise ConversionError(
        f"{where}: cannot tell the model type: no GAU_alpha/encoder/... (GAU-α) nor "
        "bert/encoder/layer_N/attention/... (RoFormerV2) variables"
    )


def translate_config(release: Release, model_type: str, numerics: str):
    """bert_config.json → RoFormerV2Config / GAUAlphaConfig, with the chosen numerics and the vocab's pad id."""
    raw = read_json_object(release.config_path)
    fields = CONFIG_FIELDS[model_type]
    missing = [key for key in fields if key not in raw and key not in OPTIONAL_CONFIG_FIELDS]
    if missing:
        raise ConversionError(f"{release.config_path}: missing keys {missing} needed for a {model_type} model")
    unknown = sorted(set(raw) - set(fields) - UNUSED_CONFIG_KEYS - {"attention_head_size", "embedding_size"})
    if unknown:
        logger.warning(
            "%s: ignoring keys bert4keras does not read for %s: %s", release.config_path, model_type, unknown
        )
    if model_type == "roformer_v2":
        head_dim = raw["hidden_size"] // raw["num_attention_heads"]
        for key in ("attention_head_size", "attention_key_size"):
            if raw.get(key, head_dim) != head_dim:
                raise ConversionError(
                    f"{release.config_path}: {key}={raw[key]} differs from hidden_size/num_attention_heads="
                    f"{head_dim}, which no RoFormerV2 release uses and this converter does not support"
                )
    if raw.get("embedding_size", raw.get("hidden_size")) != raw.get("hidden_size"):
        raise ConversionError(
            f"{release.config_path}: embedding_size={raw['embedding_size']} differs from hidden_size="
            f"{raw['hidden_size']} (a factorised embedding), which no release uses and this converter does not support"
        )
    config_class, model_class = MODEL_CLASSES[model_type]
    preset = {key: value for key, value in NUMERICS[numerics].items() if key in config_class.__dataclass_fields__}
    try:
        return config_class(
            **{key: raw[key] for key in fields if key in raw}, **preset, architectures=[model_class.__name__]
        )
    except (ValueError, TypeError) as error:
        raise ConversionError(f"{release.config_path}: {error}") from error


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_bert4keras(
    src_dir: str | Path,
    out_dir: str | Path,
    model_type: str | None = None,
    numerics: str = DEFAULT_NUMERICS,
    overwrite: bool = False,
    max_shard_size: str = "2GB",
    reference: str | Path | None = None,
) -> Path:
    """Convert the release in `src_dir` into a complete transformers folder `out_dir`; return `out_dir`.

    With `reference`, outputs bert4keras computed for this checkpoint (a reference_outputs.npz), the converted
    model must reproduce them within 1e-4, and the card reports the figures."""
    if numerics not in NUMERICS:
        raise ConversionError(f"numerics must be one of {sorted(NUMERICS)}, got {numerics!r}")
    if model_type is not None and model_type not in RULES:
        raise ConversionError(f"model type must be one of {sorted(RULES)}, got {model_type!r}")
    release = Release.locate(src_dir)
    out_dir = Path(out_dir)
    refuse_existing(out_dir, overwrite)  # before the work, not only when the folder is renamed into place
    with TFCheckpoint(release.checkpoint_prefix) as checkpoint:
        where = str(checkpoint.index_path)
        detected = detect_model_type(checkpoint.names(), where)
        if model_type is not None and model_type != detected:
            raise ConversionError(
                f"{where}: the variables are those of a {detected} model, but the model type {model_type} "
                "was asked for"
            )
        config = translate_config(release, detected, numerics)
        tokenizer = load_tokenizer(release, config)
        with torch.device("meta"):
            model = MODEL_CLASSES[detected][1](config)
        plan = load_mapped_weights(model, checkpoint.names(), RULES[detected], checkpoint.read, where)

    report = {
        "source": {
            "format": "bert4keras",
            "folder": str(release.folder.resolve()),
            "files": {path.name: sha256(path) for path in release.files()},
        },
        "model_type": detected,
        "numerics": numerics,
        "variables_converted": {target: name for target, (name, _) in sorted(plan.targets.items())},
        "variables_ignored": plan.ignored,
        "kexue_models_version": package_version(),
    }
    figures = None
    if reference is not None:
        parity = bert4keras_parity(model.eval(), reference)
        if not parity.within(PARITY_TOLERANCE):
            raise ConversionError(f"{reference}: the converted model does not reproduce these outputs: {parity}")
        figures = report["parity"] = parity.figures()
    with atomic_directory(out_dir, overwrite=overwrite) as staging:
        model.save_pretrained(staging, max_shard_size=max_shard_size)
        tokenizer.save_pretrained(staging)
        write_json_atomic(staging / "conversion.json", report)
        render_card(staging, figures)
    logger.info("converted %s (%s, %s) to %s", release.folder, detected, numerics, out_dir)
    return out_dir


def load_tokenizer(release: Release, config) -> Bert4KerasTokenizer:
    try:
        tokenizer = Bert4KerasTokenizer(vocab=load_vocab(release.vocab_path))
    except (OSError, ValueError) as error:
        raise ConversionError(f"{release.vocab_path}: unusable vocabulary: {error}") from error
    if tokenizer.vocab_size != config.vocab_size:
        raise ConversionError(
            f"{release.vocab_path}: {tokenizer.vocab_size} tokens, but bert_config.json says "
            f"vocab_size={config.vocab_size}"
        )
    if tokenizer.pad_token_id != config.pad_token_id:
        raise ConversionError(
            f"{release.vocab_path}: {tokenizer.pad_token!r} has id {tokenizer.pad_token_id}; bert4keras pads with id "
            f"{config.pad_token_id}"
        )
    return tokenizer


def package_version() -> str:
    from .. import __version__

    return __version__
