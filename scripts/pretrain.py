"""Pre-train a small model once per output-embedding option and compare them (kexue.fm/archives/9698).

MLM for RoFormerV2 / GAU-α with the masking of Su's roformer-v2 `train_mlm.py` (15% of the units: 80% [MASK],
10% kept, 10% random; units are characters here, where Su masked whole LAC words), causal LM for
Transformer-VQ. Every option of `--modes` trains from the same seed on the same batches, with
`zero_init_residual` (the setting of the analysis). The corpus is plain text files (default: the CMRC 2018
excerpt in demo/) or a `datasets` dataset; a character vocabulary is built from it unless a tokenizer is given.

Outputs in --output-dir: `log.csv` (mode, step, loss, accuracy, lr), `curves.png` (every mode's loss in one
plot), `extrapolation.csv` (accuracy of each mode at each --eval-lengths, beyond the training length too) and
one checkpoint folder per mode. Runs under `accelerate launch` on any number of devices; bf16 with --bf16.
A killed run restarted with the same command resumes: finished modes are skipped, the running one continues
from its last checkpoint (written atomically every --checkpoint-every steps).

    python scripts/pretrain.py                                   # CPU demo: tiny RoFormerV2, seconds
    accelerate launch scripts/pretrain.py --preset gpu --bf16    # the comparison on a GPU
"""

import argparse
import csv
import json
import math
import shutil
from collections import Counter
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.utils import set_seed
from tqdm.auto import tqdm

from kexue_models import (
    Bert4KerasTokenizer,
    GAUAlphaConfig,
    GAUAlphaForMaskedLM,
    RoFormerV2Config,
    RoFormerV2ForMaskedLM,
    TransformerVQConfig,
    TransformerVQForCausalLM,
)
from kexue_models.configuration.configuration_common import TIED_EMBEDDING_MODES
from kexue_models.conversion.output import atomic_directory, save_state_atomic
from kexue_models.modeling.hub_files import staged_file

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "demo" / "pretrain_corpus" / "cmrc2018_train_contexts.txt"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PRESETS = {  # model width, depth, training length, steps, batch size, learning rate
    "cpu": dict(hidden_size=64, num_hidden_layers=2, max_length=64, steps=60, batch_size=16, lr=2e-3),
    "gpu": dict(hidden_size=384, num_hidden_layers=6, max_length=128, steps=3000, batch_size=64, lr=1e-3),
}
MODELS = {
    "roformer_v2": (RoFormerV2Config, RoFormerV2ForMaskedLM, lambda h: {"num_attention_heads": max(1, h // 64),
                                                                        "intermediate_size": 4 * h}),
    "gau_alpha": (GAUAlphaConfig, GAUAlphaForMaskedLM, lambda h: {"intermediate_size": 2 * h,
                                                                   "attention_key_size": min(128, h // 2)}),
    "transformer_vq": (TransformerVQConfig, TransformerVQForCausalLM, lambda h: {
        "d_k": min(128, h // 2), "d_v": 2 * h, "n_code": 64, "block_len": 32, "mem_len": 32, "use_final_norm": True,
        "sinusoid_dropout": 0.0, "residual_dropout": 0.0, "layer_dropout": 0.0}),
}  # fmt: skip


def read_texts(args) -> list[str]:
    if args.dataset:
        from datasets import load_dataset  # optional: only for --dataset

        return [row[args.text_column] for row in load_dataset(args.dataset, split=args.split)]
    texts = []
    for path in args.train_files:
        texts += [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise SystemExit(f"no text in {args.train_files}")
    return texts


def build_tokenizer(args, texts: list[str]) -> Bert4KerasTokenizer:
    if args.tokenizer:
        return Bert4KerasTokenizer.from_pretrained(args.tokenizer)
    counts = Counter(char for text in texts for char in text.lower() if not char.isspace())
    chars = [char for char, _ in counts.most_common(args.vocab_size - len(SPECIAL))]
    return Bert4KerasTokenizer(vocab={token: index for index, token in enumerate(SPECIAL + chars)})


def token_stream(tokenizer: Bert4KerasTokenizer, texts: list[str]) -> torch.Tensor:
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return torch.tensor([token for text in ids for token in [*text, tokenizer.sep_token_id]])


def windows(stream: torch.Tensor, length: int, start_id: int) -> torch.Tensor:
    """Consecutive windows of `length` tokens, each starting with [CLS] (the start token of both recipes)."""
    body = stream[: (len(stream) // (length - 1)) * (length - 1)].view(-1, length - 1)
    return torch.cat((torch.full((len(body), 1), start_id), body), dim=1)


def mask_tokens(batch: torch.Tensor, tokenizer, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """roformer-v2 train_mlm.py `mlm_encode`: r < 0.12 → [MASK], < 0.135 → kept, < 0.15 → random; labels only
    there (-100 elsewhere, and never on the first token)."""
    draw = torch.rand(batch.shape, generator=generator)
    draw[:, 0] = 1.0
    inputs, labels = batch.clone(), torch.where(draw < 0.15, batch, torch.full_like(batch, -100))
    inputs[draw < 0.12] = tokenizer.mask_token_id
    random = (draw >= 0.135) & (draw < 0.15)
    inputs[random] = torch.randint(1, tokenizer.vocab_size, (int(random.sum()),), generator=generator)
    return inputs, labels


def loss_and_accuracy(model, batch, tokenizer, generator, causal: bool):
    if causal:
        output = model(batch, labels=batch)
        predictions, targets = output.logits[:, :-1].argmax(-1), batch[:, 1:]
        return output.loss, (predictions == targets).float().mean()
    inputs, labels = mask_tokens(batch, tokenizer, generator)
    output = model(inputs, labels=labels)
    selected = labels != -100
    return output.loss, (output.logits.argmax(-1)[selected] == labels[selected]).float().mean()


def build_model(args, tokenizer, mode: str):
    preset = PRESETS[args.preset]
    config_class, model_class, shape = MODELS[args.model]
    extra = {"attention_scale": args.attention_scale, "qk_bias": args.qk_bias} if args.model == "roformer_v2" else {}
    if args.model == "transformer_vq":
        extra.update(bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id)
    config = config_class(
        vocab_size=tokenizer.vocab_size,
        hidden_size=preset["hidden_size"],
        num_hidden_layers=preset["num_hidden_layers"],
        pad_token_id=tokenizer.pad_token_id,
        tied_embedding_mode=mode,
        zero_init_residual=True,
        **shape(preset["hidden_size"]),
        **extra,
    )
    set_seed(args.seed)  # every mode starts from the same draws
    model = model_class(config)
    if args.embedding_std == "inverse-sqrt-d" and mode != "small_std":
        # The post's setting (σ² = 1/d, so dσ = √d ≫ log n); the models' own initialisers give a smaller dσ.
        torch.nn.init.normal_(model.get_input_embeddings().weight, std=config.hidden_size**-0.5)
    return model


def flush_log(accelerator: Accelerator, path: Path, rows: list[dict]) -> None:
    if accelerator.is_main_process:
        write_csv(path, rows, append=True)
    rows.clear()


def train_mode(args, accelerator, tokenizer, train: torch.Tensor, mode: str) -> None:
    out = Path(args.output_dir) / mode
    if (out / "model" / "config.json").exists():
        accelerator.print(f"{mode}: finished earlier, skipped")
        return
    preset = PRESETS[args.preset]
    model = build_model(args, tokenizer, mode)
    optimizer = torch.optim.AdamW(model.parameters(), lr=preset["lr"], weight_decay=0.01)
    steps = args.steps or preset["steps"]
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / max(1, steps // 10)))
    model, optimizer, schedule = accelerator.prepare(model, optimizer, schedule)
    checkpoint, start = out / "checkpoint", 0
    if (checkpoint / "step.json").exists():
        accelerator.load_state(str(checkpoint))
        start = json.loads((checkpoint / "step.json").read_text())["step"]
    generator = torch.Generator().manual_seed(args.seed)
    batch_size = args.batch_size or preset["batch_size"]
    order = torch.randperm(len(train) * math.ceil(steps * batch_size / len(train)), generator=generator) % len(train)
    model.train()
    log_rows: list[dict] = []
    for step in tqdm(range(start, steps), desc=mode, disable=not accelerator.is_main_process, initial=start,
                     total=steps):  # fmt: skip
        rows = order[step * batch_size : (step + 1) * batch_size]
        batch = train[rows][accelerator.process_index :: accelerator.num_processes].to(accelerator.device)
        masking = torch.Generator().manual_seed(args.seed * 100_003 + step)
        with accelerator.autocast():
            loss, accuracy = loss_and_accuracy(model, batch, tokenizer, masking, args.model == "transformer_vq")
        accelerator.backward(loss)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        log_rows.append(
            {
                "mode": mode,
                "step": step + 1,
                "loss": accelerator.gather(loss.detach()).mean().item(),
                "accuracy": accelerator.gather(accuracy).mean().item(),
                "lr": schedule.get_last_lr()[0],
            }
        )
        if (step + 1) % args.checkpoint_every == 0 and step + 1 < steps:
            # tied weights stay tied: not safetensors
            save_state_atomic(accelerator, checkpoint, {"step.json": {"step": step + 1}}, safe_serialization=False)
            flush_log(accelerator, out.parent / "log.csv", log_rows)  # the rows up to the checkpoint, once
    flush_log(accelerator, out.parent / "log.csv", log_rows)
    if accelerator.is_main_process:
        with atomic_directory(out / "model") as staging:
            accelerator.unwrap_model(model).save_pretrained(staging)
            tokenizer.save_pretrained(staging)
        shutil.rmtree(checkpoint, ignore_errors=True)
    accelerator.wait_for_everyone()


@torch.no_grad()
def extrapolation(args, tokenizer, held_out: torch.Tensor, mode: str) -> dict:
    """Accuracy of the trained `mode` on held-out windows of each length (MLM: masked tokens; LM: next token)."""
    model_class = MODELS[args.model][1]
    model = model_class.from_pretrained(Path(args.output_dir) / mode / "model").eval()
    row = {"mode": mode}
    for length in args.eval_lengths:
        data = windows(held_out, length, tokenizer.cls_token_id)[: args.eval_windows]
        if len(data) == 0:
            row[str(length)] = ""
            continue
        generator = torch.Generator().manual_seed(args.seed)
        accuracy = [loss_and_accuracy(model, batch[None], tokenizer, generator, args.model == "transformer_vq")[1]
                    for batch in data]  # fmt: skip
        row[str(length)] = round(100 * torch.stack(accuracy).mean().item(), 2)
    return row


def write_csv(path: Path, rows: list[dict], append: bool) -> None:
    if not rows:
        return
    exists = append and path.exists()
    with path.open("a" if exists else "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        if not exists:
            writer.writeheader()
        writer.writerows(rows)


def plot(log_path: Path, png_path: Path, title: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing (pip install 'kexue-models[plots]'): no curves.png")
        return
    with log_path.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for mode in dict.fromkeys(row["mode"] for row in rows):
        points = [(int(row["step"]), float(row["loss"])) for row in rows if row["mode"] == mode]
        axis.plot(*zip(*points, strict=True), label=mode)
    axis.set(xlabel="step", ylabel="training loss", title=title)
    axis.legend()
    figure.tight_layout()
    with staged_file(png_path) as staging:
        figure.savefig(staging, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(MODELS), default="roformer_v2")
    parser.add_argument("--modes", default=",".join(TIED_EMBEDDING_MODES), help="comma-separated")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    parser.add_argument("--train-files", nargs="+", default=[str(DEFAULT_CORPUS)])
    parser.add_argument("--dataset", help="a datasets id or path instead of --train-files")
    parser.add_argument("--split", default="train")
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--tokenizer", help="a saved Bert4KerasTokenizer; default: a char vocab from the corpus")
    parser.add_argument("--vocab-size", type=int, default=3000)
    parser.add_argument("--steps", type=int, help="default: the preset's")
    parser.add_argument("--batch-size", type=int, help="global batch; default: the preset's")
    parser.add_argument("--eval-lengths", type=int, nargs="+", help="default: 1x, 2x, 4x the training length")
    parser.add_argument("--eval-windows", type=int, default=32)
    parser.add_argument("--attention-scale", choices=["standard", "entropy_invariant"], default="standard")
    parser.add_argument("--qk-bias", action="store_true")
    parser.add_argument(
        "--embedding-std",
        choices=["model", "inverse-sqrt-d"],
        help="token-embedding init (small_std keeps its own): the model's initialiser, or N(0, 1/d) as in the post; "
        "default: model for --preset cpu, inverse-sqrt-d for --preset gpu",
    )
    parser.add_argument("--checkpoint-every", type=int, default=50)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default=str(REPO / "demo_output" / "pretrain"))
    args = parser.parse_args()
    modes = args.modes.split(",")
    unknown = sorted(set(modes) - set(TIED_EMBEDDING_MODES))
    if unknown:
        parser.error(f"--modes: unknown {unknown}; choose from {TIED_EMBEDDING_MODES}")
    max_length = PRESETS[args.preset]["max_length"]
    args.embedding_std = args.embedding_std or ("inverse-sqrt-d" if args.preset == "gpu" else "model")
    args.eval_lengths = args.eval_lengths or [max_length, 2 * max_length, 4 * max_length]

    accelerator = Accelerator(mixed_precision="bf16" if args.bf16 else "no")
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    texts = read_texts(args)
    tokenizer = build_tokenizer(args, texts)
    split = max(1, len(texts) // 10)
    train = windows(token_stream(tokenizer, texts[split:]), max_length, tokenizer.cls_token_id)
    held_out = token_stream(tokenizer, texts[:split])
    accelerator.print(
        f"{args.model}, preset {args.preset}: {len(train)} training windows of {max_length} tokens, vocab "
        f"{tokenizer.vocab_size}, modes {modes}, device {accelerator.device}, {accelerator.num_processes} process(es)"
    )
    results = []
    for mode in modes:
        train_mode(args, accelerator, tokenizer, train, mode)
        if accelerator.is_main_process:
            results.append(extrapolation(args, tokenizer, held_out, mode))
    if accelerator.is_main_process:
        write_csv(output / "extrapolation.csv", results, append=False)
        plot(output / "log.csv", output / "curves.png", f"{args.model}, {args.preset}: tied-embedding options")
        for row in results:
            print("accuracy (%) by length", row)


if __name__ == "__main__":
    main()
