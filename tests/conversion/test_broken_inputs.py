"""Every broken release stops with an error naming the file or variable, and writes nothing."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kexue_models.conversion.bert4keras import convert_bert4keras
from kexue_models.conversion.errors import ConversionError
from kexue_models.conversion.tf_checkpoint import TFCheckpoint
from tests.conftest import release_dir
from tests.tf_bundle_writer import write_checkpoint

PREFIX = "bert_model.ckpt"
DATA = f"{PREFIX}.data-00000-of-00001"


def rewrite_variables(folder: Path, edit) -> None:
    """Re-write the checkpoint of `folder` after `edit(tensors)` changed its dict of variables."""
    with TFCheckpoint(folder / PREFIX) as checkpoint:
        tensors = {name: checkpoint.read(name) for name in checkpoint.names()}
    edit(tensors)
    write_checkpoint(folder / PREFIX, tensors)


def edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "bert_config.json").read_text())
    config.update(changes)
    for key in [key for key, value in changes.items() if value is None]:
        del config[key]
    (folder / "bert_config.json").write_text(json.dumps(config))


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


QUERY = "bert/encoder/layer_1/attention/self/query/kernel"
# (id, how to break the release, what the error must say)
BROKEN = [
    (
        "missing-variable",
        lambda f: rewrite_variables(f, lambda t: t.pop(QUERY)),
        r"no variable provides these parameters: model\.layers\.1\.self_attn\.q_proj\.weight",
    ),
    (
        "extra-variable",
        lambda f: rewrite_variables(
            f, lambda t: t.update({"bert/encoder/layer_0/extra/kernel": np.ones((2, 2), np.float32)})
        ),
        r"unexpected variables.*bert/encoder/layer_0/extra/kernel",
    ),
    (
        "wrong-shape",
        lambda f: rewrite_variables(f, lambda t: t.update({QUERY: np.ones((64, 32), np.float32)})),
        rf"{QUERY}' has shape \[64, 32\] but the config expects \[64, 64\]",
    ),
    (
        "vocab-size-mismatch",
        lambda f: edit_config(f, vocab_size=301),
        r"vocab\.txt: 300 tokens, but bert_config\.json says vocab_size=301",
    ),
    (
        "layer-count-mismatch",
        lambda f: edit_config(f, num_hidden_layers=3),
        r"no variable provides these parameters: .*model\.layers\.2",
    ),
    (
        "truncated-data",
        lambda f: (f / DATA).write_bytes((f / DATA).read_bytes()[:1000]),
        rf"{DATA}: truncated: variable",
    ),
    ("corrupt-data", lambda f: flip_byte(f / DATA, 5000), rf"{DATA}: checksum mismatch for variable"),
    ("missing-data-shard", lambda f: (f / DATA).unlink(), rf"{DATA}: checkpoint data shard not found"),
    (
        "truncated-index",
        lambda f: (f / f"{PREFIX}.index").write_bytes((f / f"{PREFIX}.index").read_bytes()[:-60]),
        rf"{PREFIX}\.index: (not a TensorFlow checkpoint index|truncated)",
    ),
    ("corrupt-index", lambda f: flip_byte(f / f"{PREFIX}.index", 20), rf"{PREFIX}\.index: checksum mismatch"),
    ("missing-index", lambda f: (f / f"{PREFIX}.index").unlink(), rf"{PREFIX}\.index: checkpoint index not found"),
    (
        "unreadable-vocab",
        lambda f: (f / "vocab.txt").write_bytes(b"\xff\xfe\x00garbage\n" * 300),
        r"vocab\.txt: unusable vocabulary: .*not UTF-8",
    ),
    (
        "short-vocab",
        lambda f: (f / "vocab.txt").write_text("".join((f / "vocab.txt").read_text().splitlines(True)[:200])),
        r"vocab\.txt: 200 tokens, but bert_config\.json says vocab_size=300",
    ),
    ("missing-vocab", lambda f: (f / "vocab.txt").unlink(), r"vocab\.txt: missing"),
    ("missing-config", lambda f: (f / "bert_config.json").unlink(), r"bert_config\.json: missing"),
    (
        "config-not-json",
        lambda f: (f / "bert_config.json").write_text("{vocab_size: 300"),
        r"bert_config\.json: not valid JSON",
    ),
    (
        "config-missing-key",
        lambda f: edit_config(f, hidden_size=None),
        r"bert_config\.json: missing keys \['hidden_size'\]",
    ),
    ("config-bad-value", lambda f: edit_config(f, hidden_act="gelu_new_unknown"), r"bert_config\.json: .*hidden_act"),
    (
        "bert-checkpoint",
        lambda f: rewrite_variables(
            f, lambda t: t.update({"bert/encoder/layer_0/attention/output/LayerNorm/gamma": np.ones(64, np.float32)})
        ),
        r"looks like a BERT checkpoint",
    ),
    (
        "no-checkpoint-pointer",
        lambda f: ((f / "checkpoint").unlink(), shutil.copy(f / f"{PREFIX}.index", f / "other.index")),
        r"expected one \*\.index checkpoint file",
    ),
]


@pytest.fixture
def release(tmp_path) -> Path:
    folder = tmp_path / "release"
    shutil.copytree(release_dir("0.11.3", "roformer_v2_tiny"), folder)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


@pytest.mark.parametrize(("breakage", "message"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_broken_release_gives_a_clear_error_and_no_output(release, tmp_path, breakage, message):
    breakage(release)
    out = tmp_path / "out"
    with pytest.raises(ConversionError, match=message):
        convert_bert4keras(release, out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["release"], "no partial folder left behind"


def test_wrong_model_type(release, tmp_path):
    with pytest.raises(
        ConversionError, match="variables are those of a roformer_v2 model, but the model type gau_alpha"
    ):
        convert_bert4keras(release, tmp_path / "out", model_type="gau_alpha")
    assert not (tmp_path / "out").exists()


def test_existing_output_is_left_untouched(release, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="already exists"):
        convert_bert4keras(release, out)
    assert (out / "keep.txt").read_text() == "mine"


def test_interrupted_write_leaves_nothing(release, tmp_path, monkeypatch):
    """A failure while writing (here: the tokenizer) removes the half-written folder."""
    from kexue_models.modeling import Bert4KerasTokenizer

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Bert4KerasTokenizer, "save_pretrained", fail)
    with pytest.raises(KeyboardInterrupt):
        convert_bert4keras(release, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["release"]


def test_optimizer_state_is_ignored_explicitly(release, tmp_path):
    slots = {
        f"{QUERY}/adam_m": np.zeros((64, 64), np.float32),
        f"{QUERY}/adam_v": np.zeros((64, 64), np.float32),
        "global_step": np.array(1000, np.int64),
    }
    rewrite_variables(release, lambda tensors: tensors.update(slots))
    out = convert_bert4keras(release, tmp_path / "out")
    report = json.loads((out / "conversion.json").read_text())
    assert sorted(report["variables_ignored"]) == sorted(slots)
