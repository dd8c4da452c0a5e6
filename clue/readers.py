"""Readers of CLUE's own files (docs: clue_spec.md §2), validating as they go.

Each reader turns one file into a list of examples of one of four shapes: a (pair of) text(s) with a class,
a multiple-choice question, a span-extraction question, a text with entities. A malformed line or an unknown
label stops with the file, the line number and what was expected. Label lists and text formatting follow Su's
scripts (roformer-v2 clue/*.py): e.g. wsc marks both spans as [[span]], csl joins keywords with "；", cmnli and
ocnli drop the lines without a majority label ("-").
"""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

BLANK = re.compile(r"#idiom\d+#")
BINARY = ("0", "1")
NLI_LABELS = ("entailment", "neutral", "contradiction")  # Su's order
WSC_LABELS = ("false", "true")
TNEWS_LABELS = (
    "100",
    "101",
    "102",
    "103",
    "104",
    "106",
    "107",
    "108",
    "109",
    "110",
    "112",
    "113",
    "114",
    "115",
    "116",
)
IFLYTEK_LABELS = tuple(str(index) for index in range(119))
CLUENER_TYPES = ("address", "book", "company", "game", "government", "movie", "name", "organization", "position",
                 "scene")  # fmt: skip


class ClueFormatError(ValueError):
    """A CLUE file does not have the expected format; the message names the file and line."""


@dataclass(frozen=True)
class TextExample:
    id: str
    text: str
    text_pair: str | None = None
    label: int | None = None  # index into the task's label list; None on test files


@dataclass(frozen=True)
class ChoiceExample:
    id: str
    context: str  # the passage (c3: dialogue turns joined by "||"; chid: the text left of the blank)
    question: str  # c3: the question; chid: the text right of the blank
    choices: tuple[str, ...]
    label: int | None = None
    group: str = ""  # examples answered jointly (chid: the blanks of one line share the candidates)


@dataclass(frozen=True)
class SpanExample:
    id: str
    context: str
    question: str
    answers: tuple[str, ...] = ()
    answer_starts: tuple[int, ...] = ()  # -1: an annotated answer that does not occur in the context


@dataclass(frozen=True)
class EntityExample:
    id: str
    text: str
    entities: tuple[tuple[str, int, int], ...] = field(default=())  # (type, start, end), end inclusive


def json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) of a JSON-lines file; the last line may lack its newline."""
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ClueFormatError(f"{path}:{number}: not a JSON object ({error.msg})") from error
            if not isinstance(record, dict):
                raise ClueFormatError(f"{path}:{number}: expected a JSON object, found {type(record).__name__}")
            yield number, record


def field_of(record: dict, name: str, path: Path, number: int, kind: type = str):
    if name not in record:
        raise ClueFormatError(f"{path}:{number}: missing field {name!r} (fields: {sorted(record)})")
    value = record[name]
    if not isinstance(value, kind):
        raise ClueFormatError(f"{path}:{number}: field {name!r} should be {kind.__name__}, found {value!r}")
    return value


def label_index(record: dict, labels: tuple[str, ...], path: Path, number: int) -> int | None:
    if "label" not in record:
        return None  # test files
    label = str(record["label"])
    if label not in labels:
        raise ClueFormatError(f"{path}:{number}: unknown label {label!r}, expected one of {list(labels)}")
    return labels.index(label)


def example_id(record: dict, number: int) -> str:
    return str(record.get("id", record.get("idx", number - 1)))


def read_classification(
    text_fields: tuple[str, ...], labels: tuple[str, ...], skip_labels: tuple[str, ...] = ()
) -> Callable[[Path], list[TextExample]]:
    """A reader of single-text or pair classification files with these fields and labels."""

    def read(path: Path) -> list[TextExample]:
        examples = []
        for number, record in json_lines(path):
            if str(record.get("label")) in skip_labels:
                continue
            texts = [field_of(record, name, path, number) for name in text_fields]
            examples.append(
                TextExample(example_id(record, number), *texts, label=label_index(record, labels, path, number))
            )
        return examples

    return read


def read_wsc(path: Path) -> list[TextExample]:
    """The text with both spans wrapped as [[span]], the later one first so offsets stay valid (RV2 wsc.py)."""
    examples = []
    for number, record in json_lines(path):
        text = field_of(record, "text", path, number)
        target = field_of(record, "target", path, number, dict)
        spans = []
        for key in ("span1", "span2"):
            span, start = target.get(f"{key}_text"), target.get(f"{key}_index")
            if not isinstance(span, str) or not isinstance(start, int) or text[start : start + len(span)] != span:
                raise ClueFormatError(
                    f"{path}:{number}: {key}_text {span!r} is not at {key}_index {start!r} of the text"
                )
            spans.append((start, span))
        for start, span in sorted(spans, reverse=True):
            text = f"{text[:start]}[[{span}]]{text[start + len(span) :]}"
        examples.append(
            TextExample(example_id(record, number), text, label=label_index(record, WSC_LABELS, path, number))
        )
    return examples


def read_csl(path: Path) -> list[TextExample]:
    examples = []
    for number, record in json_lines(path):
        keywords = field_of(record, "keyword", path, number, list)
        abstract = field_of(record, "abst", path, number)
        examples.append(
            TextExample(
                example_id(record, number), "；".join(keywords), abstract, label_index(record, BINARY, path, number)
            )
        )
    return examples


def read_cmrc2018(path: Path) -> list[SpanExample]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ClueFormatError(f"{path}: expected SQuAD-format JSON with a 'data' list ({error})") from error
    examples = []
    for article in data:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                # every annotated answer counts for EM/F1, also those marked -1 (193 dev answers: variants that
                # do not occur in the context); empty texts are test-file placeholders
                answers = [answer for answer in qa.get("answers", []) if str(answer.get("text", "")).strip()]
                starts = [answer_start(context, answer, path, qa["id"]) for answer in answers]
                examples.append(
                    SpanExample(
                        str(qa["id"]),
                        context,
                        qa["question"],
                        tuple(answer["text"] for answer in answers),
                        tuple(starts),
                    )
                )
    return examples


def answer_start(context: str, answer: dict, path: Path, question: str) -> int:
    """The answer's offset; where the file's `answer_start` is off (some CMRC 2018 dev answers are), the
    occurrence of the answer text nearest to it; -1 where the file says -1. An answer with an offset that does not
    occur in its context is an error."""
    text, start = answer["text"], answer.get("answer_start", -1)
    if start < 0:
        return -1
    if context[start : start + len(text)] == text:
        return start
    found = [match.start() for match in re.finditer(re.escape(text), context)]
    if not found:
        raise ClueFormatError(f"{path}: question {question}: answer {text!r} does not occur in its context")
    return min(found, key=lambda offset: abs(offset - start))


def read_c3(path: Path) -> list[ChoiceExample]:
    """One example per question; the passage is the dialogue turns joined by "||" (RV2 c3.py)."""
    try:
        documents = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ClueFormatError(f"{path}: not JSON ({error})") from error
    examples = []
    for index, document in enumerate(documents):
        if not (isinstance(document, list) and len(document) >= 2 and isinstance(document[1], list)):
            raise ClueFormatError(f"{path}: document {index}: expected [turns, questions, doc id]")
        turns, questions = document[0], document[1]
        for number, qa in enumerate(questions):
            choices = tuple(qa["choice"])
            label = None
            if "answer" in qa:
                if qa["answer"] not in choices:
                    raise ClueFormatError(f"{path}: document {index}, question {number}: answer not among choices")
                label = choices.index(qa["answer"])
            example = str(qa.get("id", f"{document[2] if len(document) > 2 else index}-{number}"))
            examples.append(ChoiceExample(example, "||".join(turns), qa["question"], choices, label))
    return examples


def read_chid(path: Path, answers_path: Path | None = None) -> list[ChoiceExample]:
    """One example per blank `#idiomNNNNNN#`: text left and right of it (other blanks as "_____", RV2 chid.py),
    the line's 10 candidates, and the answer index from the answers file (if given)."""
    answers = {}
    if answers_path is not None:
        answers = json.loads(answers_path.read_text(encoding="utf-8"))
    examples = []
    for number, record in json_lines(path):
        candidates = tuple(field_of(record, "candidates", path, number, list))
        for passage in field_of(record, "content", path, number, list):
            for tag in BLANK.findall(passage):
                left, _, right = passage.partition(tag)
                label = answers.get(tag)
                if answers and label is None:
                    raise ClueFormatError(f"{path}:{number}: blank {tag} has no answer in {answers_path}")
                examples.append(
                    ChoiceExample(
                        tag, BLANK.sub("_____", left), BLANK.sub("_____", right), candidates, label, group=str(number)
                    )
                )
    return examples


def read_cluener(path: Path) -> list[EntityExample]:
    examples = []
    for number, record in json_lines(path):
        text = field_of(record, "text", path, number)
        entities = []
        for kind, mentions in record.get("label", {}).items():
            if kind not in CLUENER_TYPES:
                raise ClueFormatError(
                    f"{path}:{number}: unknown entity type {kind!r}, expected one of {CLUENER_TYPES}"
                )
            for mention, spans in mentions.items():
                for start, end in spans:
                    if text[start : end + 1] != mention:
                        raise ClueFormatError(f"{path}:{number}: {kind} {mention!r} is not at [{start}, {end}]")
                    entities.append((kind, start, end))
        examples.append(EntityExample(example_id(record, number), text, tuple(sorted(entities))))
    return examples
