"""CLUE readers on the real files in ../shared/data/clue (counts as in clue_spec.md §2 and CLUE's READMEs),
and on broken lines: each error names the file, the line and what was expected."""

import json

import pytest

from kexue_models.clue import ClueFormatError, read_task
from kexue_models.clue.readers import ChoiceExample, read_chid
from tests.conftest import SHARED

DATA = SHARED / "data" / "clue"
# (task, split) → examples after the documented filtering (cmnli/ocnli drop "-" labels; c3 merges d + m).
COUNTS = {
    ("iflytek", "dev"): 2599,
    ("tnews", "dev"): 10000,
    ("tnews", "train"): 53360,
    ("afqmc", "dev"): 4316,
    ("cmnli", "dev"): 12241,
    ("ocnli", "dev"): 2950,
    ("wsc", "dev"): 304,
    ("wsc", "train"): 1244,
    ("csl", "dev"): 3000,
    ("cmrc2018", "dev"): 3219,
    ("cmrc2018", "train"): 10142,
    ("c3", "dev"): 3816,
    ("c3", "train"): 11869,
    ("cluener", "dev"): 1343,
    ("cluener", "train"): 10748,
}


@pytest.mark.parametrize(("task", "split"), list(COUNTS))
def test_real_files_read_with_the_documented_counts(task, split):
    examples = read_task(DATA, task, split)
    assert len(examples) == COUNTS[task, split]
    if task not in ("cmrc2018", "cluener"):
        assert all(example.label is not None for example in examples)


def test_formatting_follows_su():
    wsc = read_task(DATA, "wsc", "dev")[0]
    assert "[[洋人]]" in wsc.text and "[[他们]]" in wsc.text and wsc.label == 1  # labels [false, true]
    csl = read_task(DATA, "csl", "dev")[0]
    assert "；" in csl.text and csl.text_pair
    c3 = read_task(DATA, "c3", "dev")
    assert all(example.choices[example.label] for example in c3)
    cmrc = {example.id: example for example in read_task(DATA, "cmrc2018", "dev")}
    shifted = cmrc["DEV_101_QUERY_3"]  # its answer_start in the file is off; the nearest occurrence is used
    for text, start in zip(shifted.answers, shifted.answer_starts, strict=True):
        assert shifted.context[start : start + len(text)] == text


def test_chid_reader_on_lines_in_the_documented_format(tmp_path):
    """No CLUE ChID file is available here: these two lines are written by hand in its format (clue_spec.md §2.10)."""
    lines = [
        {"candidates": ["一帆风顺", "画蛇添足", "守株待兔"], "content": ["他做事#idiom000001#，结果#idiom000002#。"]},
        {"candidates": ["守株待兔", "一帆风顺", "画蛇添足"], "content": ["不要#idiom000003#。"]},
    ]
    path = tmp_path / "dev.json"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    answers = tmp_path / "dev_answer.json"
    answers.write_text(json.dumps({"#idiom000001#": 0, "#idiom000002#": 1, "#idiom000003#": 0}))
    examples = read_chid(path, answers)
    assert examples[0] == ChoiceExample(
        "#idiom000001#", "他做事", "，结果_____。", ("一帆风顺", "画蛇添足", "守株待兔"), 0, "1"
    )
    assert [example.label for example in examples] == [0, 1, 0]
    assert [example.group for example in examples] == ["1", "1", "2"]


@pytest.mark.parametrize(
    ("task", "line", "message"),
    [
        ("afqmc", '{"sentence1": "a", "sentence2": "b", "label": "2"}', "unknown label '2'"),
        ("afqmc", '{"sentence1": "a", "label": "0"}', "missing field 'sentence2'"),
        ("tnews", '{"sentence": "a", "label": "105"', "not a JSON object"),
        ("wsc", '{"text": "abc", "label": "true", "target": {"span1_text": "x", "span1_index": 0, '
                '"span2_text": "b", "span2_index": 1}}', "span1_text 'x' is not at span1_index 0"),
        ("cluener", '{"text": "abc", "label": {"person": {"a": [[0, 0]]}}}', "unknown entity type 'person'"),
        ("cluener", '{"text": "abc", "label": {"name": {"a": [[1, 1]]}}}', "name 'a' is not at [1, 1]"),
    ],
)  # fmt: skip
def test_broken_lines_name_file_line_and_expectation(tmp_path, task, line, message):
    folder = tmp_path / task
    folder.mkdir()
    good = {
        "afqmc": '{"sentence1": "a", "sentence2": "b", "label": "1"}',
        "tnews": '{"sentence": "a", "label": "100"}',
        "wsc": '{"text": "ab", "label": "false", "target": {"span1_text": "a", "span1_index": 0, "span2_text": "b", '
        '"span2_index": 1}}',
        "cluener": '{"text": "ab", "label": {}}',
    }[task]
    (folder / "dev.json").write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(ClueFormatError) as raised:
        read_task(tmp_path, task, "dev")
    assert f"dev.json:2: {message}" in str(raised.value)
