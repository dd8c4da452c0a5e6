"""Saved folders are complete Hub repos: in an interpreter that cannot import kexue_models,
`Auto*.from_pretrained(folder, trust_remote_code=True)` gives exactly the outputs of the installed package,
for every registered head, and the tokenizer gives the same ids."""

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from transformers.dynamic_module_utils import get_imports

from kexue_models import AUTO_CLASSES, Bert4KerasTokenizer, GAUAlphaConfig, RoFormerV2Config, TransformerVQConfig
from tests.conftest import SHARED

# Non-default options where a model has them, so that the exported code is tested with them too.
TINY = {
    RoFormerV2Config: dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                           intermediate_size=37, num_labels=3, tied_embedding_mode="projection",
                           output_projection_activation="gelu", qk_bias=True, attention_scale="entropy_invariant"),
    GAUAlphaConfig: dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, intermediate_size=48,
                         attention_key_size=16, num_labels=3, tied_embedding_mode="half_swap"),
    TransformerVQConfig: dict(vocab_size=99, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, d_k=8,
                              d_v=12, n_code=6, block_len=4, mem_len=3, tied_embedding_mode="small_std",
                              use_final_norm=True),
}  # fmt: skip
CASES = [(config_class, auto, model_class) for config_class, heads in AUTO_CLASSES.items()
         for auto, model_class in heads.items()]  # fmt: skip

# Runs in a fresh interpreter: kexue_models cannot be imported, so only the exported code can serve.
REMOTE = textwrap.dedent(
    """
    import importlib.abc, json, sys
    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "kexue_models":
                raise ImportError("kexue_models is blocked in this interpreter")
    sys.meta_path.insert(0, Blocker())
    import numpy as np, torch, transformers
    cases, inputs = json.load(open(sys.argv[1])), np.load(sys.argv[2])
    outputs = {}
    for name, auto in cases.items():
        model = getattr(transformers, auto).from_pretrained(name, trust_remote_code=True).eval()
        assert not type(model).__module__.startswith("kexue_models"), type(model).__module__
        with torch.no_grad():
            outputs[name] = model(torch.from_numpy(inputs[name])).to_tuple()[0].numpy()
    tokenizer = transformers.AutoTokenizer.from_pretrained(sys.argv[3], trust_remote_code=True)
    outputs["token_ids"] = np.array(tokenizer("今天天气很好")["input_ids"])
    np.savez(sys.argv[4], **outputs)
    """
)


def model_inputs(auto_name: str, vocab_size: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    shape = (2, 2, 7) if auto_name.endswith("MultipleChoice") else (2, 7)
    return torch.randint(5, vocab_size, shape, generator=generator)


def test_remote_code_without_the_package_matches_installed(tmp_path):
    cases, inputs, expected = {}, {}, {}
    for config_class, auto, model_class in CASES:
        name = f"{config_class.model_type}-{auto.__name__}"
        torch.manual_seed(0)
        model_class(config_class(**TINY[config_class])).save_pretrained(tmp_path / name)
        loaded = auto.from_pretrained(tmp_path / name).eval()  # the installed package's classes
        assert type(loaded) is model_class
        inputs[name] = model_inputs(auto.__name__, TINY[config_class]["vocab_size"]).numpy()
        with torch.no_grad():
            expected[name] = loaded(torch.from_numpy(inputs[name])).to_tuple()[0].numpy()
        cases[name] = auto.__name__
        saved = json.loads((tmp_path / name / "config.json").read_text())
        assert saved["auto_map"][auto.__name__].endswith(f".{model_class.__name__}")
    tokenizer = Bert4KerasTokenizer(str(SHARED / "vocab" / "chinese_char_vocab_12000.txt"))
    tokenizer.save_pretrained(tmp_path / "tokenizer")
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    np.savez(tmp_path / "inputs.npz", **inputs)

    environment = {**os.environ, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_OFFLINE": "1"}
    environment.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-c", REMOTE, "cases.json", "inputs.npz", "tokenizer", "remote.npz"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    remote = np.load(tmp_path / "remote.npz")
    for name in cases:
        np.testing.assert_array_equal(remote[name], expected[name], err_msg=name)
    np.testing.assert_array_equal(remote["token_ids"], tokenizer("今天天气很好")["input_ids"])


@pytest.mark.parametrize("config_class", list(AUTO_CLASSES))
def test_saved_folder_lists_every_head_and_ships_flat_code(tmp_path, config_class):
    heads = AUTO_CLASSES[config_class]
    next(iter(heads.values()))(config_class(**TINY[config_class])).save_pretrained(tmp_path)
    auto_map = json.loads((tmp_path / "config.json").read_text())["auto_map"]
    assert set(auto_map) == {"AutoConfig"} | {auto.__name__ for auto in heads}
    for path in tmp_path.glob("*.py"):
        assert not re.search(r"^\s*from \.\.", path.read_text(), re.MULTILINE), path.name
        # What transformers requires of remote code (imports inside try/except are optional extras).
        assert "kexue_models" not in get_imports(path), path.name
