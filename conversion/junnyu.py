"""`kexue-convert junnyu SRC OUT`: rewrite one of JunnYu's PyTorch folders (RoFormerV2 as `model_type:
roformer` with v2 flags, GAU-α with his names) into ours, once, so that it loads anywhere without the
translation (see modeling/junnyu_layout.py)."""

import logging
from pathlib import Path

from ..model_cards import render_card
from ..modeling import Bert4KerasTokenizer, GAUAlphaForMaskedLM, RoFormerV2ForMaskedLM
from ..modeling.tokenization_bert4keras import load_vocab
from .bert4keras import package_version, sha256
from .errors import ConversionError
from .inputs import read_json_object
from .output import atomic_directory, refuse_existing, write_json_atomic

logger = logging.getLogger(__name__)
MODEL_CLASSES = {"roformer": RoFormerV2ForMaskedLM, "gau_alpha": GAUAlphaForMaskedLM}


def convert_junnyu(src_dir: str | Path, out_dir: str | Path, overwrite: bool = False) -> Path:
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    refuse_existing(out_dir, overwrite)
    config_path = src_dir / "config.json"
    raw = read_json_object(config_path)
    model_class = MODEL_CLASSES.get(raw.get("model_type"))
    if model_class is None or not model_class.junnyu_layout.matches(raw):
        raise ConversionError(
            f"{config_path}: model_type {raw.get('model_type')!r} is not one of JunnYu's layouts "
            f"({', '.join(MODEL_CLASSES)} with his config schema)"
        )
    try:
        model = model_class.from_pretrained(src_dir)
        tokenizer = Bert4KerasTokenizer(vocab=load_vocab(src_dir / "vocab.txt"))
    except (OSError, ValueError) as error:
        raise ConversionError(str(error)) from error
    report = {
        "source": {
            "format": f"JunnYu's PyTorch layout ({raw['model_type']})",
            "folder": str(src_dir.resolve()),
            "files": {path.name: sha256(path) for path in sorted(src_dir.iterdir()) if path.is_file()},
        },
        "model_type": model.config.model_type,
        "kexue_models_version": package_version(),
    }
    with atomic_directory(out_dir, overwrite=overwrite) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        write_json_atomic(staging / "conversion.json", report)
        render_card(staging)
    logger.info("rewrote %s (%s) as %s", src_dir, raw["model_type"], out_dir)
    return out_dir
