"""`kexue-clue`: fine-tune and evaluate an encoder on CLUE tasks (see `kexue_models.clue.runner`)."""

import argparse

from ..model_cards.cards import SU_CLUE_DEV
from .model import ENTITY_HEADS
from .runner import ClueArguments, run_clue
from .tasks import TASKS


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kexue-clue",
        description="Fine-tune an encoder on CLUE tasks with Su's recipes and report dev scores beside the published "
        "ones. Runs on CPU, one GPU, or many under `accelerate launch`; a restarted run resumes.",
    )
    parser.add_argument("--model", required=True, help="a folder or Hub id of any transformers encoder")
    parser.add_argument("--tasks", default="all", help=f"'all' or a comma-separated subset of {','.join(TASKS)}")
    parser.add_argument("--data-dir", required=True, help="CLUE's files as released: DIR/<task>/dev.json, ...")
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--epochs", type=int, help="default: the task's recipe (10; wsc 30, chid 5)")
    parser.add_argument("--batch-size", type=int, help="global batch; default: the task's recipe")
    parser.add_argument("--lr", type=float, default=5e-4, help="AdaFactor learning rate (default: Su's 5e-4)")
    parser.add_argument("--max-length", type=int, help="default: the task's recipe")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (weights and optimizer stay float32)")
    parser.add_argument("--max-train-samples", type=int, help="fine-tune on a fixed random subset of this size")
    parser.add_argument("--max-eval-samples", type=int, help="evaluate on a fixed random subset of this size")
    parser.add_argument("--predict-test", action="store_true", help="write CLUE submission files from the best epoch")
    parser.add_argument(
        "--split-dev",
        type=float,
        metavar="FRACTION",
        help="for tasks without a train file: fine-tune on this share of dev, evaluate on the rest (results say so)",
    )
    parser.add_argument("--entity-head", choices=sorted(ENTITY_HEADS), default="efficient_global_pointer")
    parser.add_argument("--checkpoint-steps", type=int, default=500, help="micro-batches between checkpoints")
    parser.add_argument("--compare-with", choices=sorted(SU_CLUE_DEV), help="a published row for results.md")
    parser.add_argument("--cpu", action="store_true", help="run on CPU even where a GPU is present")
    return parser


def main(argv: list[str] | None = None) -> None:
    options = vars(parser().parse_args(argv))
    run_clue(ClueArguments(**options))


if __name__ == "__main__":
    main()
