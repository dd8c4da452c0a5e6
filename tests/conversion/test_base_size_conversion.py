"""A base-size release converts in seconds, with peak memory under twice the weights."""

import json
import subprocess
import sys

import numpy as np

from tests.conftest import REPO
from tests.tf_bundle_writer import write_checkpoint

BASE = {
    "vocab_size": 12000,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "relu",
    "type_vocab_size": 2,
}

# VmHWM is the peak resident set of this process image (ru_maxrss would inherit the parent's across exec).
MEASURE = """
import json, re, sys, time
from pathlib import Path
from kexue_models.conversion.bert4keras import convert_bert4keras

def peak_rss():
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) * 1024

before = peak_rss()
start = time.perf_counter()
convert_bert4keras(sys.argv[1], sys.argv[2])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "growth": peak_rss() - before}))
"""


def write_base_release(folder, rng) -> int:
    """A RoFormerV2-base release with random weights (the published shapes); returns the weight bytes."""
    hidden, inner = BASE["hidden_size"], BASE["intermediate_size"]
    tensors = {
        "bert/embeddings/word_embeddings": rng.standard_normal((BASE["vocab_size"], hidden), np.float32),
        "bert/embeddings/token_type_embeddings": rng.standard_normal((2, hidden), np.float32),
    }
    for layer in range(BASE["num_hidden_layers"]):
        prefix = f"bert/encoder/layer_{layer}"
        for name in ("attention/self/query", "attention/self/key", "attention/self/value", "attention/output/dense"):
            tensors[f"{prefix}/{name}/kernel"] = rng.standard_normal((hidden, hidden), np.float32)
        tensors[f"{prefix}/intermediate/dense/kernel"] = rng.standard_normal((hidden, inner), np.float32)
        tensors[f"{prefix}/output/dense/kernel"] = rng.standard_normal((inner, hidden), np.float32)
    folder.mkdir()
    write_checkpoint(folder / "bert_model.ckpt", tensors)
    (folder / "bert_config.json").write_text(json.dumps(BASE))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [chr(0x4E00 + i) for i in range(BASE["vocab_size"] - 5)]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return sum(tensor.nbytes for tensor in tensors.values())


def test_base_size_release_converts_fast_and_lean(tmp_path):
    weight_bytes = write_base_release(tmp_path / "release", np.random.default_rng(0))
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(tmp_path / "release"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO.parent,
    )
    measured = json.loads(result.stdout.splitlines()[-1])
    print(
        f"base-size conversion: {measured['seconds']:.1f} s, peak memory growth "
        f"{measured['growth'] / weight_bytes:.2f}x the {weight_bytes / 2**20:.0f} MiB of weights"
    )
    assert measured["seconds"] < 60
    assert measured["growth"] < 2 * weight_bytes
    assert (tmp_path / "out" / "model.safetensors").stat().st_size > weight_bytes
