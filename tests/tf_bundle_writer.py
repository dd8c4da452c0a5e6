"""Write TensorFlow tensor bundles (index SSTable + one data shard), for building broken or synthetic
checkpoints in tests. It follows the same format documents as the reader: table format (block entries,
restart array, 5-byte trailers, 48-byte footer) and tensor_bundle.proto field numbers."""

import struct
from pathlib import Path

import numpy as np

from kexue_models.conversion.tf_checkpoint import TABLE_MAGIC, masked_crc32c

DTYPE_ENUMS = {np.dtype("float32"): 1, np.dtype("int64"): 9, np.dtype("int32"): 3}


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, bytes):
        return varint(number << 3 | 2) + varint(len(value)) + value
    return varint(number << 3) + varint(value)


def entry_proto(array: np.ndarray, offset: int, data: bytes) -> bytes:
    shape = b"".join(field(2, field(1, size) if size else b"") for size in array.shape)
    message = field(1, DTYPE_ENUMS[array.dtype]) + field(2, shape) + field(4, offset) + field(5, len(data))
    return message + varint(6 << 3 | 5) + struct.pack("<I", masked_crc32c(data))


def block(entries: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(varint(0) + varint(len(key)) + varint(len(value)) + key + value for key, value in entries)
    body += struct.pack("<II", 0, 1)  # one restart point, at offset 0
    return body + b"\x00" + struct.pack("<I", masked_crc32c(body + b"\x00"))


def write_checkpoint(prefix: str | Path, tensors: dict[str, np.ndarray]) -> None:
    """Write `tensors` as `<prefix>.index` and `<prefix>.data-00000-of-00001`."""
    prefix = Path(prefix)
    entries, data = [(b"", field(1, 1) + field(3, field(1, 1)))], bytearray()  # header: 1 shard, version 1
    for name in sorted(tensors):
        array = np.asarray(tensors[name]).copy(order="C")
        raw = array.tobytes()
        entries.append((name.encode(), entry_proto(array, len(data), raw)))
        data += raw
    Path(f"{prefix}.data-00000-of-00001").write_bytes(bytes(data))

    data_block = block(entries)
    metaindex_block = block([])
    handle = varint(0) + varint(len(data_block) - 5)
    index_block = block([(entries[-1][0], handle)])
    metaindex_offset = len(data_block)
    index_offset = metaindex_offset + len(metaindex_block)
    footer = varint(metaindex_offset) + varint(len(metaindex_block) - 5)
    footer += varint(index_offset) + varint(len(index_block) - 5)
    footer = footer.ljust(40, b"\x00") + struct.pack("<Q", TABLE_MAGIC)
    Path(f"{prefix}.index").write_bytes(data_block + metaindex_block + index_block + footer)
