"""The 11 CLUE tasks as one table: CLUE's file names, the reader, the head and metric, and Su's recipe (docs:
clue_spec.md §2 and §7: max length, batch, gradient accumulation, epochs; AdaFactor lr 5e-4 for all)."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .readers import (
    BINARY,
    CLUENER_TYPES,
    IFLYTEK_LABELS,
    NLI_LABELS,
    TNEWS_LABELS,
    WSC_LABELS,
    read_c3,
    read_chid,
    read_classification,
    read_cluener,
    read_cmrc2018,
    read_csl,
    read_wsc,
)

KINDS = ("classification", "choice", "span", "entity")


@dataclass(frozen=True)
class Task:
    name: str
    reader: Callable[[Path], list]
    kind: str  # classification: CLS → Linear(labels); choice: CLS → Linear(1) per choice; span / entity: GlobalPointer
    metric: str  # the `kexue_models.clue.metrics` module
    score: str  # the value of that metric the task is ranked by (as in the GAU-α table)
    max_length: int
    batch_size: int  # examples per micro-batch (c3: questions of 4 choices, chid: blanks, cmrc2018: windows)
    accumulation: int = 1
    epochs: int = 10
    labels: tuple[str, ...] = ()  # class names in head order (classification), entity types (entity)
    train: tuple[str, ...] = ("train.json",)
    dev: tuple[str, ...] = ("dev.json",)
    submissions: tuple[tuple[str, str], ...] = ()  # (test file, CLUE's submission file name)
    ties_improve: bool = False  # a dev score equal to the best so far replaces it (Su's cluener uses >=)

    def files(self, split: str) -> tuple[str, ...]:
        """CLUE's files of the `train` or `dev` split."""
        if split not in ("train", "dev"):
            raise ValueError(f"split must be 'train' or 'dev', found {split!r} (test files: read_files)")
        return self.train if split == "train" else self.dev

    def submission_pairs(self) -> tuple[tuple[str, str], ...]:
        return self.submissions or (("test.json", f"{self.name}_predict.json"),)


def classification(name: str, reader: Callable, labels: tuple[str, ...], **recipe) -> Task:
    return Task(name, reader, "classification", "accuracy", "accuracy", 128, 32, labels=labels, **recipe)


TASKS = {
    task.name: task
    for task in (
        classification("iflytek", read_classification(("sentence",), IFLYTEK_LABELS), IFLYTEK_LABELS),
        classification(
            "tnews",
            read_classification(("sentence",), TNEWS_LABELS),
            TNEWS_LABELS,
            submissions=(("test.json", "tnews11_predict.json"), ("test1.0.json", "tnews10_predict.json")),
        ),
        classification("afqmc", read_classification(("sentence1", "sentence2"), BINARY), BINARY),
        classification(
            "cmnli", read_classification(("sentence1", "sentence2"), NLI_LABELS, skip_labels=("-",)), NLI_LABELS
        ),
        classification(
            "ocnli",
            read_classification(("sentence1", "sentence2"), NLI_LABELS, skip_labels=("-",)),
            NLI_LABELS,
            train=("train.50k.json",),
            submissions=(("test.json", "ocnli_50k_predict.json"),),
        ),
        classification(
            "wsc",
            read_wsc,
            WSC_LABELS,
            epochs=30,
            submissions=(("test.json", "cluewsc11_predict.json"), ("test1.0.json", "cluewsc10_predict.json")),
        ),
        classification("csl", read_csl, BINARY),
        Task("cmrc2018", read_cmrc2018, "span", "cmrc2018", "span_accuracy", 512, 16, accumulation=2),
        Task(
            "c3",
            read_c3,
            "choice",
            "accuracy",
            "accuracy",
            512,
            4,
            accumulation=4,
            train=("m-train.json", "d-train.json"),
            dev=("m-dev.json", "d-dev.json"),
            submissions=(("test1.1.json", "c311_predict.json"), ("test1.0.json", "c310_predict.json")),
        ),
        Task(
            "chid",
            read_chid,
            "choice",
            "accuracy",
            "accuracy",
            64,
            12,
            accumulation=2,
            epochs=5,
            submissions=(("test1.1.json", "chid11_predict.json"), ("test1.0.json", "chid10_predict.json")),
        ),
        Task("cluener", read_cluener, "entity", "cluener", "f1", 256, 32, labels=CLUENER_TYPES, ties_improve=True),
    )
}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown CLUE task {name!r}, expected one of {sorted(TASKS)}")
    return TASKS[name]


def read_files(data_dir: str | Path, task: str, names: tuple[str, ...]) -> list:
    """The examples of these files of `task` under `data_dir/<task>/`; chid also reads `<stem>_answer.json`."""
    spec = get_task(task)
    folder = Path(data_dir) / task
    examples = []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing (CLUE's {task} file {name})")
        if task == "chid":
            answers = folder / f"{path.stem}_answer.json"
            examples += read_chid(path, answers if answers.is_file() else None)
        else:
            examples += spec.reader(path)
    return examples


def read_task(data_dir: str | Path, task: str, split: str) -> list:
    """The examples of CLUE's `train` or `dev` split of `task`."""
    return read_files(data_dir, task, get_task(task).files(split))


def has_split(data_dir: str | Path, task: str, split: str) -> bool:
    return all((Path(data_dir) / task / name).is_file() for name in get_task(task).files(split))
