"""The CLUE metrics as `evaluate` modules shipped in the package, loaded by path: works offline, where
`evaluate.load("<hub name>")` does not. Values are in percent, as CLUE reports them."""

from pathlib import Path

import evaluate

METRICS = ("accuracy", "cmrc2018", "cluener")


def load(name: str) -> evaluate.EvaluationModule:
    if name not in METRICS:
        raise ValueError(f"unknown CLUE metric {name!r}, expected one of {METRICS}")
    return evaluate.load(str(Path(__file__).parent / name), keep_in_memory=True)
