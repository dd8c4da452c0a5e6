"""The CLUE run: for each task, fine-tune a fresh copy of the encoder with Su's recipe, evaluate dev after every
epoch, keep the best epoch, and (optionally) predict the test files with it. Runs on CPU, one GPU or many under
`accelerate launch`/`torchrun`: batches are global (each process takes its slice), so a run gives the same
numbers on any number of processes; only the main process writes results.

Resumable: every `checkpoint_steps` micro-batches and at each epoch end the task's state (weights, optimizer,
RNG, position in the epoch) is saved; the same command restarted skips finished tasks and resumes the running
one from its last checkpoint.
"""

import json
import platform
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from accelerate import Accelerator, DataLoaderConfiguration, DistributedDataParallelKwargs, PartialState
from accelerate.utils import broadcast_object_list, set_seed
from safetensors.torch import load_model, save_model
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler
from tqdm.auto import tqdm
from transformers import AutoConfig, AutoTokenizer
from transformers.utils import cached_file

from ..conversion.output import save_state_atomic
from ..model_cards import spec_for
from ..model_cards.cards import CARDS, SU_CLUE_DEV, PublishedResults
from ..modeling.hub_files import staged_file
from . import metrics
from .features import Collator, encode
from .model import ENTITY_HEADS, ClueModel
from .optim import AdaFactor
from .outputs import read_results, write_results, write_text
from .predictions import metric_inputs, per_example, reduce_batch, submission_text
from .tasks import TASKS, Task, get_task, has_split, read_files, read_task

CHECKPOINT, STATE, BEST_WEIGHTS = "checkpoint", "state.json", "best.safetensors"
LOG_EVERY = 50  # batches between progress-bar loss updates
SPLIT_SEED = 0  # the dev split and sample subsets do not move with --seed, so runs with several seeds compare


@dataclass
class ClueArguments:
    """What `kexue-clue` takes; None means the task's own recipe (docs: clue_spec.md §7)."""

    model: str
    data_dir: str
    output_dir: str
    tasks: list[str] = field(default_factory=lambda: list(TASKS))
    epochs: int | None = None
    batch_size: int | None = None  # global, in the task's unit (examples, c3 questions, cmrc2018 windows)
    lr: float = 5e-4
    max_length: int | None = None
    seed: int = 42
    bf16: bool = False
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    predict_test: bool = False
    split_dev: float | None = None  # for tasks without a train file: train on this share of dev, evaluate on the rest
    entity_head: str = "efficient_global_pointer"
    checkpoint_steps: int = 500
    compare_with: str | None = None
    cpu: bool = False

    def __post_init__(self):
        if isinstance(self.tasks, str):
            self.tasks = list(TASKS) if self.tasks == "all" else [task.strip() for task in self.tasks.split(",")]
        for task in self.tasks:
            get_task(task)
        if self.split_dev is not None and not 0.0 < self.split_dev < 1.0:
            raise ValueError(f"split_dev must be a fraction in (0, 1), found {self.split_dev}")
        if self.entity_head not in ENTITY_HEADS:
            raise ValueError(f"entity_head must be one of {sorted(ENTITY_HEADS)}, found {self.entity_head!r}")
        if self.compare_with is not None and self.compare_with not in SU_CLUE_DEV:
            raise ValueError(f"compare_with must be one of {sorted(SU_CLUE_DEV)}, found {self.compare_with!r}")
        for name in (
            "epochs",
            "batch_size",
            "max_length",
            "max_train_samples",
            "max_eval_samples",
            "checkpoint_steps",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, found {value}")

    def check_batch_sizes(self, processes: int) -> None:
        """Batches are global and each process takes an equal slice of every one."""
        for name in self.tasks:
            batch_size = self.recipe(get_task(name))["batch_size"]
            if batch_size % processes:
                raise ValueError(f"batch size {batch_size} ({name}) must be divisible by the {processes} processes")

    def recipe(self, task: Task) -> dict:
        """The settings that decide a task's result; a result or checkpoint made under others is not reused."""
        return {
            "model": self.model,
            "epochs": self.epochs or task.epochs,
            "batch_size": self.batch_size or task.batch_size,
            "accumulation": task.accumulation,
            "max_length": self.max_length or task.max_length,
            "lr": self.lr,
            "seed": self.seed,
            "bf16": self.bf16,
            "max_train_samples": self.max_train_samples,
            "max_eval_samples": self.max_eval_samples,
            "split_dev": self.split_dev,
            "entity_head": self.entity_head if task.kind == "entity" else None,
        }


class IndexedFeatures(Dataset):
    def __init__(self, features: list[dict]):
        self.features = features

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> tuple[int, dict]:
        return index, self.features[index]


class EpochShuffle(Sampler[int]):
    """A permutation that depends only on (seed, epoch): every process draws the same global batches, and a
    resumed epoch replays the order it was interrupted in."""

    def __init__(self, size: int, seed: int):
        self.size, self.seed, self.epoch = size, seed, 0

    def shuffle_for_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())

    def __len__(self) -> int:
        return self.size


def subset(examples: list, size: int | None) -> list:
    """At most `size` examples, a fixed random choice kept in file order."""
    if size is None or size >= len(examples):
        return examples
    chosen = sorted(random.Random(SPLIT_SEED).sample(range(len(examples)), size))
    return [examples[index] for index in chosen]


def missing_data(args: ClueArguments, names: list[str]) -> list[str]:
    """What these tasks lack under `data_dir`: run_clue checks all of them before any starts."""
    problems = []
    for name in names:
        task = get_task(name)
        folder = Path(args.data_dir) / name
        for file in task.dev:
            if not (folder / file).is_file():
                problems.append(f"{folder / file}: missing (CLUE's {name} dev file)")
        if args.split_dev is None and not has_split(args.data_dir, name, "train"):
            problems.append(
                f"{folder / task.train[0]}: missing (CLUE's {name} train file); add it, or pass --split-dev FRACTION "
                "to fine-tune on part of dev and evaluate on the rest"
            )
    return problems


def load_splits(args: ClueArguments, task: Task) -> tuple[list, list, str]:
    """(train examples, dev examples, protocol): CLUE's train → dev, or with `split_dev` and no train file, a
    fixed split of dev that the results name as such."""
    dev = read_task(args.data_dir, task.name, "dev")
    if has_split(args.data_dir, task.name, "train"):
        train, protocol = read_task(args.data_dir, task.name, "train"), "train → dev"
    elif args.split_dev is not None:
        order = list(range(len(dev)))
        random.Random(SPLIT_SEED).shuffle(order)
        cut = round(len(dev) * args.split_dev)
        train = [dev[index] for index in sorted(order[:cut])]
        dev = [dev[index] for index in sorted(order[cut:])]
        protocol = f"dev split: train on {args.split_dev:.0%} of dev, evaluate on the other {1 - args.split_dev:.0%}"
    else:
        raise FileNotFoundError(missing_data(args, [task.name])[0])
    return subset(train, args.max_train_samples), subset(dev, args.max_eval_samples), protocol


def device_name(accelerator: Accelerator) -> str:
    if accelerator.device.type == "cuda":
        return f"{torch.cuda.get_device_name(accelerator.device)} ×{accelerator.num_processes}"
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads) ×{accelerator.num_processes}"


def published_results(args: ClueArguments) -> PublishedResults | None:
    """The published row to compare with: `compare_with`, else the card's of the published model this folder was
    converted from (a converter's conversion.json says so; the shape alone does not: random or other weights of
    the same shape have no published numbers)."""
    if args.compare_with:
        return SU_CLUE_DEV[args.compare_with]
    config = AutoConfig.from_pretrained(args.model).to_dict()
    if config.get("model_type") not in {spec.model_type for spec in CARDS.values()}:
        return None
    try:
        converted = cached_file(args.model, "conversion.json", _raise_exceptions_for_missing_entries=False)
    except OSError:  # a Hub id without network
        converted = None
    published = spec_for(config, converted=bool(converted)).published
    return published[0] if published else None


class TaskRun:
    """One task's fine-tuning, evaluation and prediction on the accelerator."""

    def __init__(self, args: ClueArguments, accelerator: Accelerator, task: Task, tokenizer):
        self.args, self.accelerator, self.task, self.tokenizer = args, accelerator, task, tokenizer
        accelerator.free_memory()  # forget the previous task's model and optimizer: checkpoints hold this task's only
        self.recipe = args.recipe(task)
        self.folder = Path(args.output_dir) / task.name
        self.train_examples, self.dev_examples, self.protocol = load_splits(args, task)
        max_length = self.recipe["max_length"]
        self.train_features = encode(task, tokenizer, self.train_examples, max_length)
        self.dev_features = encode(task, tokenizer, self.dev_examples, max_length)
        batch_size = self.recipe["batch_size"]
        accelerator.gradient_accumulation_steps = task.accumulation
        self.collator = Collator(task, tokenizer.pad_token_id)
        self.sampler = EpochShuffle(len(self.train_features), args.seed)
        set_seed(args.seed)
        model = ClueModel.from_pretrained(args.model, task, args.entity_head)
        optimizer = AdaFactor(model.parameters(), lr=args.lr)
        train_loader = DataLoader(
            IndexedFeatures(self.train_features),
            batch_sampler=BatchSampler(self.sampler, batch_size, drop_last=False),
            collate_fn=self.collator,
        )
        self.model, self.optimizer, self.train_loader = accelerator.prepare(model, optimizer, train_loader)
        self.dev_loader = self.loader(self.dev_features)
        self.state = {"epoch": 0, "batches": 0, "history": [], "best": None, "train_seconds": 0.0,
                      "eval_seconds": 0.0, "train_examples": 0, "loss_sum": 0.0, "recipe": self.recipe}  # fmt: skip

    def loader(self, features: list[dict]) -> DataLoader:
        return self.accelerator.prepare_data_loader(
            DataLoader(IndexedFeatures(features), batch_size=self.recipe["batch_size"], collate_fn=self.collator)
        )

    def resume(self) -> None:
        state_path = self.folder / CHECKPOINT / STATE
        if not state_path.is_file():
            return
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if state["recipe"] != self.recipe:
            self.accelerator.print(f"{self.task.name}: the checkpoint was made with other settings; starting afresh")
            return
        self.accelerator.load_state(str(self.folder / CHECKPOINT))
        self.state = state
        self.accelerator.print(
            f"{self.task.name}: resuming at epoch {state['epoch'] + 1}, batch {state['batches']} of the epoch"
        )

    def save_checkpoint(self) -> None:
        """Weights, optimizer, RNG and position, complete or not at all."""
        save_state_atomic(self.accelerator, self.folder / CHECKPOINT, {STATE: self.state})

    def predict(self, loader: DataLoader, features: list[dict], examples: list, desc: str) -> list:
        """Per-example predictions, every feature gathered from the processes exactly once."""
        self.model.eval()
        reduced = {}
        with torch.no_grad():
            for batch in tqdm(loader, desc=desc, disable=not self.accelerator.is_main_process, leave=False):
                inputs = {key: value for key, value in batch.items() if key != "labels"}
                _, scores = self.model(**inputs)
                local = reduce_batch(self.task, batch, scores)
                reduced.update(self.accelerator.gather_for_metrics(local, use_gather_object=True))
        self.model.train()
        if sorted(reduced) != list(range(len(features))):
            raise RuntimeError(f"{self.task.name}: gathered {len(reduced)} of {len(features)} features")
        return per_example(self.task, examples, features, reduced)

    def evaluate(self) -> tuple[dict, list]:
        predictions = self.predict(self.dev_loader, self.dev_features, self.dev_examples, f"{self.task.name} dev")
        scores = {}
        if self.accelerator.is_main_process:
            inputs, references = metric_inputs(self.task, self.dev_examples, predictions)
            scores = metrics.load(self.task.metric).compute(predictions=inputs, references=references)
        return scores, predictions

    def train_epoch(self, epoch: int) -> float:
        """Train one epoch (or its rest, after a resume); returns its mean training loss over processes."""
        accelerator, task = self.accelerator, self.task
        self.sampler.shuffle_for_epoch(epoch)
        skip = self.state["batches"]
        loader = accelerator.skip_first_batches(self.train_loader, skip) if skip else self.train_loader
        accelerator.step = 0
        progress = tqdm(
            loader,
            desc=f"{task.name} epoch {epoch + 1}/{self.recipe['epochs']}",
            initial=skip,
            total=len(self.train_loader),
            disable=not accelerator.is_main_process,
        )
        started, unlogged_loss = time.perf_counter(), torch.zeros((), device=accelerator.device)
        for batch in progress:
            with accelerator.accumulate(self.model):
                loss, _ = self.model(**batch)
                accelerator.backward(loss)
                self.optimizer.step()
                self.optimizer.zero_grad()
            unlogged_loss += loss.detach()
            self.state["batches"] += 1
            self.state["train_examples"] += len(batch["index"]) * accelerator.num_processes
            if self.state["batches"] % LOG_EVERY == 0:  # the only host sync, once per LOG_EVERY batches
                self.log_loss(unlogged_loss)
                progress.set_postfix(loss=f"{self.state['loss_sum'] / self.state['batches']:.4f}")
            if accelerator.sync_gradients and self.state["batches"] % self.args.checkpoint_steps == 0:
                self.log_loss(unlogged_loss)
                self.state["train_seconds"] += time.perf_counter() - started
                started = time.perf_counter()
                self.save_checkpoint()
        self.log_loss(unlogged_loss)
        self.state["train_seconds"] += time.perf_counter() - started
        mean = self.state["loss_sum"] / max(self.state["batches"], 1)
        self.state["loss_sum"] = 0.0
        return mean

    def log_loss(self, unlogged_loss: torch.Tensor) -> None:
        """Move the losses summed on the device into the state, averaged over processes."""
        self.state["loss_sum"] += self.accelerator.reduce(unlogged_loss.clone(), "mean").item()
        unlogged_loss.zero_()

    def run(self) -> dict:
        accelerator, task = self.accelerator, self.task
        self.resume()
        for epoch in range(self.state["epoch"], self.recipe["epochs"]):
            train_loss = self.train_epoch(epoch)
            started = time.perf_counter()
            scores, predictions = self.evaluate()
            self.state["eval_seconds"] += time.perf_counter() - started
            if accelerator.is_main_process:
                score = scores[task.score]
                best = self.state["best"]
                self.state["history"].append({"epoch": epoch + 1, "train_loss": train_loss, "scores": scores})
                accelerator.print(
                    f"{task.name} epoch {epoch + 1}: train loss {train_loss:.4f}, "
                    + ", ".join(f"{k} {v:.2f}" for k, v in scores.items())
                )
                if best is None or score > best["score"] or (task.ties_improve and score == best["score"]):
                    self.state["best"] = {"score": score, "epoch": epoch + 1, "scores": scores}
                    self.save_best(predictions)
            self.state["epoch"], self.state["batches"] = epoch + 1, 0
            self.save_checkpoint()
        state = self.broadcast_state()
        load_model(accelerator.unwrap_model(self.model), str(self.folder / BEST_WEIGHTS))
        submissions = self.predict_test() if self.args.predict_test else []
        return self.result(state, submissions)

    def broadcast_state(self) -> dict:
        """The main process's state (it alone scores dev) on every process."""
        return broadcast_object_list([self.state])[0]

    def save_best(self, predictions: list) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with staged_file(self.folder / BEST_WEIGHTS) as staging:
            save_model(self.accelerator.unwrap_model(self.model), str(staging))
        write_text(self.folder / "dev_predictions.json", submission_text(self.task, self.dev_examples, predictions))

    def predict_test(self) -> list[str]:
        written = []
        for name, submission in self.task.submission_pairs():
            path = Path(self.args.data_dir) / self.task.name / name
            if not path.is_file():
                self.accelerator.print(f"{self.task.name}: no {path}, so no {submission}")
                continue
            examples = read_files(self.args.data_dir, self.task.name, (name,))
            features = encode(self.task, self.tokenizer, examples, self.recipe["max_length"])
            predictions = self.predict(self.loader(features), features, examples, f"{self.task.name} {name}")
            if self.accelerator.is_main_process:
                write_text(
                    Path(self.args.output_dir) / "submission" / submission,
                    submission_text(self.task, examples, predictions),
                )
            written.append(submission)
        return written

    def result(self, state: dict, submissions: list[str]) -> dict:
        best = state["best"]
        return {
            **self.recipe,
            "metric": self.task.metric,
            "score_name": self.task.score,
            "score": best["score"],
            "scores": best["scores"],
            "best_epoch": best["epoch"],
            "history": state["history"],
            "protocol": self.protocol,
            "train_size": len(self.train_examples),
            "train_features": len(self.train_features),  # cmrc2018: windows; otherwise = train_size
            "dev_size": len(self.dev_examples),
            "train_seconds": state["train_seconds"],
            "eval_seconds": state["eval_seconds"],
            "train_examples_per_second": state["train_examples"] / max(state["train_seconds"], 1e-9),
            "submissions": submissions,
            "device": device_name(self.accelerator),
            "precision": "bf16" if self.args.bf16 else "float32",
            "processes": self.accelerator.num_processes,
        }


def make_accelerator(args: ClueArguments) -> Accelerator:
    processes = PartialState(cpu=args.cpu).num_processes
    return Accelerator(
        cpu=args.cpu,
        mixed_precision="bf16" if args.bf16 else "no",
        dataloader_config=DataLoaderConfiguration(split_batches=True),
        # Encoders such as BertModel carry a pooler the CLUE heads do not use.
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)] if processes > 1 else [],
    )


def run_clue(args: ClueArguments, accelerator: Accelerator | None = None) -> dict:
    """Run the tasks of `args`, skipping those already in `output_dir/results.json` with the same settings;
    returns the results (as written to results.json)."""
    accelerator = accelerator or make_accelerator(args)
    args.check_batch_sizes(accelerator.num_processes)
    problems = missing_data(args, args.tasks)
    if problems:
        raise FileNotFoundError("\n".join(problems))
    output_dir = Path(args.output_dir)
    results = read_results(output_dir)
    results.update(
        model=args.model,
        device=device_name(accelerator),
        precision="bf16" if args.bf16 else "float32",
        processes=accelerator.num_processes,
    )
    published = published_results(args)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    for name in args.tasks:
        task = get_task(name)
        done = results["tasks"].get(name)
        if done is not None and {key: done.get(key) for key in args.recipe(task)} == args.recipe(task):
            accelerator.print(f"{name}: done already ({done['score_name']} {done['score']:.2f}), skipped")
            continue
        entry = TaskRun(args, accelerator, task, tokenizer).run()
        accelerator.free_memory()
        results["tasks"][name] = entry
        if accelerator.is_main_process:
            write_results(output_dir, results, published)
            shutil.rmtree(output_dir / name / CHECKPOINT)  # the result is safe; the best weights stay
            accelerator.print(f"{name}: {task.score} {entry['score']:.2f} (best of {entry['epochs']} epochs)")
        accelerator.wait_for_everyone()
    return results
