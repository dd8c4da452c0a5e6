"""The CLUE harness on a lent GPU, in two steps, because that machine gets only the repo plus carried paths (64 MiB)
and lacks `evaluate`, `datasets` and `nltk`:

    python scripts/gpu_clue.py prepare          # here: .gpu_bundle/ = CLUE slices, the vocabulary, wheels
    bash scripts/gpu_clue.sh                    # there (carry .gpu_bundle): installs the wheels, then `run`

`run` fine-tunes a base-shaped RoFormerV2 with random weights (no published weights travel) for one epoch per
task in bf16, on `--max-train-samples` examples, dev split where CLUE's train file is absent here, and prints
per task the wall time, training examples/s and what the full recipe (all train examples, the recipe's epochs)
would take at that speed. Scores of a random-weight model say nothing about the architecture; the run measures
the harness on the GPU (bf16, speed, all tasks end to end).
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
BUNDLE = REPO / ".gpu_bundle"
WHEELS = ("evaluate==0.4.6", "datasets==5.2.0", "dill==0.4.1", "multiprocess==0.70.19", "nltk==3.10.4")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64")
SLICE = {"train": 4096, "dev": 1024}  # records kept per file: more than the run uses, far less than 64 MiB
# Full train sizes (docs: clue_spec.md §2): examples, cmrc2018 questions (scaled by the run's windows per
# question), c3 questions of 4 choices. chid is left out: no ChID file was available to count its blanks.
FULL_TRAIN = {"iflytek": 12133, "tnews": 53360, "afqmc": 34334, "cmnli": 391783, "ocnli": 50437, "wsc": 1244,
              "csl": 20000, "cmrc2018": 10142, "c3": 11869, "cluener": 10748}  # fmt: skip


def slice_file(source: Path, target: Path, records: int) -> None:
    """The first `records` records of a CLUE file, in its own format (JSON lines, SQuAD JSON, or C3's list)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    text = source.read_text(encoding="utf-8")
    if source.parent.name == "cmrc2018":
        data = json.loads(text)
        data["data"] = data["data"][: records // 4]  # about 4 questions a passage
        text = json.dumps(data, ensure_ascii=False)
    elif source.parent.name == "c3":
        text = json.dumps(json.loads(text)[: records // 2], ensure_ascii=False)
    else:
        text = "\n".join(text.split("\n")[:records]) + "\n"  # not splitlines: texts hold U+2028
    target.write_text(text, encoding="utf-8")


def prepare(args) -> None:
    from kexue_models.conversion.output import atomic_directory

    with atomic_directory(BUNDLE, overwrite=True) as staging:
        for source in sorted((args.data_dir).glob("*/*.json")):
            split = "dev" if "dev" in source.name else "train" if "train" in source.name else None
            if split:
                slice_file(source, staging / "data" / source.parent.name / source.name, SLICE[split])
        shutil.copy(args.vocab, staging / "vocab.txt")
        platforms = [option for platform in PLATFORMS for option in ("--platform", platform)]
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(staging / "wheels"), *WHEELS],
            check=True,
        )  # fmt: skip
    size = sum(path.stat().st_size for path in BUNDLE.rglob("*") if path.is_file())
    print(f"{BUNDLE}: {size / 2**20:.1f} MiB (carry it: the device run allows 64 MiB with the repo)")


def run(args) -> None:
    import torch

    from kexue_models import Bert4KerasTokenizer, RoFormerV2Config, RoFormerV2Model
    from kexue_models.clue import TASKS, ClueArguments, run_clue

    model_dir = args.output_dir / "roformer_v2_base_random"
    if not model_dir.is_dir():
        tokenizer = Bert4KerasTokenizer(str(args.bundle / "vocab.txt"))
        torch.manual_seed(0)
        RoFormerV2Model(RoFormerV2Config(vocab_size=tokenizer.vocab_size)).save_pretrained(model_dir)
        tokenizer.save_pretrained(model_dir)
    tasks = [task for task in args.tasks.split(",") if (args.bundle / "data" / task).is_dir()]
    started = time.perf_counter()
    results = run_clue(
        ClueArguments(
            model=str(model_dir),
            data_dir=str(args.bundle / "data"),
            output_dir=str(args.output_dir / "run"),
            tasks=tasks,
            epochs=1,
            bf16=not args.cpu,
            max_train_samples=args.max_train_samples,
            max_eval_samples=args.max_eval_samples,
            split_dev=0.5,
            cpu=args.cpu,
        )
    )
    print(f"\n{results['device']}, {results['precision']}; whole run {time.perf_counter() - started:.0f} s")
    print("| task | train / dev | train s | eval s | train ex/s | full recipe, extrapolated |")
    print("|---|---|---|---|---|---|")
    for task, entry in results["tasks"].items():
        units = FULL_TRAIN[task] * entry["train_features"] / entry["train_size"]  # cmrc2018: windows per question
        full = units * TASKS[task].epochs / entry["train_examples_per_second"] / 3600
        speed = entry["train_examples_per_second"]
        print(f"| {task} | {entry['train_size']} / {entry['dev_size']} | {entry['train_seconds']:.1f} "
              f"| {entry['eval_seconds']:.1f} | {speed:.0f} | {full:.2f} h |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    prepare_parser = commands.add_parser("prepare")
    prepare_parser.add_argument("--data-dir", type=Path, default=SHARED / "data" / "clue")
    prepare_parser.add_argument("--vocab", type=Path, default=SHARED / "vocab" / "chinese_char_vocab_12000.txt")
    run_parser = commands.add_parser("run")
    run_parser.add_argument("--bundle", type=Path, default=BUNDLE)
    run_parser.add_argument("--output-dir", type=Path, required=True)
    run_parser.add_argument("--tasks", default="iflytek,tnews,afqmc,cmnli,ocnli,wsc,csl,cmrc2018,c3,chid,cluener")
    run_parser.add_argument("--max-train-samples", type=int, default=2048)
    run_parser.add_argument("--max-eval-samples", type=int, default=512)
    run_parser.add_argument("--cpu", action="store_true", help="a dry run of the same steps without a GPU")
    args = parser.parse_args()
    prepare(args) if args.command == "prepare" else run(args)


if __name__ == "__main__":
    main()
