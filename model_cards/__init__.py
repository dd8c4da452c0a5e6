"""Model cards: `render_card(folder)` writes the README.md of a saved or converted folder.

The card is built from what the folder holds (config.json, and conversion.json when a converter wrote it) plus
the spec of the published model whose shape the config has (cards.py). Metadata goes through
`huggingface_hub.ModelCardData`; CLUE numbers are the published ones, each labelled with its source.
"""

import json
import os
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..modeling.hub_files import write_text_atomic
from .cards import CARDS, CLUE_TASKS, GENERIC, CardSpec


def spec_for(config: dict, converted: bool) -> CardSpec:
    """The spec of the published model whose shape this config has if a converter made the folder from a
    checkpoint, else its model type's spec under a descriptive title and without published numbers: they belong
    to the published weights only, not to others of the same shape (trained from scratch, fine-tuned)."""
    for spec in CARDS.values():
        shaped = spec.shape and spec.shape.items() <= config.items()
        if converted and spec.model_type == config["model_type"] and shaped:
            return spec
    template = next(spec for spec in CARDS.values() if spec.model_type == config["model_type"])
    title = f"{GENERIC[config['model_type']]} ({config['num_hidden_layers']} layers, hidden {config['hidden_size']})"
    return CardSpec(**{**vars(template), "title": title, "published": ()})


def eval_results(spec: CardSpec) -> list[EvalResult]:
    results = []
    for published in spec.published:
        for task, score in published.scores.items():
            task_type, metric_type, metric_name = CLUE_TASKS[task]
            results.append(
                EvalResult(
                    task_type=task_type,
                    dataset_type="cluener2020" if task == "cluener" else "clue",
                    dataset_name=f"CLUE {task} (dev)",
                    dataset_config=task,
                    dataset_split="validation",
                    metric_type=metric_type,
                    metric_name=metric_name,
                    metric_value=score,
                    source_name=published.source_name,
                    source_url=published.source_url,
                )
            )
    return results


def metadata(spec: CardSpec) -> ModelCardData:
    return ModelCardData(
        language="zh" if spec.model_type != "transformer_vq" else None,
        license="other",
        license_name="unspecified-original-release",
        library_name="transformers",
        pipeline_tag=spec.pipeline_tag,
        tags=list(spec.tags),
        model_name=spec.title,
        eval_results=eval_results(spec) or None,
        widget=[{"text": spec.widget}] if spec.widget else None,
    )


def conversion_section(report: dict | None, parity: dict | None) -> str:
    if report is None:
        return "Saved with `save_pretrained` from kexue-models; no conversion record in this folder.\n"
    source = report["source"]
    lines = [f"Converted by kexue-models {report.get('kexue_models_version', '')} from {source['format']}."]
    if "numerics" in report:
        lines.append(f"Numerics reproduced: `{report['numerics']}`.")
    lines += ["", "| source file | sha256 |", "|---|---|"]
    lines += [f"| `{Path(name).name}` | `{digest}` |" for name, digest in source["files"].items()]
    lines.append("")
    if parity:
        lines.append("Measured against the original code's own outputs for this checkpoint (max-abs-diff, fp32):")
        lines += [f"- {name}: {value}" for name, value in parity.items()]
    else:
        lines.append(
            "No reference outputs of the original code were given for this checkpoint, so its parity was not "
            "measured here. The converter is tested on checkpoints written by the original code, where it "
            "matches their outputs to about 1e-6 (see the kexue-models README)."
        )
    return "\n".join(lines) + "\n"


def usage_section(spec: CardSpec, auto_class: str) -> str:
    return f"""```python
# with the package: pip install kexue-models
import kexue_models
from transformers import {auto_class}, AutoTokenizer
model = {auto_class}.from_pretrained("REPO_ID")

# without it: the repository carries its code (pin a revision you have read)
model = {auto_class}.from_pretrained("REPO_ID", trust_remote_code=True, revision="COMMIT_SHA")
```
"""


def clue_section(spec: CardSpec) -> str:
    if not spec.evaluated_on_clue:
        return ""
    parts = ["## Published CLUE results\n"]
    if not spec.published:
        parts.append("None for weights of this shape: published results belong to the released checkpoints.\n")
    for published in spec.published:
        tasks = list(published.scores)
        parts.append(f"Reported by {published.source_name} ({published.source_url}), not measured by us:\n")
        header = "| " + " | ".join(tasks) + " |\n|" + "---|" * len(tasks)
        parts.append(header + "\n| " + " | ".join(f"{published.scores[task]:.2f}" for task in tasks) + " |\n")
    parts.append(
        "These are the sources' own runs; results of this conversion with the kexue-models CLUE harness are "
        "added when measured.\n"
    )
    return "\n".join(parts)


def render_card(folder: str | os.PathLike, parity: dict | None = None) -> Path:
    """Write `folder/README.md` for the model saved there; return its path."""
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    report_path = folder / "conversion.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
    spec = spec_for(config, converted=report is not None)
    auto_class = "AutoModelForCausalLM" if spec.model_type == "transformer_vq" else "AutoModelForMaskedLM"
    tokenizer_note = (
        "The tokenizer is bert4keras' character-level tokenizer (lower-cased, Chinese characters split); Su's "
        "CLUE recipes use all-zero segment ids: `AutoTokenizer.from_pretrained(path, zero_token_type_ids=True)`."
        if spec.model_type != "transformer_vq"
        else "The checkpoint holds no tokenizer: the official vocabularies are bytes offset by 3 (enwik8, "
        "ImageNet64) or the run's SentencePiece model (PG-19), with pad 0 and EOS 1; every sequence starts "
        "with EOS."
    )
    body = f"""
# {spec.title}

{spec.summary_zh}

{spec.summary_en}

- Original: {spec.original_source}
- Release: {spec.release}
- Architecture: `{config["model_type"]}`, {config["num_hidden_layers"]} layers, hidden size {config["hidden_size"]}

## Conversion

{conversion_section(report, parity)}
## Usage

{usage_section(spec, auto_class)}
{tokenizer_note}

{clue_section(spec)}
## Limitations

- {spec.license_note}

## Citation

```bibtex
{spec.citation}
```
"""
    card = ModelCard(f"---\n{metadata(spec).to_yaml()}\n---\n{body}")
    path = folder / "README.md"
    write_text_atomic(path, str(card))
    return path
