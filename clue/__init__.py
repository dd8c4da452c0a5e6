"""The CLUE harness (in progress): readers of CLUE's own files; task specs, metrics and the runner follow."""

from .readers import ClueFormatError
from .tasks import TASK_FILES, read_task

__all__ = ["TASK_FILES", "ClueFormatError", "read_task"]
