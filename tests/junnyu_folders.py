"""Folders in JunnYu's published PyTorch layouts, made from our conversion of the bert4keras fixtures.

His names and config schema are written out here from his published files (see ../shared/docs/
junnyu_layout.md), independently of the package's own mapping, so that a test compares two readings.
"""

import json
import re
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file

# Our parameter name → his, per model.
OURS_TO_HIS = {
    "roformer_v2": [
        (r"model\.embeddings\.(\w+)_embeddings\.weight", r"roformer.embeddings.\1_embeddings.weight"),
        (r"model\.layers\.(\d+)\.self_attn\.q_proj", r"roformer.encoder.layer.\1.attention.self.query"),
        (r"model\.layers\.(\d+)\.self_attn\.k_proj", r"roformer.encoder.layer.\1.attention.self.key"),
        (r"model\.layers\.(\d+)\.self_attn\.v_proj", r"roformer.encoder.layer.\1.attention.self.value"),
        (r"model\.layers\.(\d+)\.self_attn\.o_proj", r"roformer.encoder.layer.\1.attention.output.dense"),
        (r"model\.layers\.(\d+)\.feed_forward\.up_proj", r"roformer.encoder.layer.\1.intermediate.dense"),
        (r"model\.layers\.(\d+)\.feed_forward\.down_proj", r"roformer.encoder.layer.\1.output.dense"),
    ],
    "gau_alpha": [
        (r"model\.embeddings\.(\w+)_embeddings\.weight", r"gau_alpha.embeddings.\1_embeddings.weight"),
        (r"model\.layers\.(\d+)\.gau\.i_proj", r"gau_alpha.encoder.layer.\1.gau.i_dense"),
        (r"model\.layers\.(\d+)\.gau\.o_proj", r"gau_alpha.encoder.layer.\1.gau.o_dense"),
        (r"model\.layers\.(\d+)\.gau\.q_scale", r"gau_alpha.encoder.layer.\1.gau.q_scaleoffset.weight"),
        (r"model\.layers\.(\d+)\.gau\.k_scale", r"gau_alpha.encoder.layer.\1.gau.k_scaleoffset.weight"),
    ],
}


def his_config(model_type: str, bert_config: dict) -> dict:
    common = {
        key: bert_config[key]
        for key in ("vocab_size", "hidden_size", "num_hidden_layers", "intermediate_size", "hidden_act",
                    "max_position_embeddings", "type_vocab_size")
    }  # fmt: skip
    common.update(initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0, hidden_dropout_prob=0.1,
                  attention_probs_dropout_prob=0.1)  # fmt: skip
    if model_type == "roformer_v2":
        return {
            **common,
            "architectures": ["RoFormerForMaskedLM"],
            "model_type": "roformer",
            "num_attention_heads": bert_config["num_attention_heads"],
            "embedding_size": bert_config["hidden_size"],
            "rotary_value": False,
            "use_cache": True,
            "norm_type": "rms_norm",
            "use_bias": False,
        }
    return {
        **common,
        "architectures": ["GAUAlphaForMaskedLM"],
        "model_type": "gau_alpha",
        "attention_key_size": bert_config["attention_key_size"],
        "normalization": "softmax_plus",
        "attention_scale": True,
        "use_bias": False,
        "summary_type": "first",
    }


def write_junnyu_folder(converted: Path, release: Path, out: Path, model_type: str, edit=None) -> Path:
    """`converted`: our folder of the fixture; `release`: the bert4keras fixture (config, vocab)."""
    ours = load_file(converted / "model.safetensors")
    his = {}
    for name, tensor in ours.items():
        for pattern, replacement in OURS_TO_HIS[model_type]:
            if re.match(pattern, name):
                his[re.sub(pattern, replacement, name)] = tensor
                break
        else:
            raise AssertionError(f"no JunnYu name for {name}")
    if model_type == "roformer_v2":  # his MLM decoder shares storage with the word embeddings
        his["cls.predictions.decoder.weight"] = his["roformer.embeddings.word_embeddings.weight"]
    if edit is not None:
        edit(his)
    out.mkdir(parents=True)
    # His RoFormerV2 files use torch's legacy (non-zip) format, his GAU-α ones the zip format.
    torch.save(his, out / "pytorch_model.bin", _use_new_zipfile_serialization=model_type == "gau_alpha")
    bert_config = json.loads((release / "bert_config.json").read_text())
    (out / "config.json").write_text(json.dumps(his_config(model_type, bert_config), indent=2))
    (out / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer", "do_lower_case": True}))
    shutil.copy(release / "vocab.txt", out / "vocab.txt")
    return out
