"""The CLUE harness's own overhead: examples/s of one `kexue-clue` fine-tuning epoch against a bare PyTorch loop
over the same model, the same batches (same features, order and padding) and the same optimizer, timed in this
one process, alternating, and reported as the ratio harness / bare (goal ≥ 0.9).

The model is a RoFormerV2 on the published 12,000-character vocabulary (random weights); the data a slice of
CLUE's tnews train file, Su's recipe otherwise (max length 128, batch 32, AdaFactor 5e-4).

    python scripts/bench_clue.py                                  # CPU, small model
    python scripts/bench_clue.py --device cuda --hidden-size 768 --layers 12 --bf16 --examples 8192
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from accelerate import Accelerator
from torch.utils.data import BatchSampler

from benchmarking import device_name, synchronize
from kexue_models import Bert4KerasTokenizer, RoFormerV2Config, RoFormerV2Model
from kexue_models.clue import ClueArguments
from kexue_models.clue.model import ClueModel
from kexue_models.clue.optim import AdaFactor
from kexue_models.clue.runner import TaskRun
from kexue_models.clue.tasks import get_task

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


class BareLoop:
    """The epoch `run` trains, written as the plainest PyTorch loop over a model and optimizer of its own."""

    def __init__(self, model_dir: Path, run: TaskRun, device: torch.device, bf16: bool):
        self.device, self.bf16 = device, bf16
        self.model = ClueModel.from_pretrained(str(model_dir), run.task).to(device)
        self.optimizer = AdaFactor(self.model.parameters(), lr=run.args.lr)
        run.sampler.shuffle_for_epoch(0)
        batch_size = run.recipe["batch_size"]
        self.batches = [
            run.collator([(index, run.train_features[index]) for index in indices])
            for indices in BatchSampler(run.sampler, batch_size, drop_last=False)
        ]

    def epoch(self) -> float:
        """Examples/s of one epoch."""
        synchronize(self.device)
        started, examples = time.perf_counter(), 0
        for batch in self.batches:
            batch = {key: value.to(self.device) for key, value in batch.items()}
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                loss, _ = self.model(**batch)
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad()
            examples += len(batch["index"])
        synchronize(self.device)
        return examples / (time.perf_counter() - started)


def harness_epoch(run: TaskRun, device: torch.device) -> float:
    synchronize(device)
    started, examples = time.perf_counter(), run.state["train_examples"]
    run.state["batches"] = 0
    run.train_epoch(0)
    synchronize(device)
    return (run.state["train_examples"] - examples) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--examples", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=SHARED / "data" / "clue")
    parser.add_argument("--vocab", type=Path, default=SHARED / "vocab" / "chinese_char_vocab_12000.txt")
    args = parser.parse_args()
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as folder:
        model_dir = Path(folder) / "model"
        tokenizer = Bert4KerasTokenizer(str(args.vocab))
        config = RoFormerV2Config(
            vocab_size=tokenizer.vocab_size,
            hidden_size=args.hidden_size,
            num_hidden_layers=args.layers,
            num_attention_heads=max(1, args.hidden_size // 64),
            intermediate_size=4 * args.hidden_size,
        )
        RoFormerV2Model(config).save_pretrained(model_dir)
        tokenizer.save_pretrained(model_dir)
        clue_args = ClueArguments(
            model=str(model_dir),
            data_dir=str(args.data_dir),
            output_dir=str(Path(folder) / "run"),
            tasks="tnews",
            max_train_samples=args.examples,
            max_eval_samples=32,
            bf16=args.bf16,
            cpu=device.type == "cpu",
            checkpoint_steps=10**9,
        )
        accelerator = Accelerator(cpu=device.type == "cpu", mixed_precision="bf16" if args.bf16 else "no")
        run = TaskRun(clue_args, accelerator, get_task("tnews"), tokenizer)
        loop = BareLoop(model_dir, run, device, args.bf16)
        harness, bare = [], []
        for _ in range(args.rounds):
            harness.append(harness_epoch(run, device))
            bare.append(loop.epoch())
    ratio = statistics.median(harness) / statistics.median(bare)
    print(f"device: {device_name(device)}; model: RoFormerV2 hidden {args.hidden_size}, {args.layers} layers; "
          f"tnews, {args.examples} examples, batch 32, max length 128, {'bf16' if args.bf16 else 'fp32'}")  # fmt: skip
    for name, rates in (("bare PyTorch loop", bare), ("kexue-clue epoch", harness)):
        rounds = ", ".join(f"{rate:.1f}" for rate in rates)
        print(f"{name:18s} {statistics.median(rates):8.1f} examples/s (rounds: {rounds})")
    print(f"ratio harness / bare: {ratio:.3f} (goal ≥ 0.9)")


if __name__ == "__main__":
    main()
