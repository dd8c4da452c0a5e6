"""What a CLUE run leaves for its user, each file written whole or not at all (temporary file, then rename):
results.json, results.md (our scores beside the published ones), results.png (a bar chart, with matplotlib),
per-task dev predictions and CLUE submission files. Only the main process calls these."""

import json
from pathlib import Path

from ..conversion.output import write_json_atomic
from ..model_cards.cards import CLUE_TASKS, PublishedResults
from ..modeling.hub_files import staged_file, write_text_atomic

RESULTS_JSON, RESULTS_MD, RESULTS_PNG = "results.json", "results.md", "results.png"


def read_results(output_dir: Path) -> dict:
    path = output_dir / RESULTS_JSON
    if not path.is_file():
        return {"tasks": {}}
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error}); move it away to start the run afresh") from error
    if not isinstance(results.get("tasks"), dict):
        raise ValueError(f"{path}: expected an object with a 'tasks' object, found keys {sorted(results)}")
    return results


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text)


def markdown(results: dict, published: PublishedResults | None) -> str:
    lines = [
        f"# CLUE dev results: {results['model']}",
        "",
        f"Device: {results['device']}. Precision: {results['precision']}. Processes: {results['processes']}.",
        "Scores in percent; each is the best epoch's dev score (Su's protocol: evaluate every epoch, keep the "
        "best), so it is optimistic by selection.",
        "",
    ]
    header = (
        "| task | metric | ours | published | best epoch | train / dev examples | protocol | time (s) | train ex/s |"
    )
    lines += [header, "|---" * (header.count("|") - 1) + "|"]
    for task, entry in results["tasks"].items():
        theirs = published.scores.get(task) if published else None
        lines.append(
            f"| {task} | {CLUE_TASKS[task][2]} | {entry['score']:.2f} | {'' if theirs is None else f'{theirs:.2f}'} "
            f"| {entry['best_epoch']}/{entry['epochs']} | {entry['train_size']} / {entry['dev_size']} "
            f"| {entry['protocol']} | {entry['train_seconds'] + entry['eval_seconds']:.0f} "
            f"| {entry['train_examples_per_second']:.1f} |"
        )
    if published:
        lines += [
            "",
            f"Published: {published.source_name}, {published.source_url}: the model named there, fine-tuned "
            "on CLUE's full train sets; compare only runs of that model with the full recipe.",
        ]
    else:
        lines += ["", "No published numbers for this model (`--compare-with` picks a row of the GAU-α table)."]
    extra = [f"- {task}: " + ", ".join(f"{key} {value:.2f}" for key, value in entry["scores"].items())
             for task, entry in results["tasks"].items() if len(entry["scores"]) > 1]  # fmt: skip
    if extra:
        lines += ["", "All dev scores of the selected epoch:", *extra]
    return "\n".join(lines) + "\n"


def write_results(output_dir: Path, results: dict, published: PublishedResults | None) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(output_dir / RESULTS_JSON, results)
    write_text_atomic(output_dir / RESULTS_MD, markdown(results, published))
    write_chart(output_dir / RESULTS_PNG, results, published)


def write_chart(path: Path, results: dict, published: PublishedResults | None) -> None:
    """A bar per task, ours beside the published score; skipped (with a note in results.md's place) without
    matplotlib, an optional dependency (`pip install kexue-models[plots]`)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        print(f"{path.name} not written: matplotlib is not installed (pip install 'kexue-models[plots]')")
        return
    tasks = list(results["tasks"])
    figure, axes = pyplot.subplots(figsize=(max(4.0, 0.9 * len(tasks) + 2), 3.5))
    positions = range(len(tasks))
    ours = [results["tasks"][task]["score"] for task in tasks]
    axes.bar([x - 0.2 for x in positions], ours, width=0.4, label="this run")
    if published:
        theirs = [published.scores.get(task, 0.0) for task in tasks]
        axes.bar([x + 0.2 for x in positions], theirs, width=0.4, label=published.source_name.split(" (")[0])
    axes.set_xticks(list(positions), tasks, rotation=30)
    axes.set_ylabel("dev score (%)")
    axes.set_title(f"CLUE dev: {Path(results['model']).name}")
    axes.legend(fontsize="small")
    figure.tight_layout()
    with staged_file(path) as staging:
        figure.savefig(staging, dpi=120)
    pyplot.close(figure)
