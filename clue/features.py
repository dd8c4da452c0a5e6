"""Examples → model inputs, Su's way (docs: clue_spec.md §2, §7), for any tokenizer with [CLS]/[SEP] tokens:

- classification: `[CLS] text [SEP] (pair [SEP])`, the pair truncated by the tokenizer (`longest_first`);
- choice: one sequence per choice, `[CLS] a [SEP] b [SEP] c [SEP]`, its longest piece cut token by token from its
  end until it fits (c3: passage, question, choice, choices padded to 4 with "无效答案"; chid: text left of the
  blank, idiom, text right of it, the context first cut character-wise from its far ends, longer side first);
- span (cmrc2018): `[CLS] question [SEP] window [SEP]` over context windows every 128 tokens; a window's label is
  the (start, end) token of the first gold answer if the window holds it, else (0, 0) = [CLS] (no answer);
- entity (cluener): `[CLS] text [SEP]`, entities as (type, start token, end token); entities whose ends are not
  token boundaries are dropped, as Su's scripts do.

Token type ids are never passed: every segment is 0, as in Su's fine-tuning. Offsets (from a fast tokenizer)
map predicted tokens back to characters of the original text.
"""

from collections import defaultdict
from collections.abc import Sequence

import torch
from tqdm.auto import tqdm

from .readers import ChoiceExample, EntityExample, SpanExample, TextExample
from .tasks import Task

WINDOW_STRIDE = 128  # tokens between the starts of two cmrc2018 windows (Su: 128 characters)
C3_CHOICES = 4
C3_FILLER = "无效答案"
CHID_IDIOM_LENGTH = 4
IGNORED_LABEL = -100  # no gold label (test files)
TOKENIZE_CHUNK = 8192


def special_ids(tokenizer) -> tuple[int, int]:
    if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
        raise ValueError(
            f"{type(tokenizer).__name__}: the CLUE harness builds [CLS] ... [SEP] inputs and needs cls_token and "
            f"sep_token, found {tokenizer.cls_token!r} and {tokenizer.sep_token!r}"
        )
    return tokenizer.cls_token_id, tokenizer.sep_token_id


def batched(tokenizer, texts: list[str], pairs: list[str] | None = None, desc: str = "tokenizing", **options) -> dict:
    """The tokenizer over `texts` (and `pairs`) in chunks with progress; each output's lists concatenated."""
    merged: dict[str, list] = defaultdict(list)
    for start in tqdm(range(0, len(texts), TOKENIZE_CHUNK), desc=desc, unit="chunk", leave=False):
        chunk = slice(start, start + TOKENIZE_CHUNK)
        for key, values in tokenizer(texts[chunk], pairs[chunk] if pairs else None, **options).items():
            merged[key] += values
    return merged


def tokenize(tokenizer, texts: list[str], desc: str) -> list[dict]:
    """Token ids and character offsets of each text, without special tokens."""
    if not tokenizer.is_fast:
        raise ValueError(f"{type(tokenizer).__name__}: the CLUE harness needs a fast tokenizer (character offsets)")
    batch = batched(tokenizer, texts, desc=desc, add_special_tokens=False, return_offsets_mapping=True)
    return [
        {"ids": ids, "offsets": offsets}
        for ids, offsets in zip(batch["input_ids"], batch["offset_mapping"], strict=True)
    ]


def label_of(example: TextExample | ChoiceExample) -> int:
    return IGNORED_LABEL if example.label is None else example.label


def encode_texts(tokenizer, examples: Sequence[TextExample], max_length: int) -> list[dict]:
    pairs = [example.text_pair for example in examples] if examples and examples[0].text_pair is not None else None
    texts = [example.text for example in examples]
    ids = batched(tokenizer, texts, pairs, truncation=True, max_length=max_length)["input_ids"]
    return [
        {"example": index, "input_ids": row, "label": label_of(example)}
        for index, (example, row) in enumerate(zip(examples, ids, strict=True))
    ]


def fit_pieces(pieces: list[list[int]], budget: int) -> list[list[int]]:
    """Cut the longest piece by one token from its end until all fit in `budget` (Su's c3 truncation)."""
    pieces = [list(piece) for piece in pieces]
    while sum(map(len, pieces)) > budget:
        longest = max(range(len(pieces)), key=lambda index: len(pieces[index]))
        pieces[longest].pop()
    return pieces


def trim_context(left: str, right: str, budget: int) -> tuple[str, str]:
    """Drop characters from the far ends, the longer side first, until len(left) + len(right) ≤ budget (chid)."""
    while len(left) + len(right) > budget:
        if len(left) >= len(right):
            left = left[1:]
        else:
            right = right[:-1]
    return left, right


def encode_choices(tokenizer, examples: Sequence[ChoiceExample], max_length: int, task: Task) -> list[dict]:
    cls, sep = special_ids(tokenizer)
    rows = []
    for example in examples:
        if task.name == "chid":
            left, right = trim_context(example.context, example.question, max_length - 4 - CHID_IDIOM_LENGTH)
            rows.append([(left, choice, right) for choice in example.choices])
        else:
            choices = list(example.choices) + [C3_FILLER] * (C3_CHOICES - len(example.choices))
            rows.append([(example.context, example.question, choice) for choice in choices])
    texts = sorted({text for row in rows for pieces in row for text in pieces})
    ids = dict(zip(texts, (item["ids"] for item in tokenize(tokenizer, texts, "tokenizing")), strict=True))
    features = []
    for index, (example, row) in enumerate(zip(examples, rows, strict=True)):
        sequences = []
        for pieces in row:
            first, second, third = fit_pieces([ids[text] for text in pieces], max_length - 4)
            sequences.append([cls, *first, sep, *second, sep, *third, sep])
        features.append({"example": index, "input_ids": sequences, "label": label_of(example)})
    return features


def covering_tokens(offsets: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """First and last token overlapping characters [start, end), or None if no token does."""
    inside = [index for index, (first, last) in enumerate(offsets) if first < end and last > start]
    return (inside[0], inside[-1]) if inside else None


def encode_spans(tokenizer, examples: Sequence[SpanExample], max_length: int) -> list[dict]:
    cls, sep = special_ids(tokenizer)
    questions = tokenize(tokenizer, [example.question for example in examples], "tokenizing questions")
    contexts = tokenize(tokenizer, [example.context for example in examples], "tokenizing contexts")
    features = []
    for index, (example, question, context) in enumerate(zip(examples, questions, contexts, strict=True)):
        question_ids = question["ids"][: max_length - 3 - WINDOW_STRIDE]
        width = max_length - 3 - len(question_ids)
        answer = None
        if example.answers and example.answer_starts[0] >= 0:
            start = example.answer_starts[0]
            answer = covering_tokens(context["offsets"], start, start + len(example.answers[0]))
        first_context = len(question_ids) + 2
        window_start = 0
        while True:
            window = slice(window_start, window_start + width)
            label = (0, 0)
            if answer is not None and window_start <= answer[0] and answer[1] < window_start + width:
                label = (answer[0] - window_start + first_context, answer[1] - window_start + first_context)
            features.append(
                {
                    "example": index,
                    "input_ids": [cls, *question_ids, sep, *context["ids"][window], sep],
                    "context_start": first_context,
                    "offsets": context["offsets"][window],
                    "label": label,
                }
            )
            if window_start + width >= len(context["ids"]):
                break
            window_start += WINDOW_STRIDE
    return features


def encode_entities(
    tokenizer, examples: Sequence[EntityExample], max_length: int, types: tuple[str, ...]
) -> list[dict]:
    cls, sep = special_ids(tokenizer)
    encoded = tokenize(tokenizer, [example.text for example in examples], "tokenizing")
    features = []
    for index, (example, text) in enumerate(zip(examples, encoded, strict=True)):
        ids, offsets = text["ids"][: max_length - 2], text["offsets"][: max_length - 2]
        starts = {first: position + 1 for position, (first, _) in enumerate(offsets)}
        ends = {last - 1: position + 1 for position, (_, last) in enumerate(offsets)}
        entities = [
            (types.index(kind), starts[start], ends[end])
            for kind, start, end in example.entities
            if start in starts and end in ends
        ]
        features.append({"example": index, "input_ids": [cls, *ids, sep], "offsets": offsets, "entities": entities})
    return features


def encode(task: Task, tokenizer, examples: Sequence, max_length: int) -> list[dict]:
    if task.kind == "classification":
        return encode_texts(tokenizer, examples, max_length)
    if task.kind == "choice":
        return encode_choices(tokenizer, examples, max_length, task)
    if task.kind == "span":
        return encode_spans(tokenizer, examples, max_length)
    return encode_entities(tokenizer, examples, max_length, task.labels)


def pad(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to the longest: (ids, attention mask)."""
    length = max(map(len, sequences))
    ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
        mask[row, : len(sequence)] = 1
    return ids, mask


class Collator:
    """Features → a batch padded to its longest sequence. `index` says which features the batch holds, so
    predictions gathered from many processes map back to examples."""

    def __init__(self, task: Task, pad_id: int):
        self.task, self.pad_id = task, pad_id

    def __call__(self, items: list[tuple[int, dict]]) -> dict[str, torch.Tensor]:
        indices, features = zip(*items, strict=True)
        batch = {"index": torch.tensor(indices)}
        if self.task.kind == "choice":
            sequences = [sequence for feature in features for sequence in feature["input_ids"]]
            ids, mask = pad(sequences, self.pad_id)
            choices = len(features[0]["input_ids"])
            batch["input_ids"], batch["attention_mask"] = (
                ids.view(len(features), choices, -1),
                mask.view(len(features), choices, -1),
            )
        else:
            batch["input_ids"], batch["attention_mask"] = pad(
                [feature["input_ids"] for feature in features], self.pad_id
            )
        if self.task.kind in ("classification", "choice"):
            batch["labels"] = torch.tensor([feature["label"] for feature in features])
        elif self.task.kind == "span":
            positions = torch.arange(batch["input_ids"].shape[1])
            starts = torch.tensor([feature["context_start"] for feature in features])[:, None]
            stops = starts + torch.tensor([len(feature["offsets"]) for feature in features])[:, None]
            batch["span_mask"] = (positions == 0) | ((positions >= starts) & (positions < stops))
            batch["labels"] = torch.tensor([feature["label"] for feature in features])
        else:
            length = batch["input_ids"].shape[1]
            labels = torch.zeros((len(features), len(self.task.labels), length, length), dtype=torch.bool)
            for row, feature in enumerate(features):
                for kind, start, end in feature["entities"]:
                    labels[row, kind, start, end] = True
            batch["labels"] = labels
        return batch
