"""The GPU run's data bundle (scripts/gpu_clue.py): slices stay readable by the harness's readers, records whole
(iflytek's texts hold U+2028, which `str.splitlines` would split), in each file's own format."""

import importlib.util

import pytest

from kexue_models.clue import read_files
from tests.conftest import REPO, SHARED

DATA = SHARED / "data" / "clue"


def gpu_clue():
    spec = importlib.util.spec_from_file_location("gpu_clue", REPO / "scripts" / "gpu_clue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# records → examples: JSON lines one each; cmrc2018 keeps records // 4 passages (the first 10 hold 37 questions),
# c3 records // 2 documents (the first 20 hold 31 questions)
CASES = [("iflytek", "dev.json", 500, 500), ("cmrc2018", "dev.json", 40, 37), ("c3", "m-dev.json", 40, 31)]


@pytest.mark.parametrize(("task", "name", "records", "examples"), CASES)
def test_slices_read_back(tmp_path, task, name, records, examples):
    target = tmp_path / task / name
    gpu_clue().slice_file(DATA / task / name, target, records)
    assert len(read_files(tmp_path, task, (name,))) == examples
