"""`python -m ops.pr_report`: what a pull-request review posts on GitHub, besides the SQLMesh bot's own check runs.

    python -m ops.pr_report comment FILE          one comment on the pull request, with FILE's Markdown (make diff);
                                                  updated in place on the next push, never a second comment
    python -m ops.pr_report check NAME -- CMD...  runs CMD and posts its verdict as the check run NAME on the pull
                                                  request's head commit (success or failure, CMD's report as its
                                                  output); exits with CMD's exit code, so the job is red as well

It talks to GitHub as the SQLMesh bot does: the REST API at GITHUB_API_URL, the token from GITHUB_TOKEN (never in
argv), the pull request from the Actions event at GITHUB_EVENT_PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from github import Auth, Github
from github.Consts import DEFAULT_BASE_URL
from github.GithubException import GithubException

from ops.common import EXIT_USAGE, PROJECT_DIR, WorkflowError

COMMENT_MARKER = "<!-- nyc-mobility: make diff -->"
COMMENT_TITLE = "**nyc-mobility: data diff against prod** (`make diff` on a copy of the warehouse)"
MAX_TEXT = 60_000  # GitHub refuses a comment body or check-run summary over 65,535 characters


@dataclass(frozen=True)
class PullRequest:
    """The pull request an Actions event is about."""

    repository: str
    number: int
    head_sha: str

    @classmethod
    def from_event(cls, path: str | None) -> PullRequest:
        """Reads GITHUB_EVENT_PATH (a `pull_request` event)."""
        if not path:
            raise WorkflowError("GITHUB_EVENT_PATH is not set: run this in a pull-request job of GitHub Actions.")
        try:
            payload = json.loads(Path(path).read_text())
            pull = payload["pull_request"]
            return cls(payload["repository"]["full_name"], int(pull["number"]), pull["head"]["sha"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise WorkflowError(f"{path} is not a pull_request event ({type(error).__name__}: {error}).") from error


def github_client() -> Github:
    """PyGithub on GITHUB_API_URL with the token from GITHUB_TOKEN."""
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        raise WorkflowError("GITHUB_TOKEN is not set: give the step `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`.")
    return Github(base_url=os.environ.get("GITHUB_API_URL", DEFAULT_BASE_URL), auth=Auth.Token(token))


def clip(text: str) -> str:
    """Text within GitHub's size limit, saying so when cut."""
    if len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT - 200] + "\n\n… (cut here: the full text is in the job's log)\n"


def post_comment(pull: PullRequest, markdown: str) -> str:
    """Creates the review comment or updates the one posted before; returns what was done."""
    issue = github_client().get_repo(pull.repository, lazy=True).get_issue(pull.number)
    body = clip(f"{COMMENT_MARKER}\n{COMMENT_TITLE}\n\n{markdown}")
    for comment in issue.get_comments():
        if COMMENT_MARKER in (comment.body or ""):
            comment.edit(body=body)
            return f"updated comment {comment.id}"
    return f"created comment {issue.create_comment(body).id}"


def fenced(text: str) -> str:
    """Plain text inside a Markdown code block."""
    return f"```text\n{text.rstrip()}\n```"


def run_check(pull: PullRequest, name: str, command: list[str]) -> int:
    """Runs `command` inside the check run `name`; returns the command's exit code."""
    repo = github_client().get_repo(pull.repository, lazy=True)
    check = repo.create_check_run(name=name, head_sha=pull.head_sha, status="in_progress")
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    report = (result.stdout + result.stderr).strip()
    verdict = report.splitlines()[-1] if report else f"exit code {result.returncode}"
    passed = result.returncode == 0
    title = f"{'Passed' if passed else 'Failed'}: {verdict}"[:250]
    summary = f"`{' '.join(command)}` exited with {result.returncode}.\n\n{fenced(report)}"
    check.edit(
        status="completed",
        conclusion="success" if passed else "failure",
        output={"title": title, "summary": clip(summary)},
    )
    return result.returncode


def main(argv: list[str]) -> int:
    """0 posted (and the check's command passed); 1 the check's command failed; 2 usage or GitHub error."""
    parser = argparse.ArgumentParser(prog="python -m ops.pr_report", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="what", required=True)
    comment = commands.add_parser("comment", help="post FILE's Markdown as the review comment (updated in place)")
    comment.add_argument("file", type=Path)
    check = commands.add_parser("check", help="run a command and post its verdict as a check run")
    check.add_argument("name")
    check.add_argument("command", nargs=argparse.REMAINDER, help="-- the command")
    args = parser.parse_args(argv)
    try:
        pull = PullRequest.from_event(os.environ.get("GITHUB_EVENT_PATH"))
        if args.what == "comment":
            if not args.file.exists():
                raise WorkflowError(f"{args.file} does not exist: the step before it (make diff) wrote nothing.")
            print(f"[pr_report] {post_comment(pull, args.file.read_text())} on #{pull.number}")
            return 0
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            raise WorkflowError("give the check's command after `--`.")
        code = run_check(pull, args.name, command)
        print(f"[pr_report] check run '{args.name}' on {pull.head_sha[:12]}: {'success' if code == 0 else 'failure'}")
        return 0 if code == 0 else 1
    except WorkflowError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except GithubException as error:
        print(f"error: GitHub answered {error.status} to the review's request: {error.data}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
