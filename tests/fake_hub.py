"""An in-process fake of the Hugging Face Hub's HTTP API, enough to create repos, commit, and download.

Installed with `huggingface_hub.set_client_factory` and an `httpx.MockTransport` (docs: hf_ecosystem.md §3.3):
every call of huggingface_hub, and of transformers through it, lands in `FakeHub.handle`, with no socket.
`fail` makes one kind of request answer an error status, to test the error paths.
"""

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field

import httpx

ENDPOINT = "https://huggingface.co"


@dataclass
class Repo:
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[dict] = field(default_factory=list)

    @property
    def sha(self) -> str:
        return self.commits[-1]["oid"] if self.commits else "0" * 40


@dataclass
class FakeHub:
    repos: dict[str, Repo] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)  # request kind → status to answer
    unreachable: bool = False
    requests: list[str] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.unreachable:
            raise httpx.ConnectError("network is unreachable", request=request)
        path, method = request.url.path, request.method
        self.requests.append(f"{method} {path}")
        routes = [
            ("create", "POST", r"/api/repos/create", self.create),
            ("delete", "DELETE", r"/api/repos/delete", self.delete),
            ("validate", "POST", r"/api/validate-yaml", lambda request: json_response({"errors": [], "warnings": []})),
            ("preupload", "POST", r"/api/models/(?P<repo>[^/]+/[^/]+)/preupload/(?P<rev>.+)", self.preupload),
            ("commit", "POST", r"/api/models/(?P<repo>[^/]+/[^/]+)/commit/(?P<rev>.+)", self.commit),
            ("branch", "POST", r"/api/models/(?P<repo>[^/]+/[^/]+)/branch/(?P<rev>.+)", self.branch),
            ("info", "GET", r"/api/models/(?P<repo>[^/]+/[^/]+)(/revision/(?P<rev>.+))?", self.info),
            ("download", "HEAD|GET", r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)", self.download),
        ]
        for kind, methods, pattern, handler in routes:
            found = re.fullmatch(pattern, path)
            if found and method in methods.split("|"):
                if kind in self.fail:
                    return json_response({"error": f"injected {kind} failure"}, self.fail[kind])
                return handler(request, **{k: v for k, v in found.groupdict().items() if v is not None})
        return json_response({"error": "not found"}, 404)

    def create(self, request):
        body = json.loads(request.content)
        repo_id = f"{body.get('organization') or 'user'}/{body['name']}"
        if repo_id in self.repos:
            return json_response({"error": "You already created this model repo"}, 409)
        self.repos[repo_id] = Repo(private=body.get("visibility") == "private" or bool(body.get("private")))
        return json_response({"url": f"{ENDPOINT}/{repo_id}", "name": repo_id})

    def delete(self, request):
        body = json.loads(request.content)
        self.repos.pop(f"{body.get('organization') or 'user'}/{body['name']}", None)
        return json_response({})

    def preupload(self, request, repo, rev):
        files = json.loads(request.content)["files"]
        return json_response(
            {"files": [{"path": file["path"], "uploadMode": "regular", "shouldIgnore": False} for file in files]}
        )

    def commit(self, request, repo, rev):
        lines = [json.loads(line) for line in request.content.decode().splitlines() if line.strip()]
        header = next(line["value"] for line in lines if line["key"] == "header")
        added = {
            line["value"]["path"]: base64.b64decode(line["value"]["content"])
            for line in lines
            if line["key"] == "file"
        }
        target = self.repos[repo]
        oid = hashlib.sha1(json.dumps(sorted(added)).encode() + str(len(target.commits)).encode()).hexdigest()
        target.commits.append({"oid": oid, "message": header["summary"], "files": sorted(added), "revision": rev})
        target.files.update(added)
        return json_response({"commitUrl": f"{ENDPOINT}/{repo}/commit/{oid}", "commitOid": oid})

    def branch(self, request, repo, rev):
        return json_response({})

    def info(self, request, repo, rev=None):
        if repo not in self.repos:
            return json_response({"error": "Repository not found"}, 404, {"X-Error-Code": "RepoNotFound"})
        target = self.repos[repo]
        siblings = [{"rfilename": name} for name in sorted(target.files)]
        return json_response({"id": repo, "sha": target.sha, "private": target.private, "siblings": siblings})

    def download(self, request, repo, rev, file):
        if repo not in self.repos:
            return json_response({"error": "Repository not found"}, 404, {"X-Error-Code": "RepoNotFound"})
        target = self.repos[repo]
        if file not in target.files:
            return json_response({"error": "Entry not found"}, 404, {"X-Error-Code": "EntryNotFound"})
        content = target.files[file]
        headers = {
            "X-Repo-Commit": target.sha,
            "ETag": f'"{hashlib.sha256(content).hexdigest()}"',
            "Content-Length": str(len(content)),
        }
        return httpx.Response(200, headers=headers, content=b"" if request.method == "HEAD" else content)


def json_response(body: dict, status: int = 200, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {})
