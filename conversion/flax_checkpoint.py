"""Read flax / orbax msgpack checkpoints with `msgpack` and numpy only, no JAX.

Both flax's legacy `save_checkpoint` (a file `checkpoint_<step>`) and orbax's aggregated PyTree checkpoint (a
folder `checkpoint_<step>` holding a file `checkpoint`) store the pytree as nested msgpack maps whose arrays
are extension type 1 with a payload `(shape, dtype name, C-order bytes)`, numpy scalars type 3, and arrays
over 1 GiB split into `{"__msgpack_chunked_array__": True, "shape", "chunks"}` (flax/serialization.py,
orbax msgpack_utils.py).
"""

import re
from dataclasses import dataclass
from pathlib import Path

import msgpack
import numpy as np

from .errors import CheckpointError

NDARRAY, NPSCALAR = 1, 3
CHUNKED = "__msgpack_chunked_array__"
STEP_NAME = re.compile(r"checkpoint_(\d+)")


@dataclass(frozen=True)
class EncodedArray:
    """An array still in its msgpack payload: decoded only when read, so optimizer state costs no copies."""

    payload: bytes


def locate_checkpoint(src: str | Path) -> Path:
    """The msgpack file for SRC: the file itself, a `checkpoint_<step>` folder, or a folder of those.

    Like flax's `restore_checkpoint(step=None)`, a folder of checkpoints yields the highest step; orbax's
    unfinished `*.orbax-checkpoint-tmp-*` folders do not match the name and are skipped.
    """
    path = Path(src)
    if path.is_file():
        return path
    if not path.is_dir():
        raise CheckpointError(f"{path}: no such file or folder")
    if (path / "checkpoint").is_file():
        return path / "checkpoint"
    steps = {int(found[1]): child for child in path.iterdir() if (found := STEP_NAME.fullmatch(child.name))}
    if not steps:
        raise CheckpointError(
            f"{path}: no checkpoint found: expected a msgpack file, a checkpoint_<step> folder holding a file "
            "named `checkpoint`, or a folder of checkpoint_<step> entries"
        )
    return locate_checkpoint(steps[max(steps)])


def decode_array(payload: bytes, where: str) -> np.ndarray:
    try:
        shape, dtype_name, buffer = msgpack.unpackb(payload, raw=False)
        if dtype_name == "bfloat16":  # not a numpy dtype: widen the upper half of a float32
            bits = np.frombuffer(buffer, dtype=np.uint16).astype(np.uint32) << 16
            return bits.view(np.float32).reshape(shape)
        return np.frombuffer(buffer, dtype=np.dtype(dtype_name)).reshape(shape).copy()  # writable, for torch
    except (ValueError, TypeError, msgpack.UnpackException) as error:
        raise CheckpointError(f"{where}: corrupt array payload ({error})") from error


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    """Nested maps → {"a/b/c": leaf}; chunked arrays are one leaf."""
    leaves = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not value.get(CHUNKED):
            leaves.update(flatten(value, f"{name}/"))
        else:
            leaves[name] = value
    return leaves


def ordered(stored_tuple: dict) -> list:
    return [stored_tuple[key] for key in sorted(stored_tuple, key=int)]


class FlaxCheckpoint:
    """The leaves of a msgpack pytree by path ("params/token_embedder/embs"), arrays decoded on read."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            tree = msgpack.unpackb(
                self.path.read_bytes(),
                ext_hook=lambda code, data: EncodedArray(data) if code in (NDARRAY, NPSCALAR) else None,
                raw=False,
                strict_map_key=False,
            )
        except (ValueError, msgpack.UnpackException) as error:
            raise CheckpointError(f"{self.path}: not a complete msgpack checkpoint ({error})") from error
        if not isinstance(tree, dict):
            raise CheckpointError(f"{self.path}: expected a msgpack map at the top level, found {type(tree).__name__}")
        self.leaves = flatten(tree)

    def names(self) -> list[str]:
        return list(self.leaves)

    def read(self, name: str) -> np.ndarray:
        leaf = self.leaves[name]
        where = f"{self.path}: {name}"
        if isinstance(leaf, EncodedArray):
            return decode_array(leaf.payload, where)
        if isinstance(leaf, dict):  # chunked; tuples are stored as {"0": ..., "1": ...} (serialization._unchunk)
            chunks = [decode_array(chunk.payload, where) for chunk in ordered(leaf["chunks"])]
            return np.concatenate([chunk.ravel() for chunk in chunks]).reshape(ordered(leaf["shape"]))
        if isinstance(leaf, (int, float)):
            return np.asarray(leaf)
        raise CheckpointError(f"{where}: expected an array, found {type(leaf).__name__}")
