"""A stand-in for GitHub's REST API on 127.0.0.1: one repository, one open pull request, every request recorded.

It answers what a pull-request review asks (the pull request, its issue, reviews, comments, check runs) the way
GitHub does, keeps the comments and check runs it is sent (created, then edited in place), and records every request
with its method, path and JSON body. Anything else gets GitHub's 404, recorded too, so a test sees what was missed.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    """One request the stand-in received."""

    method: str
    path: str
    body: Any
    status: int


@dataclass
class GitHubStandIn:
    """The state of the stand-in: the pull request, and what the review posted."""

    repository: str
    number: int
    head_sha: str
    base_ref: str = "main"
    head_ref: str = "feature"
    requests: list[Request] = field(default_factory=list)
    comments: dict[int, dict] = field(default_factory=dict)
    check_runs: dict[int, dict] = field(default_factory=dict)
    url: str = ""
    _ids: int = 1000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def event(self) -> dict:
        """The `pull_request` event payload GitHub Actions writes at GITHUB_EVENT_PATH."""
        return {"action": "synchronize", "number": self.number, "pull_request": self.pull(), "repository": self.repo()}

    def repo(self) -> dict:
        owner, name = self.repository.split("/")
        return {
            "id": 1,
            "name": name,
            "full_name": self.repository,
            "owner": {"login": owner, "type": "Organization"},
            "url": f"{self.url}/repos/{self.repository}",
        }

    def pull(self) -> dict:
        base = f"{self.url}/repos/{self.repository}"
        return {
            "id": self.number,
            "number": self.number,
            "state": "open",
            "merged": False,
            "title": "A change to the models",
            "user": {"login": "analyst"},
            "url": f"{base}/pulls/{self.number}",
            "html_url": f"https://github.invalid/{self.repository}/pull/{self.number}",
            "issue_url": f"{base}/issues/{self.number}",
            "_links": {"self": {"href": f"{base}/pulls/{self.number}"}},
            "base": {"ref": self.base_ref, "sha": "0" * 40, "repo": self.repo()},
            "head": {"ref": self.head_ref, "sha": self.head_sha, "repo": self.repo()},
        }

    def issue(self) -> dict:
        base = f"{self.url}/repos/{self.repository}"
        return {
            "id": self.number,
            "number": self.number,
            "state": "open",
            "title": "A change to the models",
            "url": f"{base}/issues/{self.number}",
            "comments_url": f"{base}/issues/{self.number}/comments",
            "pull_request": {"url": f"{base}/pulls/{self.number}"},
        }

    def new_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def comment(self, body: str) -> dict:
        number = self.new_id()
        item = {
            "id": number,
            "body": body,
            "user": {"login": "github-actions[bot]"},
            "url": f"{self.url}/repos/{self.repository}/issues/comments/{number}",
            "html_url": f"https://github.invalid/{self.repository}/pull/{self.number}#issuecomment-{number}",
        }
        self.comments[number] = item
        return item

    def check_run(self, body: dict) -> dict:
        number = self.new_id()
        item = {**body, "id": number, "url": f"{self.url}/repos/{self.repository}/check-runs/{number}"}
        self.check_runs[number] = item
        return item

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """GitHub's status and JSON for one request."""
        repo, number = re.escape(f"/repos/{self.repository}"), self.number
        routes: list[tuple[str, str, Any]] = [
            ("GET", rf"{repo}", lambda _: (200, self.repo())),
            ("GET", rf"{repo}/pulls/{number}", lambda _: (200, self.pull())),
            ("GET", rf"{repo}/issues/{number}", lambda _: (200, self.issue())),
            ("GET", rf"{repo}/pulls/{number}/reviews", lambda _: (200, [])),
            ("GET", rf"{repo}/issues/{number}/comments", lambda _: (200, list(self.comments.values()))),
            ("POST", rf"{repo}/issues/{number}/comments", lambda b: (201, self.comment(b["body"]))),
            ("PATCH", rf"{repo}/issues/comments/(\d+)", None),
            ("POST", rf"{repo}/check-runs", lambda b: (201, self.check_run(b))),
            ("PATCH", rf"{repo}/check-runs/(\d+)", None),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if verb != method or not match:
                continue
            if handler is not None:
                return handler(body)
            store = self.comments if "comments" in pattern else self.check_runs
            item = store.get(int(match.group(1)))
            if item is None:
                break
            item.update(body)
            return 200, item
        return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}

    def check_run_named(self, name: str) -> dict:
        """The last state of the check run `name` (it is created, then edited)."""
        runs = [run for run in self.check_runs.values() if run.get("name") == name]
        posted = [run.get("name") for run in self.check_runs.values()]
        assert runs, f"no check run named {name!r}; the ones posted: {posted}"
        return runs[-1]

    def not_found(self) -> list[Request]:
        """Requests the stand-in could not answer."""
        return [request for request in self.requests if request.status == 404]


def serve(standin: GitHubStandIn) -> ThreadingHTTPServer:
    """Starts the stand-in on a free port of 127.0.0.1 in a thread; `server.shutdown()` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            path = self.path.split("?", 1)[0]
            status, answer = standin.answer(self.command, path, body)
            standin.requests.append(Request(self.command, path, body, status))
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_one  # noqa: N815 (http.server's names)

        def log_message(self, *args: object) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
