"""`make demo`: convert the tiny bert4keras checkpoint shipped in demo/, load it through the Auto classes,
show that it reproduces the original code's outputs, and fill a [MASK] with the fill-mask pipeline.

Offline, no downloads. The demo weights are random, so the predicted characters carry no meaning.
"""

import argparse
from pathlib import Path

from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

import kexue_models  # noqa: F401  (registers roformer_v2 / gau_alpha with the Auto classes)
from kexue_models.conversion.bert4keras import convert_bert4keras
from kexue_models.conversion.parity import bert4keras_parity

REPO = Path(__file__).resolve().parent.parent
DEFAULT_RELEASE = REPO / "demo" / "roformer_v2_tiny"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--release", type=Path, default=DEFAULT_RELEASE, help="bert4keras release folder")
    parser.add_argument("--out", type=Path, default=REPO / "demo_output" / "roformer_v2_tiny")
    parser.add_argument("--text", default="以人为主，一个[MASK]事。")
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
