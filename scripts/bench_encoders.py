"""Throughput and peak memory of RoFormerV2-base and GAU-α-base against transformers' BertModel (sdpa).

Published shapes, random weights, all models timed in this one process and reported as ratios to BertModel
of the same size (tokens/s: higher is better; memory: lower is better). Forward runs under no_grad in eval
mode; forward+backward in train mode (dropout on, as in fine-tuning). Peak memory is the growth during one
step: torch's peak allocation on CUDA; on CPU the resident set sampled in a child process per model, run with
glibc returning every large block to the system, so that the resident set follows the live tensors.

    python scripts/bench_encoders.py                                  # CPU, fp32, T=128 and 512, batch 8
    python scripts/bench_encoders.py --device cuda --dtype bf16       # GPU
"""

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from transformers import BertConfig, BertModel

from benchmarking import cpu_peak_memory, cpu_peak_memory_in_child, cuda_peak_memory, device_name, synchronize
from kexue_models import GAUAlphaConfig, GAUAlphaModel, RoFormerV2Config, RoFormerV2Model

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
MODELS: dict[str, Callable[[], torch.nn.Module]] = {
    "BertModel-base (baseline)": lambda: BertModel(BertConfig(vocab_size=12000), add_pooling_layer=False),
    "RoFormerV2-base": lambda: RoFormerV2Model(RoFormerV2Config()),
    "GAU-α-base": lambda: GAUAlphaModel(GAUAlphaConfig()),
}
BASELINE = next(iter(MODELS))


def make_step(model, input_ids, mode: str) -> Callable[[], None]:
    def step():
        if mode == "forward":
            with torch.no_grad():
                model(input_ids=input_ids)
        else:
            model(input_ids=input_ids).last_hidden_state.float().pow(2).mean().backward()
            model.zero_grad(set_to_none=True)

    model.train(mode != "forward")
    return step


def measure(models: dict, input_ids, mode: str, repeats: int, device: torch.device) -> dict[str, tuple[float, int]]:
    """Median tokens/s and the peak memory of one run, per model. The timed runs go round-robin over the
    models, so that a slow spell of a shared machine hits every model alike rather than one of them."""
    steps = {label: make_step(model, input_ids, mode) for label, model in models.items()}
    peaks = {}
    for label, step in steps.items():
        step()  # warm-up
        if device.type == "cuda":
            peaks[label] = cuda_peak_memory(step)
        else:
            dtype = next(models[label].parameters()).dtype
            dtype_name = next(name for name, value in DTYPES.items() if value == dtype)
            arguments = ["--child-memory", label, "--seq-lens", str(input_ids.shape[1]), "--batch-size",
                         str(input_ids.shape[0]), "--modes", mode, "--dtype", dtype_name]  # fmt: skip
            peaks[label] = cpu_peak_memory_in_child(__file__, arguments)
    times = {label: [] for label in steps}
    for _ in range(repeats):
        for label, step in steps.items():
            synchronize(device)
            start = time.perf_counter()
            step()
            synchronize(device)
            times[label].append(time.perf_counter() - start)
    return {label: (input_ids.numel() / statistics.median(times[label]), peaks[label]) for label in steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="fp32")
    parser.add_argument("--seq-lens", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--modes", nargs="+", choices=["forward", "forward+backward"], default=["forward", "forward+backward"]
    )
    parser.add_argument("--child-memory", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    device, dtype = torch.device(args.device), DTYPES[args.dtype]
    if args.child_memory:  # one model, one step: print its CPU peak memory growth in bytes
        model = MODELS[args.child_memory]().to(dtype=dtype)
        model.set_attn_implementation("sdpa")
        step = make_step(model, torch.randint(5, 12000, (args.batch_size, args.seq_lens[0])), args.modes[0])
        step()
        print(cpu_peak_memory(step))
        return
    print(f"device: {device_name(device)}; dtype {args.dtype}; batch {args.batch_size}; torch {torch.__version__}")

    torch.manual_seed(0)
    models = {label: build().to(device=device, dtype=dtype) for label, build in MODELS.items()}
    for model in models.values():
        model.set_attn_implementation("sdpa")
    print(f"{'model':28} {'T':>5} {'mode':17} {'tokens/s':>10} {'ratio':>6} {'peak MB':>9} {'mem ratio':>9}")
    for seq_len in args.seq_lens:
        input_ids = torch.randint(5, 12000, (args.batch_size, seq_len), device=device)
        for mode in args.modes:
            results = measure(models, input_ids, mode, args.repeats, device)
            base_speed, base_memory = results[BASELINE]
            for label, (speed, memory) in results.items():
                memory_ratio = memory / base_memory if base_memory > 0 else float("nan")
                print(
                    f"{label:28} {seq_len:5d} {mode:17} {speed:10.0f} {speed / base_speed:6.2f} "
                    f"{memory / 2**20:9.0f} {memory_ratio:9.2f}"
                )


if __name__ == "__main__":
    main()
