"""A tiny CLUE run on however many processes it is launched (`python clue_run.py MODEL OUT` or under
`torchrun --nproc_per_node 2`). On every process but the main one, the harness's file writers raise: a write
from there fails the run. tests/clue/test_distributed_clue.py compares one process with two."""

import sys

from accelerate import PartialState

from kexue_models.clue import runner
from kexue_models.clue.runner import ClueArguments, run_clue

DATA_DIR = sys.argv[3]


def refuse(*args, **kwargs):
    raise RuntimeError(f"process {PartialState().process_index} wrote a result file")


def main(model: str, output_dir: str) -> None:
    if not PartialState(cpu=True).is_main_process:
        for writer in ("write_text", "write_results", "save_model", "staged_file"):  # checkpoints: every process
            assert hasattr(runner, writer), writer  # a renamed writer would leave this guard silently off
            setattr(runner, writer, refuse)
    run_clue(
        ClueArguments(
            model=model,
            data_dir=DATA_DIR,
            output_dir=output_dir,
            tasks="afqmc,cluener",
            epochs=2,
            batch_size=8,
            max_train_samples=64,
            max_eval_samples=29,
            split_dev=0.5,
            lr=5e-3,
            cpu=True,
            checkpoint_steps=5,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
