"""Atomic writes: a folder or file appears complete under its final name, or not at all."""

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..modeling.hub_files import write_text_atomic


def refuse_existing(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir}: output folder already exists (pass --overwrite to replace it)")


@contextmanager
def atomic_directory(out_dir: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside `out_dir`; rename it to `out_dir` only if the block succeeds.

    An interrupted or failed run leaves no `out_dir` (and removes its temporary folder). With `overwrite`,
    an existing `out_dir` is replaced only once the new one is complete.
    """
    out_dir = Path(out_dir)
    refuse_existing(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_directory(staging, out_dir)


def replace_directory(staging: Path, out_dir: Path) -> None:
    """Put the complete folder `staging` at `out_dir`, replacing an existing one only once both exist."""
    if out_dir.exists():
        retired = out_dir.with_name(f".{out_dir.name}.replaced-{uuid.uuid4().hex[:8]}")
        os.replace(out_dir, retired)
        os.replace(staging, out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, out_dir)


def save_state_atomic(accelerator, folder: Path, records: dict[str, Any], safe_serialization: bool = True) -> None:
    """An accelerate checkpoint (every process's part) plus the main process's JSON `records` (name → data),
    written beside `folder` and swapped in only once all of it is on disk."""
    staging = folder.with_name(f".{folder.name}.partial")
    if accelerator.is_main_process:
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(staging), safe_serialization=safe_serialization)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        for name, data in records.items():
            write_json_atomic(staging / name, data)
        replace_directory(staging, folder)
    accelerator.wait_for_everyone()


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Write JSON to a temporary file in the same folder, then rename it over `path`."""
    write_text_atomic(Path(path), json.dumps(data, ensure_ascii=False, indent=2) + "\n")
