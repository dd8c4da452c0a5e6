"""`make demo`: convert the tiny checkpoints shipped in demo/, load them through the Auto classes, and show
that they reproduce the original code's outputs.

1. RoFormerV2 from bert4keras: parity of hidden states and MLM logits, then the fill-mask pipeline.
2. Transformer-VQ from the official JAX code: parity of log-probs, greedy generation through the recurrent
   cache (the official greedy tokens), and a cache whose size does not grow with the length.

Offline, no downloads. The demo weights are random or barely trained, so predictions carry no meaning.
"""

import argparse
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer, pipeline

import kexue_models  # noqa: F401  (registers the models with the Auto classes)
from kexue_models.conversion.bert4keras import convert_bert4keras
from kexue_models.conversion.parity import bert4keras_parity
from kexue_models.conversion.transformer_vq import convert_transformer_vq

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RELEASE = REPO / "demo" / "roformer_v2_tiny"
DEFAULT_TRANSFORMER_VQ = REPO / "demo" / "transformer_vq_tiny"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--release", type=Path, default=DEFAULT_RELEASE, help="bert4keras release folder")
    parser.add_argument("--out", type=Path, default=REPO / "demo_output" / "roformer_v2_tiny")
    parser.add_argument("--text", default="以人为主，一个[MASK]事。")
    parser.add_argument("--transformer-vq", type=Path, default=DEFAULT_TRANSFORMER_VQ, help="official checkpoint")
    args = parser.parse_args()
    demo_roformer_v2(args)
    demo_transformer_vq(args.transformer_vq, REPO / "demo_output" / "transformer_vq_tiny")


def demo_roformer_v2(args: argparse.Namespace) -> None:
    print(f"1. converting {args.release} (bert4keras 0.11.3 numerics) -> {args.out}")
    convert_bert4keras(args.release, args.out, overwrite=True)

    print("2. loading it with AutoModelForMaskedLM.from_pretrained")
    model = AutoModelForMaskedLM.from_pretrained(args.out).eval()
    print(f"   {type(model).__name__}, {sum(p.numel() for p in model.parameters()):,} parameters")

    print("3. comparing with the outputs bert4keras computed (reference_outputs.npz, valid tokens)")
    parity = bert4keras_parity(model, args.release / "reference_outputs.npz")
    print(
        f"   max-abs-diff hidden states {parity.hidden_states:.2e}, MLM logits {parity.mlm_logits:.2e}, "
        f"same argmax: {parity.same_argmax}"
    )
    if not parity.within(1e-4):
        raise SystemExit("parity with bert4keras FAILED")

    print(f"4. fill-mask pipeline on {args.text!r} (random weights: any character is as good as another)")
    fill_mask = pipeline("fill-mask", model=model, tokenizer=AutoTokenizer.from_pretrained(args.out))
    for candidate in fill_mask(args.text, top_k=3):
        print(f"   {candidate['score']:.3f}  {candidate['sequence']}")


@torch.no_grad()
def demo_transformer_vq(source: Path, out: Path) -> None:
    print(f"5. converting the official Transformer-VQ checkpoint {source} -> {out}")
    convert_transformer_vq(source, out, source / "config.json", overwrite=True)
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    print(f"   {type(model).__name__}, {sum(p.numel() for p in model.parameters()):,} parameters")

    reference = np.load(source / "reference_outputs.npz")
    log_probs = torch.log_softmax(model(torch.from_numpy(reference["input_ids"]).long()).logits, dim=-1)
    difference = float(np.abs(log_probs.numpy() - reference["logprobs"]).max())
    print(f"6. log-probs against the official JAX code's: max-abs-diff {difference:.2e}")
    if difference > 1e-4:
        raise SystemExit("parity with the official Transformer-VQ code FAILED")

    prompt = torch.from_numpy(reference["greedy_prompt"]).long()
    tokens = model.generate(prompt, do_sample=False, max_new_tokens=reference["greedy_tokens"].shape[1])
    same = bool((tokens[:, prompt.shape[1] :].numpy() == reference["greedy_tokens"]).all())
    print(f"7. greedy generation through the recurrent cache: same tokens as the official code: {same}")
    if not same:
        raise SystemExit("greedy generation differs from the official Transformer-VQ code")

    for length in (64, 4096):
        cache = model(torch.ones(1, length, dtype=torch.long), use_cache=True).past_key_values
        size = sum(tensor.numel() * tensor.element_size() for state in cache.states for tensor in vars(state).values())
        print(f"   cache after {length:5d} tokens: {size:,} bytes")


if __name__ == "__main__":
    main()
