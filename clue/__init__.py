"""The CLUE harness (in progress): readers of CLUE's own files (readers.py, tasks.py), metrics as `evaluate`
modules (metrics/), GlobalPointer heads and their decoding (heads.py, decode.py). Task specs, features and
the runner (kexue-clue) follow."""

from .readers import ClueFormatError
from .tasks import TASK_FILES, read_task

__all__ = ["TASK_FILES", "ClueFormatError", "read_task"]
