"""`kexue-push` against an in-process fake Hub: one commit with exactly the folder's files, a model that loads
back from the repo id, and clear errors that leave no half-made repo."""

import huggingface_hub
import pytest
import torch
from huggingface_hub import set_client_factory
from transformers import AutoModelForCausalLM

from kexue_models import TransformerVQConfig, TransformerVQForCausalLM
from kexue_models.model_cards.push import PushError, main, push
from tests.fake_hub import FakeHub

REPO_ID = "user/tvq-tiny"


@pytest.fixture
def hub(monkeypatch, tmp_path):
    fake = FakeHub()
    monkeypatch.setenv("HF_TOKEN", "hf_dummy")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf_home" / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    set_client_factory(fake.client)
    yield fake
    set_client_factory(huggingface_hub.utils._http.default_client_factory)


@pytest.fixture
def folder(tmp_path):
    torch.manual_seed(0)
    config = TransformerVQConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, d_k=8, d_v=12, n_code=6,
                                 block_len=4, mem_len=4)  # fmt: skip
    TransformerVQForCausalLM(config).save_pretrained(tmp_path / "model")
    return tmp_path / "model"


def test_push_is_one_commit_with_exactly_the_files_and_loads_back(hub, folder):
    url = push(folder, REPO_ID, private=True)
    repo = hub.repos[REPO_ID]
    assert len(repo.commits) == 1 and url.endswith(repo.commits[0]["oid"])
    expected = sorted(path.name for path in folder.iterdir())
    assert repo.commits[0]["files"] == expected and repo.private
    assert {"README.md", "config.json", "model.safetensors", "modeling_transformer_vq.py"} <= set(expected)
    for name in expected:
        assert repo.files[name] == (folder / name).read_bytes()

    loaded = AutoModelForCausalLM.from_pretrained(REPO_ID).eval()
    local = AutoModelForCausalLM.from_pretrained(folder).eval()
    ids = torch.randint(3, 40, (1, 9))
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids).logits, local(ids).logits, atol=0, rtol=0)


def test_dry_run_lists_and_uploads_nothing(hub, folder, capsys):
    assert main([str(folder), REPO_ID, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "model.safetensors" in out and "README.md" in out and "(dry run)" in out
    assert hub.requests == [] and not hub.repos


def test_pushing_again_adds_one_commit_to_the_existing_repo(hub, folder):
    push(folder, REPO_ID)
    push(folder, REPO_ID, commit_message="second")
    assert [commit["message"] for commit in hub.repos[REPO_ID].commits] == ["Upload model with kexue-push", "second"]


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ({"create": 401}, "token was refused"),
        ({"create": 403}, "may not write to user/tvq-tiny"),
        ({"commit": 403}, "may not write to user/tvq-tiny"),
        ({"commit": 500}, "the Hub answered 500"),
    ],
)
def test_errors_are_clear_and_leave_no_half_made_repo(hub, folder, failure, message, capsys):
    hub.fail = failure
    assert main([str(folder), REPO_ID]) == 2
    assert message in capsys.readouterr().err
    assert REPO_ID not in hub.repos  # created then deleted, or never created


def test_no_token(hub, folder, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(PushError, match="no Hugging Face token"):
        push(folder, REPO_ID)
    assert hub.requests == []


def test_network_down(hub, folder):
    hub.unreachable = True
    with pytest.raises(PushError, match="cannot reach the Hub"):
        push(folder, REPO_ID)


def test_incomplete_folder_is_refused_before_any_request(hub, folder):
    (folder / "README.md").unlink()
    with pytest.raises(PushError, match=r"missing README\.md"):
        push(folder, REPO_ID)
    assert hub.requests == []
