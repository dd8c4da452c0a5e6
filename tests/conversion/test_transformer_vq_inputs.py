"""Where the converter finds an official checkpoint, and how it refuses a broken one: an error naming the
parameter or field and what was expected, and nothing written."""

import json
import shutil
from pathlib import Path

import msgpack
import numpy as np
import pytest

from kexue_models.conversion.errors import CheckpointError, ConversionError
from kexue_models.conversion.flax_checkpoint import FlaxCheckpoint, locate_checkpoint
from kexue_models.conversion.transformer_vq import convert_transformer_vq
from tests.conftest import transformer_vq_dir

SOURCE = transformer_vq_dir("tvq_tiny_enwik8")
CHECKPOINT = SOURCE / "checkpoint_1000" / "checkpoint"
CONFIG = SOURCE / "config.json"


def raw_tree(path: Path) -> dict:
    """The msgpack tree with array payloads left encoded, so it can be edited and written back."""
    return msgpack.unpackb(path.read_bytes(), ext_hook=msgpack.ExtType, raw=False, strict_map_key=False)


def encode(array: np.ndarray) -> msgpack.ExtType:
    """An array as flax serialises it: ext type 1 with (shape, dtype name, C-order bytes)."""
    return msgpack.ExtType(1, msgpack.packb((list(array.shape), array.dtype.name, array.tobytes()), use_bin_type=True))


def write_tree(path: Path, tree: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgpack.packb(tree, use_bin_type=True))
    return path


def edited_checkpoint(tmp_path: Path, edit) -> Path:
    tree = raw_tree(CHECKPOINT)
    edit(tree["params"])
    return write_tree(tmp_path / "src" / "checkpoint_1000" / "checkpoint", tree)


def edited_config(tmp_path: Path, **changes) -> Path:
    config = json.loads(CONFIG.read_text())
    for key, value in changes.items():
        if value is None:
            del config["transformer_config"][key]
        else:
            config["transformer_config"][key] = value
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def assert_refused(tmp_path: Path, src: Path, config: Path, *fragments: str, error=ConversionError) -> None:
    out = tmp_path / "out"
    with pytest.raises(error) as raised:
        convert_transformer_vq(src, out, config)
    for fragment in fragments:
        assert fragment in str(raised.value)
    assert not out.exists()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".out")]


def layer0(params: dict) -> dict:
    return params["transformer_layers_0"]["scanned_attn1"]


def test_checkpoint_is_found_from_file_step_folder_and_run_folder(tmp_path):
    assert locate_checkpoint(CHECKPOINT) == CHECKPOINT
    assert locate_checkpoint(SOURCE / "checkpoint_1000") == CHECKPOINT
    assert locate_checkpoint(SOURCE) == CHECKPOINT
    # A run folder: the highest step wins, as flax's restore_checkpoint(step=None); orbax's unfinished
    # temporary folders and other prefixes are not checkpoints.
    run = tmp_path / "run"
    for step in (2, 10, 9):
        (run / f"checkpoint_{step}").mkdir(parents=True)
        shutil.copy(CHECKPOINT, run / f"checkpoint_{step}" / "checkpoint")
    (run / "checkpoint_99.orbax-checkpoint-tmp-123").mkdir()
    (run / "validation_loss_lm_per_token_50").write_text("")
    assert locate_checkpoint(run) == run / "checkpoint_10" / "checkpoint"


def test_legacy_flax_file_checkpoint_converts(tmp_path):
    """Legacy flax checkpointing writes checkpoint_<step> as a file with the same msgpack content."""
    run = tmp_path / "legacy"
    run.mkdir()
    shutil.copy(CHECKPOINT, run / "checkpoint_7")
    out = convert_transformer_vq(run, tmp_path / "out", CONFIG)
    assert json.loads((out / "conversion.json").read_text())["source"]["checkpoint"].endswith("checkpoint_7")


def test_chunked_and_bfloat16_arrays_are_read(tmp_path):
    """Arrays over 1 GiB are stored in chunks; bfloat16 is not a numpy dtype and is widened by name."""
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    flat = values.ravel()
    bfloat16 = (values.view(np.uint32) >> 16).astype(np.uint16)
    tree = {
        "chunked": {
            "__msgpack_chunked_array__": True,
            "shape": {"0": 3, "1": 4},
            "chunks": {"0": encode(flat[:5]), "1": encode(flat[5:])},
        },
        "bf16": msgpack.ExtType(1, msgpack.packb(([3, 4], "bfloat16", bfloat16.tobytes()), use_bin_type=True)),
    }
    checkpoint = FlaxCheckpoint(write_tree(tmp_path / "tree", tree))
    np.testing.assert_array_equal(checkpoint.read("chunked"), values)
    np.testing.assert_array_equal(checkpoint.read("bf16"), values)  # small integers are exact in bfloat16


def test_missing_parameter(tmp_path):
    src = edited_checkpoint(tmp_path, lambda params: layer0(params).pop("r_proj"))
    assert_refused(tmp_path, src, CONFIG, "model.layers.0.attention.r_proj.weight")


def test_extra_parameter(tmp_path):
    src = edited_checkpoint(tmp_path, lambda params: layer0(params).update(extra=encode(np.zeros(3, np.float32))))
    assert_refused(tmp_path, src, CONFIG, "params/transformer_layers_0/scanned_attn1/extra", "unexpected")


def test_wrong_shape(tmp_path):
    src = edited_checkpoint(tmp_path, lambda params: layer0(params).update(u=encode(np.zeros(15, np.float32))))
    assert_refused(tmp_path, src, CONFIG, "params/transformer_layers_0/scanned_attn1/u", "[15]", "[16]")


def test_truncated_file(tmp_path):
    src = tmp_path / "src" / "checkpoint"
    src.parent.mkdir()
    src.write_bytes(CHECKPOINT.read_bytes()[:-1000])
    assert_refused(tmp_path, src, CONFIG, str(src), "not a complete msgpack", error=CheckpointError)


def test_no_checkpoint_in_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert_refused(tmp_path, tmp_path / "empty", CONFIG, "no checkpoint found", error=CheckpointError)


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"n_layer": 3}, ["has 2 transformer_layers_<i>", "n_layer=3"]),
        ({"e_tie": True}, ["params/out_proj/bias", "params/token_embedder/bias_out", "lm_head.bias"]),
        ({"d_k": 8}, ["kvg_proj/kernel", "[64, 272]", "[64, 264]"]),
        ({"n_code": None}, ["missing TransformerConfig fields ['n_code']"]),
        ({"n_cde": 8}, ["not TransformerConfig fields: ['n_cde']"]),
        ({"mem_len": 0}, ["mem_len must be a positive integer, got 0"]),
        ({"agg_cache": "yes"}, ["agg_cache must be a boolean"]),
    ],
)
def test_config_that_does_not_match(tmp_path, changes, fragments):
    assert_refused(tmp_path, SOURCE, edited_config(tmp_path, **changes), *fragments)


def test_config_not_json(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    assert_refused(tmp_path, SOURCE, bad, str(bad), "not valid JSON")


def test_existing_output_is_refused_before_any_work(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(FileExistsError, match="--overwrite"):
        convert_transformer_vq(SOURCE, tmp_path / "out", CONFIG)
