"""`kexue-push FOLDER REPO_ID`: publish a saved or converted folder to the Hugging Face Hub as one commit.

The folder must be a complete Hub repo (config.json, safetensors weights, README.md card). The repo is created
if needed and the files arrive in a single commit, so the repo never shows part of them; if the commit fails in
a repo this run created, the repo is deleted again. The token comes from the usual places (`HF_TOKEN`,
`hf auth login`).
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from huggingface_hub import CommitOperationAdd, HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError

REQUIRED = ("config.json", "README.md")


class PushError(RuntimeError):
    """Publishing failed; the message says why and what to do."""


@dataclass(frozen=True)
class UploadFile:
    path_in_repo: str
    size: int


def files_to_upload(folder: str | Path) -> list[UploadFile]:
    """Every file of the folder but hidden ones (e.g. unfinished `.partial` writes), checked for completeness."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PushError(f"{folder}: not a folder")
    files = [
        UploadFile(path.relative_to(folder).as_posix(), path.stat().st_size)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]
    names = {file.path_in_repo for file in files}
    missing = [name for name in REQUIRED if name not in names]
    if not any(name.endswith(".safetensors") for name in names):
        missing.append("*.safetensors weights")
    if missing:
        raise PushError(f"{folder}: not a complete model folder, missing {', '.join(missing)}")
    return files


def http_error(error: HfHubHTTPError, repo_id: str) -> PushError:
    status = error.response.status_code if error.response is not None else None
    reasons = {
        401: "the token was refused (401): log in again with `hf auth login` or set HF_TOKEN",
        403: f"the token may not write to {repo_id} (403): it needs write access to that namespace",
        409: f"the name {repo_id} is taken (409)",
    }
    return PushError(reasons.get(status, f"the Hub answered {status}: {error}"))


def push(
    folder: str | Path,
    repo_id: str,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
) -> str:
    """Upload `folder` to `repo_id` in one commit; return the commit URL."""
    files = files_to_upload(folder)
    token = token or get_token()
    if not token:
        raise PushError("no Hugging Face token: run `hf auth login` or set HF_TOKEN")
    api = HfApi(token=token)
    created = False
    try:
        try:
            api.create_repo(repo_id, private=private, exist_ok=False)
            created = True
        except HfHubHTTPError as error:
            if error.response is None or error.response.status_code != 409:  # 409: it exists, push into it
                raise
        if revision is not None:
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        operations = [CommitOperationAdd(file.path_in_repo, str(Path(folder) / file.path_in_repo)) for file in files]
        commit = api.create_commit(
            repo_id,
            operations=operations,
            commit_message=commit_message or f"Upload {Path(folder).name} with kexue-push",
            revision=revision,
        )
    except (HfHubHTTPError, httpx.TransportError, OSError) as error:
        if created:
            try:
                api.delete_repo(repo_id)
            except (HfHubHTTPError, httpx.TransportError, OSError):
                pass  # the original error is the one to report
        if isinstance(error, HfHubHTTPError):
            raise http_error(error, repo_id) from error
        raise PushError(f"cannot reach the Hub ({api.endpoint}): {error}") from error
    return commit.commit_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kexue-push", description=__doc__)
    parser.add_argument("folder", help="a folder written by save_pretrained or kexue-convert")
    parser.add_argument("repo_id", help="namespace/name on the Hub")
    parser.add_argument("--private", action="store_true", help="create the repo private")
    parser.add_argument("--revision", help="branch to commit to (created if missing)")
    parser.add_argument("--commit-message")
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded, upload nothing")
    args = parser.parse_args(argv)
    try:
        if args.dry_run:
            files = files_to_upload(args.folder)
            for file in files:
                print(f"{file.size:>12,d}  {file.path_in_repo}")
            print(f"{len(files)} files, {sum(file.size for file in files):,d} bytes -> {args.repo_id} (dry run)")
            return 0
        url = push(args.folder, args.repo_id, args.private, args.revision, args.commit_message)
    except PushError as error:
        print(f"kexue-push: error: {error}", file=sys.stderr)
        return 2
    print(f"pushed {args.folder} -> {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
