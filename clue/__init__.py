"""The CLUE harness: all 11 tasks read from CLUE's own files, fine-tuned with Su's recipes on any transformers
encoder through accelerate, scored by `evaluate` modules shipped in the package (docs: clue_spec.md).

    from kexue_models.clue import ClueArguments, run_clue
    run_clue(ClueArguments(model="path/to/model", data_dir="clue", output_dir="runs/clue", tasks="afqmc,cluener"))

Command line: `kexue-clue` (kexue_models.clue.cli)."""

from .readers import ClueFormatError
from .runner import ClueArguments, run_clue
from .tasks import TASKS, Task, read_files, read_task

__all__ = ["TASKS", "ClueArguments", "ClueFormatError", "Task", "read_files", "read_task", "run_clue"]
