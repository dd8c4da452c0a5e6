"""Which reader reads which CLUE file, per task and split (file names as in CLUE's releases)."""

from collections.abc import Callable
from pathlib import Path

from .readers import (
    BINARY,
    IFLYTEK_LABELS,
    NLI_LABELS,
    TNEWS_LABELS,
    read_c3,
    read_chid,
    read_classification,
    read_cluener,
    read_cmrc2018,
    read_csl,
    read_wsc,
)

READERS: dict[str, Callable[[Path], list]] = {
    "iflytek": read_classification(("sentence",), IFLYTEK_LABELS),
    "tnews": read_classification(("sentence",), TNEWS_LABELS),
    "afqmc": read_classification(("sentence1", "sentence2"), BINARY),
    "cmnli": read_classification(("sentence1", "sentence2"), NLI_LABELS, skip_labels=("-",)),
    "ocnli": read_classification(("sentence1", "sentence2"), NLI_LABELS, skip_labels=("-",)),
    "wsc": read_wsc,
    "csl": read_csl,
    "cmrc2018": read_cmrc2018,
    "c3": read_c3,
    "chid": read_chid,
    "cluener": read_cluener,
}
# task → split → the files whose examples make the split (c3 merges its dialogue and mixed-genre parts).
TASK_FILES = {
    "iflytek": {"train": ["train.json"], "dev": ["dev.json"], "test": ["test.json"]},
    "tnews": {"train": ["train.json"], "dev": ["dev.json"], "test": ["test.json"]},
    "afqmc": {"train": ["train.json"], "dev": ["dev.json"], "test": ["test.json"]},
    "cmnli": {"train": ["train.json"], "dev": ["dev.json"], "test": ["test.json"]},
    "ocnli": {"train": ["train.50k.json"], "dev": ["dev.json"], "test": ["test.json"]},
    "wsc": {"train": ["train.json"], "dev": ["dev.json"], "test": ["test.json"]},
    "csl": {"train": ["train.json"], "dev": ["dev.json"], "test": ["test.json"]},
    "cmrc2018": {"train": ["train.json"], "dev": ["dev.json"], "test": ["test.json"]},
    "c3": {"train": ["m-train.json", "d-train.json"], "dev": ["m-dev.json", "d-dev.json"], "test": ["test1.1.json"]},
    "chid": {"train": ["train.json"], "dev": ["dev.json"], "test": ["test1.1.json"]},
    "cluener": {"train": ["train.json"], "dev": ["dev.json"], "test": ["test.json"]},
}


def read_task(data_dir: str | Path, task: str, split: str) -> list:
    """The examples of `split` of `task` under `data_dir/<task>/` (chid also reads `<split>_answer.json`)."""
    if task not in READERS:
        raise ValueError(f"unknown CLUE task {task!r}, expected one of {sorted(READERS)}")
    folder = Path(data_dir) / task
    examples = []
    for name in TASK_FILES[task][split]:
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing (CLUE's {task} {split} file)")
        if task == "chid":
            answers = folder / f"{split}_answer.json"
            examples += read_chid(path, answers if answers.is_file() else None)
        else:
            examples += READERS[task](path)
    return examples
