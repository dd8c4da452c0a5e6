"""Read TensorFlow checkpoints (the "tensor bundle" format: `<prefix>.index` + `<prefix>.data-*-of-*`)
without TensorFlow.

The index is an SSTable (LevelDB table format) mapping each variable name to a `BundleEntryProto`
(dtype, shape, shard, offset, size, masked CRC32C); the data shards hold the raw little-endian bytes.
Formats: tensorflow/core/util/tensor_bundle/tensor_bundle.{h,cc}, tensor_bundle.proto,
tensorflow/core/lib/io/{format,block}.cc. Every check raises `CheckpointError` naming the file and the
variable, so a truncated or corrupt download never turns into silently wrong weights.
"""

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import google_crc32c
import numpy as np

from .errors import CheckpointError

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48  # two block handles padded to 40 bytes, then the 8-byte magic number
BLOCK_TRAILER_SIZE = 5  # compression type byte + masked CRC32C
CRC_MASK_DELTA = 0xA282EAD8

# tensorflow/core/framework/types.proto; only the numeric types that checkpoints of these models use.
TF_DTYPES = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    19: np.dtype("<f2"),  # DT_HALF
}
DT_BFLOAT16 = 14


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int | None


def masked_crc32c(data: bytes | np.ndarray) -> int:
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + CRC_MASK_DELTA) & 0xFFFFFFFF


def read_varint(buffer: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(buffer):
            raise IndexError("varint runs past the end of its buffer")
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def protobuf_fields(message: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs of a serialized protobuf message: ints for varint/fixed, bytes otherwise."""
    position = 0
    while position < len(message):
        tag, position = read_varint(message, position)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            value, position = read_varint(message, position)
        elif wire_type == 1:
            (value,) = struct.unpack_from("<Q", message, position)
            position += 8
        elif wire_type == 2:
            length, position = read_varint(message, position)
            value = message[position : position + length]
            if len(value) != length:
                raise IndexError("length-delimited field runs past the end of its message")
            position += length
        elif wire_type == 5:
            (value,) = struct.unpack_from("<I", message, position)
            position += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        yield number, value


def parse_shape(message: bytes) -> tuple[int, ...]:
    """TensorShapeProto: repeated `dim` (field 2), each with `size` (field 1)."""
    dims = []
    for number, value in protobuf_fields(message):
        if number == 2:
            size = dict(protobuf_fields(value)).get(1, 0)
            dims.append(size)
    return tuple(dims)


def parse_entry(name: str, message: bytes) -> TensorEntry:
    """BundleEntryProto: dtype 1, shape 2, shard_id 3, offset 4, size 5, crc32c 6, slices 7."""
    fields = {"dtype": 0, "shape": (), "shard_id": 0, "offset": 0, "size": 0, "crc32c": None}
    for number, value in protobuf_fields(message):
        if number == 1:
            fields["dtype"] = value
        elif number == 2:
            fields["shape"] = parse_shape(value)
        elif number == 3:
            fields["shard_id"] = value
        elif number == 4:
            fields["offset"] = value
        elif number == 5:
            fields["size"] = value
        elif number == 6:
            fields["crc32c"] = value
        elif number == 7:
            raise CheckpointError(f"variable {name!r} is stored as partitioned slices, which are not supported")
    return TensorEntry(name=name, **fields)


class TFCheckpoint:
    """A TensorFlow checkpoint read by name: `names()`, `entry(name)`, `read(name)` → numpy array.

    `prefix` is the path without extension (`.../bert_model.ckpt`), as in TF's `checkpoint` file.
    """

    def __init__(self, prefix: str | Path):
        self.prefix = Path(prefix)
        self.index_path = Path(f"{self.prefix}.index")
        if not self.index_path.is_file():
            raise CheckpointError(f"{self.index_path}: checkpoint index not found")
        raw = self.index_path.read_bytes()
        try:
            self.num_shards, self.entries = self._parse_index(raw)
        except CheckpointError:
            raise
        except (IndexError, ValueError, struct.error) as error:
            raise CheckpointError(f"{self.index_path}: not a valid TensorFlow checkpoint index ({error})") from error
        self._shards: dict[int, BinaryIO] = {}

    def __enter__(self) -> "TFCheckpoint":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        for shard in self._shards.values():
            shard.close()
        self._shards.clear()

    def names(self) -> list[str]:
        return sorted(self.entries)

    def entry(self, name: str) -> TensorEntry:
        if name not in self.entries:
            raise CheckpointError(f"{self.index_path}: no variable named {name!r}")
        return self.entries[name]

    def shard_path(self, shard_id: int) -> Path:
        return Path(f"{self.prefix}.data-{shard_id:05d}-of-{self.num_shards:05d}")

    def read(self, name: str) -> np.ndarray:
        entry = self.entry(name)
        if entry.dtype == DT_BFLOAT16:
            raise CheckpointError(f"{self.index_path}: variable {name!r} is bfloat16, which numpy cannot hold")
        if entry.dtype not in TF_DTYPES:
            raise CheckpointError(
                f"{self.index_path}: variable {name!r} has TensorFlow dtype enum {entry.dtype}, not a numeric "
                "tensor this reader supports"
            )
        dtype = TF_DTYPES[entry.dtype]
        expected = int(np.prod(entry.shape, dtype=np.int64)) * dtype.itemsize
        if expected != entry.size:
            raise CheckpointError(
                f"{self.index_path}: variable {name!r} has shape {list(entry.shape)} ({expected} bytes) but "
                f"{entry.size} bytes are stored"
            )
        # Read straight into the array: one copy of each tensor in memory, however large the checkpoint.
        array = np.empty(entry.shape, dtype=dtype)
        raw = array.reshape(-1).view(np.uint8)
        shard, path = self._shard(entry.shard_id), self.shard_path(entry.shard_id)
        shard.seek(entry.offset)
        if shard.readinto(raw) != entry.size:
            raise CheckpointError(
                f"{path}: truncated: variable {name!r} needs bytes {entry.offset}..{entry.offset + entry.size} "
                f"but the file has {os.fstat(shard.fileno()).st_size} bytes"
            )
        if entry.crc32c is not None and masked_crc32c(raw) != entry.crc32c:
            raise CheckpointError(f"{path}: checksum mismatch for variable {name!r}: the data file is corrupt")
        return array.astype(dtype.newbyteorder("="), copy=False)  # a no-op on little-endian machines

    def _shard(self, shard_id: int) -> BinaryIO:
        if shard_id not in self._shards:
            path = self.shard_path(shard_id)
            if not path.is_file():
                raise CheckpointError(f"{path}: checkpoint data shard not found")
            self._shards[shard_id] = path.open("rb")
        return self._shards[shard_id]

    def _parse_index(self, raw: bytes) -> tuple[int, dict[str, TensorEntry]]:
        if len(raw) < FOOTER_SIZE:
            raise CheckpointError(f"{self.index_path}: truncated ({len(raw)} bytes, shorter than the table footer)")
        footer = raw[-FOOTER_SIZE:]
        (magic,) = struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)
        if magic != TABLE_MAGIC:
            raise CheckpointError(f"{self.index_path}: not a TensorFlow checkpoint index (bad table magic number)")
        _, position = read_varint(footer, 0)  # metaindex offset (unused: bundles write no meta blocks)
        _, position = read_varint(footer, position)
        index_offset, position = read_varint(footer, position)
        index_size, _ = read_varint(footer, position)

        num_shards, entries = 1, {}
        for _, handle in self._block_entries(raw, index_offset, index_size):
            block_offset, position = read_varint(handle, 0)
            block_size, _ = read_varint(handle, position)
            for key, value in self._block_entries(raw, block_offset, block_size):
                name = key.decode("utf-8")
                if name == "":  # BundleHeaderProto: num_shards 1, endianness 2 (0 = little)
                    header = dict(protobuf_fields(value))
                    num_shards = header.get(1, 1)
                    if header.get(2, 0) != 0:
                        raise CheckpointError(f"{self.index_path}: big-endian checkpoints are not supported")
                else:
                    entries[name] = parse_entry(name, value)
        return num_shards, entries

    def _block_entries(self, raw: bytes, offset: int, size: int) -> Iterator[tuple[bytes, bytes]]:
        """Key/value pairs of one table block, keys rebuilt from their shared prefixes; CRC checked."""
        block = raw[offset : offset + size]
        trailer = raw[offset + size : offset + size + BLOCK_TRAILER_SIZE]
        if len(block) != size or len(trailer) != BLOCK_TRAILER_SIZE:
            raise CheckpointError(f"{self.index_path}: truncated: a table block runs past the end of the file")
        if trailer[0] != 0:
            raise CheckpointError(f"{self.index_path}: compressed table blocks (type {trailer[0]}) are not supported")
        (stored_crc,) = struct.unpack_from("<I", trailer, 1)
        if masked_crc32c(block + trailer[:1]) != stored_crc:
            raise CheckpointError(f"{self.index_path}: checksum mismatch in a table block: the index is corrupt")
        (num_restarts,) = struct.unpack_from("<I", block, size - 4)
        limit = size - 4 - 4 * num_restarts
        position, key = 0, b""
        while position < limit:
            shared, position = read_varint(block, position)
            non_shared, position = read_varint(block, position)
            value_length, position = read_varint(block, position)
            key = key[:shared] + block[position : position + non_shared]
            position += non_shared
            yield key, block[position : position + value_length]
            position += value_length
