"""`kexue-convert`: convert published checkpoints into transformers folders."""

import argparse
import logging
import sys

from .bert4keras import DEFAULT_NUMERICS, NUMERICS, RULES, convert_bert4keras
from .errors import ConversionError
from .junnyu import convert_junnyu
from .transformer_vq import convert_transformer_vq


def add_output_arguments(subparser: argparse.ArgumentParser, shards: bool = True) -> None:
    subparser.add_argument("out_dir", help="transformers folder to write (must not exist, unless --overwrite)")
    subparser.add_argument("--overwrite", action="store_true", help="replace out_dir once the new folder is complete")
    if shards:
        subparser.add_argument("--max-shard-size", default="2GB", help="safetensors shard size (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kexue-convert", description=__doc__)
    formats = parser.add_subparsers(dest="format", required=True)
    bert4keras = formats.add_parser("bert4keras", help="a bert4keras release of RoFormerV2 or GAU-α (TF checkpoint)")
    bert4keras.add_argument("src_dir", help="unzipped release: bert_config.json, bert_model.ckpt.*, vocab.txt")
    add_output_arguments(bert4keras)
    bert4keras.add_argument("--model-type", choices=sorted(RULES), help="default: detected from the variable names")
    bert4keras.add_argument(
        "--numerics",
        choices=sorted(NUMERICS),
        default=DEFAULT_NUMERICS,
        help="bert4keras release whose numerics to reproduce (default: %(default)s, used to train the weights)",
    )
    bert4keras.add_argument(
        "--reference", help="outputs bert4keras computed for this checkpoint (npz): checked, reported in the card"
    )

    tvq = formats.add_parser("transformer-vq", help="a checkpoint of the official Transformer-VQ code (JAX)")
    tvq.add_argument("src", help="checkpoint file, its checkpoint_<step> folder, or a folder of those (latest step)")
    add_output_arguments(tvq)
    tvq.add_argument(
        "--config",
        required=True,
        help="JSON of the official TransformerConfig fields (top level or under `transformer_config`)",
    )
    tvq.add_argument(
        "--reference", help="npz of input_ids and the official logprobs for them: checked, reported in the card"
    )

    junnyu = formats.add_parser("junnyu", help="one of JunnYu's PyTorch folders (roformer v2 flags, gau_alpha)")
    junnyu.add_argument("src_dir", help="his folder: config.json, pytorch_model.bin, vocab.txt")
    add_output_arguments(junnyu, shards=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        if args.format == "bert4keras":
            out_dir = convert_bert4keras(
                args.src_dir,
                args.out_dir,
                model_type=args.model_type,
                numerics=args.numerics,
                overwrite=args.overwrite,
                max_shard_size=args.max_shard_size,
                reference=args.reference,
            )
        elif args.format == "junnyu":
            out_dir = convert_junnyu(args.src_dir, args.out_dir, overwrite=args.overwrite)
        else:
            out_dir = convert_transformer_vq(
                args.src,
                args.out_dir,
                args.config,
                overwrite=args.overwrite,
                max_shard_size=args.max_shard_size,
                reference=args.reference,
            )
    except (ConversionError, FileExistsError) as error:
        print(f"kexue-convert: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
