"""Decoding and CLUE's submission formats (docs: clue_spec.md §2): chid's joint assignment, files under CLUE's
names and shapes."""

import json

from kexue_models.clue.predictions import assign_jointly, per_example, submission_text
from kexue_models.clue.readers import ChoiceExample, EntityExample, SpanExample, TextExample
from kexue_models.clue.tasks import TASKS, get_task


def test_chid_blanks_of_a_line_share_the_candidates_once():
    logits = [[5.0, 4.0, 0.0], [6.0, 0.0, 1.0]]  # both blanks prefer candidate 0; the sum is best as 1, 0
    assert assign_jointly(logits) == [1, 0]
    task = get_task("chid")
    examples = [ChoiceExample(f"#idiom{i}#", "左", "右", ("甲", "乙", "丙"), group="line") for i in range(2)]
    assert per_example(task, examples, [{}, {}], dict(enumerate(logits))) == [1, 0]


def test_c3_never_picks_a_padding_choice():
    task = get_task("c3")
    example = ChoiceExample("7", "passage", "question", ("a", "b"))
    assert per_example(task, [example], [{}], {0: [0.1, 0.2, 9.0, 9.0]}) == [1]


def test_submission_files_have_clue_names_and_shapes():
    names = {name for task in TASKS.values() for _, name in task.submission_pairs()}
    assert {"afqmc_predict.json", "tnews11_predict.json", "iflytek_predict.json", "ocnli_50k_predict.json",
            "cluewsc11_predict.json", "csl_predict.json", "cmrc2018_predict.json", "chid11_predict.json",
            "c311_predict.json", "cmnli_predict.json", "cluener_predict.json", "tnews10_predict.json",
            "cluewsc10_predict.json", "c310_predict.json", "chid10_predict.json"} == names  # fmt: skip
    tnews = submission_text(get_task("tnews"), [TextExample("3", "标题")], [2])
    assert json.loads(tnews) == {"id": "3", "label": "102"}  # the label code, not the class index
    wsc = submission_text(get_task("wsc"), [TextExample("0", "x")], [1])
    assert json.loads(wsc)["label"] == "true"
    cmrc = submission_text(get_task("cmrc2018"), [SpanExample("TEST_0_QUERY_0", "ctx", "q")], [("答案", 3)])
    assert json.loads(cmrc) == {"TEST_0_QUERY_0": "答案"}
    chid = submission_text(get_task("chid"), [ChoiceExample("#idiom577157#", "l", "r", ("甲",) * 10)], [4])
    assert json.loads(chid) == {"#idiom577157#": 4}
    ner = submission_text(get_task("cluener"), [EntityExample("0", "浙商银行企业信贷部")], [[("company", 0, 3)]])
    assert json.loads(ner) == {"id": "0", "text": "浙商银行企业信贷部", "label": {"company": {"浙商银行": [[0, 3]]}}}
