"""Transformer-VQ's linear-time attention against its quadratic path and a same-size softmax decoder.

For each length (doubling from 512 until a model no longer fits or exceeds --max-seconds per call), one
forward pass of batch 1 under no_grad: time per token and peak memory of
  - Transformer-VQ, blockwise (linear time, the default),
  - the same model with attention_algorithm="quadratic" (one block per call: the quadratic form),
  - transformers' LlamaModel with sdpa, layers and widths chosen to match the parameter count,
all in this one process, timed round-robin. Ratios: time per token against Transformer-VQ's own at
--flat-from tokens (flat = linear time), and each baseline's time over Transformer-VQ's (speed-up).
Then generation: the recurrent state's size and the time per generated token after prompts of each length,
against Llama's KV cache.

    python scripts/bench_transformer_vq.py                                    # CPU, small model, to 8k
    python scripts/bench_transformer_vq.py --device cuda --dtype bf16 --size enwik8 --max-length 32768
"""

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from transformers import LlamaConfig, LlamaModel

from benchmarking import cpu_peak_memory, cpu_peak_memory_in_child, cuda_peak_memory, device_name, synchronize
from kexue_models import TransformerVQCache, TransformerVQConfig, TransformerVQModel

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
SIZES = {
    # A CPU-sized model with the paper's proportions (d_v = 2·d_model, one head, S = L = M).
    "small": dict(vocab_size=259, hidden_size=256, num_hidden_layers=4, d_k=64, d_v=512, n_code=256,
                  block_len=256, mem_len=256),
    # The paper's enwik8 model (scripts/lm_enwik8.sh, T/L/S from the optimized branch's config).
    "enwik8": dict(vocab_size=259, hidden_size=768, num_hidden_layers=48, d_k=128, d_v=1536, n_code=512,
                   block_len=512, mem_len=512),
}  # fmt: skip


def matching_llama(config: TransformerVQConfig) -> LlamaModel:
    """A Llama with one layer per pair of GAUs and the MLP width that matches the parameter count."""
    hidden, gau_pair = config.hidden_size, 2 * config.hidden_size * 3 * (config.d_k + config.d_v)
    intermediate = max(1, (gau_pair - 4 * hidden * hidden) // (3 * hidden))
    llama = LlamaConfig(
        vocab_size=config.vocab_size,
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=max(1, config.num_hidden_layers // 2),
        num_attention_heads=max(1, hidden // 64),
        max_position_embeddings=1 << 20,
        attn_implementation="sdpa",
    )
    return LlamaModel(llama)


def parameters(model: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def forward_step(model, input_ids: torch.Tensor, algorithm: str | None = None) -> Callable[[], None]:
    def step():
        if algorithm is not None:
            model.config.attention_algorithm = algorithm
        with torch.no_grad():
            model(input_ids)

    return step


def time_once(step: Callable[[], None], device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    step()
    synchronize(device)
    return time.perf_counter() - start


def benchmark_forward(models: dict, args, device: torch.device) -> None:
    print(f"\nforward, batch 1: ms per token (ratio to {args.flat_from} tokens) | peak MB | speed-up of TVQ")
    print(f"{'T':>7} " + " ".join(f"{label:>34}" for label in models))
    alive, reference = set(models), {}
    length = 512
    while length <= args.max_length and alive:
        input_ids = torch.randint(3, 259, (1, length), device=device)
        steps = {
            label: forward_step(models[label][0], input_ids, models[label][1]) for label in models if label in alive
        }
        results = {}
        for label, step in steps.items():
            try:
                if time_once(step, device) > args.max_seconds:  # warm-up doubles as the budget check
                    alive.discard(label)
                if device.type == "cuda":
                    memory = cuda_peak_memory(step)
                else:
                    arguments = ["--child-memory", label, str(length), "--size", args.size, "--dtype", args.dtype]
                    memory = cpu_peak_memory_in_child(__file__, arguments)
                times = [time_once(step, device) for _ in range(args.repeats)]
                results[label] = (statistics.median(times) / length, memory)
            except torch.OutOfMemoryError:
                alive.discard(label)
            if device.type == "cuda":
                torch.cuda.empty_cache()
        tvq = results.get(LINEAR)
        if length == args.flat_from and tvq:
            reference["time"] = tvq[0]
        cells = []
        for label in models:
            if label not in results:
                cells.append(f"{'—':>34}")
                continue
            per_token, memory = results[label]
            if label == LINEAR:
                flat = f"({per_token / reference['time']:.2f}x)" if reference else ""
                cells.append(f"{per_token * 1e3:9.4f} {flat:>8} {memory / 2**20:9.0f} MB {'':>5}")
            else:
                speedup = f"{per_token / tvq[0]:.2f}x" if tvq else "—"
                cells.append(f"{per_token * 1e3:9.4f} {'':>8} {memory / 2**20:9.0f} MB {speedup:>5}")
        print(f"{length:7d} " + " ".join(cells), flush=True)
        length *= 2


def cache_bytes(cache) -> int:
    if isinstance(cache, TransformerVQCache):
        tensors = [tensor for state in cache.states for tensor in vars(state).values()]
    else:
        tensors = [tensor for layer in cache.layers for tensor in (layer.keys, layer.values)]
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors)


def benchmark_generation(models: dict, args, device: torch.device) -> None:
    """State size after a prompt of T tokens, and the time of each next token (greedy, 16 tokens)."""
    print("\ngeneration after a prompt of T tokens: state MB | ms per new token")
    decoders = {label: models[label][0] for label in (LINEAR, LLAMA)}
    print(f"{'T':>7} " + " ".join(f"{label:>34}" for label in decoders))
    length = 512
    while length <= args.max_generation_length:
        cells = []
        for label, model in decoders.items():
            if label == LINEAR:
                model.config.attention_algorithm = "blockwise"
            with torch.no_grad():
                output = model(torch.randint(3, 259, (1, length), device=device), use_cache=True)
                cache = output.past_key_values
                token = torch.randint(3, 259, (1, 1), device=device)
                synchronize(device)
                start = time.perf_counter()
                for _ in range(16):
                    output = model(token, past_key_values=cache, use_cache=True)
                    cache = output.past_key_values
                synchronize(device)
            elapsed = (time.perf_counter() - start) / 16
            cells.append(f"{cache_bytes(cache) / 2**20:12.2f} MB {elapsed * 1e3:12.3f} ms    ")
        print(f"{length:7d} " + " ".join(cells), flush=True)
        length *= 2


LINEAR, QUADRATIC, LLAMA = "Transformer-VQ (blockwise)", "Transformer-VQ (quadratic path)", "LlamaModel (sdpa)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="fp32")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--max-length", type=int, default=8192)
    parser.add_argument("--max-generation-length", type=int, default=8192)
    parser.add_argument("--flat-from", type=int, default=2048, help="length whose time per token is the 1.00x")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="drop a model once one call takes longer")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child-memory", nargs=2, metavar=("MODEL", "LENGTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    device, dtype = torch.device(args.device), DTYPES[args.dtype]
    torch.manual_seed(0)
    config = TransformerVQConfig(**SIZES[args.size])
    tvq = TransformerVQModel(config).to(device=device, dtype=dtype).eval()
    llama = matching_llama(config).to(device=device, dtype=dtype).eval()
    models = {LINEAR: (tvq, "blockwise"), QUADRATIC: (tvq, "quadratic"), LLAMA: (llama, None)}
    if args.child_memory:  # one model, one length: print its CPU peak memory growth in bytes
        label, length = args.child_memory[0], int(args.child_memory[1])
        step = forward_step(models[label][0], torch.randint(3, 259, (1, length)), models[label][1])
        step()
        print(cpu_peak_memory(step))
        return
    print(f"device: {device_name(device)}; dtype {args.dtype}; torch {torch.__version__}")
    print(
        f"Transformer-VQ {args.size}: {parameters(tvq) / 1e6:.1f} M parameters, {config.num_hidden_layers} GAUs, "
        f"L = M = {config.block_len}, S = {config.n_code}; Llama: {parameters(llama) / 1e6:.1f} M parameters, "
        f"{llama.config.num_hidden_layers} layers"
    )
    benchmark_forward(models, args, device)
    benchmark_generation(models, args, device)


if __name__ == "__main__":
    main()
