""".github/workflows/sqlmesh.yml step by step as the runner runs it, against a stand-in for GitHub's REST API.

The jobs' own commands are read from the workflow file (so the test and the file cannot drift), GitHub's expressions
expanded as the runner would, and run in a clone holding the change, against a copy of a promoted warehouse. The
SQLMesh bot, the `make diff` comment and the gate's check run talk to a stand-in GitHub on 127.0.0.1
(tests/workflows/github_api.py) that records every request. The review of a good change posts green check runs and
one diff comment; the review of a change that breaks reconciliation posts a failed "Gate: Soda checks" check run.
Whatever a review does, the warehouse file prod serves is the same byte for byte, and after `sqlmesh janitor
--ignore-ttl` prod answers exactly as before. The deploy job promotes a good change and leaves prod as it was when
the gate rejects one, saying so in the run's summary.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ops.pr_report import COMMENT_MARKER
from tests.conftest import ROOT
from tests.conftest import query as read
from tests.workflows.conftest import environment, git, output
from tests.workflows.github_api import GitHubStandIn, serve

pytestmark = pytest.mark.slow

WORKFLOW = ROOT / ".github" / "workflows" / "sqlmesh.yml"
RECEIVED = ROOT / "data" / "review-standin"  # what the stand-in GitHub received, kept after the run
PULL_REQUEST = 7
REPOSITORY = "nyc-mobility/nyc-mobility"
TOKEN = "ghs_stand-in-token"
BOT_CHECKS = ("SQLMesh - Linter", "SQLMesh - Run Unit Tests", "SQLMesh - PR Environment Synced")
GATE_CHECK = "Gate: Soda checks"
RECONCILIATION = "agg_taxi_demand_by_zone_hour equals its restatement over raw"
PROD_ANSWERS = (
    "SELECT count(*), sum(trips), sum(revenue_amount) FROM marts.agg_taxi_demand_by_zone_hour",
    "SELECT count(*), sum(total_amount) FROM marts.fct_taxi_trips",
    "SELECT count(*) FROM marts.fct_bike_trips",
)
# The views prod serves (an environment's own views sit in schemas named `<layer>__<environment>`).
PROD_VIEWS = (
    "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal AND NOT contains(schema_name, '__')"
)
# A change that joins every taxi trip to one or two zones: the aggregate counts some trips twice.
DUPLICATING_JOIN = (
    "models/marts/taxi/agg_taxi_demand_by_zone_hour.sql",
    r"FROM marts\.fct_taxi_trips\b",
    "FROM marts.fct_taxi_trips JOIN marts.dim_zones AS zones ON zones.zone_id IN (pickup_zone_id, -1)",
)
COMMENT_ONLY = ("models/marts/core/dim_date.sql", r"^/\* ", "/* (reviewed) ")
NEW_COLUMN = (
    "models/marts/core/dim_date.sql",
    r"^  DAY\(calendar_date\) AS day_of_month,",
    "  DAYOFYEAR(calendar_date) AS day_of_year, /* 1..366 */\n  DAY(calendar_date) AS day_of_month,",
)


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps_after_install(job: str) -> list[dict]:
    """A job's `run` steps after `make setup` (the checkout and the install are the runner's)."""
    steps = workflow()["jobs"][job]["steps"]
    names = [step.get("name", "") for step in steps]
    return [step for step in steps[names.index("Install (.venv from requirements.lock)") + 1 :] if "run" in step]


@pytest.fixture
def github(clone: Path, request: pytest.FixtureRequest) -> Iterator[GitHubStandIn]:
    """The stand-in GitHub, serving pull request #7 of the clone's `feature` head; what it received is kept in
    data/review-standin/<test>.json for a person to read (the comments and check runs as GitHub would show them)."""
    standin = GitHubStandIn(REPOSITORY, PULL_REQUEST, head_sha="f" * 40)
    server = serve(standin)
    try:
        yield standin
    finally:
        server.shutdown()
        RECEIVED.mkdir(parents=True, exist_ok=True)
        received = {
            "requests": [f"{r.method} {r.path} -> {r.status}" for r in standin.requests],
            "comments": list(standin.comments.values()),
            "check_runs": list(standin.check_runs.values()),
        }
        (RECEIVED / f"{request.node.name}.json").write_text(json.dumps(received, indent=2, default=str))


class Runner:
    """Runs a job's steps as the runner does: GitHub's expressions expanded, stopping at the first failure."""

    def __init__(self, clone: Path, data: Path, temp: Path, github: GitHubStandIn | None = None) -> None:
        self.clone, self.data, self.temp, self.github = clone, data, temp, github
        self.temp.mkdir(parents=True, exist_ok=True)
        self.summary = temp / "step-summary.md"
        self.outcomes: dict[str, str] = {}

    def expand(self, text: str) -> str:
        """GitHub's expressions in a step, as the runner would expand them."""
        values = {
            "github.event.pull_request.number": str(PULL_REQUEST),
            "runner.temp": str(self.temp),
            "github.workspace": str(self.clone),
            "secrets.GITHUB_TOKEN": TOKEN,
            **{f"steps.{name}.outcome": outcome for name, outcome in self.outcomes.items()},
        }
        for name, value in values.items():
            text = text.replace("${{ " + name + " }}", value)
        assert "${{" not in text, f"an expression the test does not expand: {text}"
        return text

    def environment(self) -> dict[str, str]:
        """What the runner sets for every step: the workflow's env, GitHub's variables, the event."""
        variables = {name: str(value) for name, value in workflow()["env"].items() if not str(value).startswith("${{")}
        variables |= {"RUNNER_TEMP": str(self.temp), "GITHUB_WORKSPACE": str(self.clone)}
        variables |= {"GITHUB_SHA": git(self.clone, "rev-parse", "HEAD").strip(), "GITHUB_REPOSITORY": REPOSITORY}
        variables |= {"GITHUB_ACTIONS": "true", "CI": "true", "MOBILITY_LOCK_TIMEOUT": "60"}
        variables |= {"GITHUB_STEP_SUMMARY": str(self.summary), "GITHUB_OUTPUT": str(self.temp / "step-output")}
        if self.github is not None:
            event = self.temp / "event.json"
            event.write_text(json.dumps(self.github.event()))
            variables |= {"GITHUB_API_URL": self.github.url, "GITHUB_EVENT_PATH": str(event)}
        return environment(self.data, **variables)

    def run(self, job: str) -> list[subprocess.CompletedProcess]:
        results: list[subprocess.CompletedProcess] = []
        for step in steps_after_install(job):
            failed = any(result.returncode != 0 for result in results)
            if failed and "always()" not in str(step.get("if", "")):
                continue
            env = self.environment() | {name: self.expand(str(value)) for name, value in step.get("env", {}).items()}
            command = ["bash", "-e", "-c", self.expand(step["run"])]
            result = subprocess.run(command, cwd=self.clone, env=env, capture_output=True, text=True, timeout=1200)
            results.append(result)
            if "id" in step:
                self.outcomes[step["id"]] = "success" if result.returncode == 0 else "failure"
        return results


def digest(path: Path) -> str:
    """sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prod_answers(data: Path) -> list[list[tuple]]:
    """What prod answers to a few questions."""
    return [read(data, sql) for sql in PROD_ANSWERS]


def after_janitor(clone: Path, data: Path) -> list[list[tuple]]:
    """`sqlmesh janitor --ignore-ttl` on the warehouse prod serves, then prod's answers."""
    janitor = subprocess.run(
        [str(clone / ".venv/bin/python"), "-m", "gateway.lock", "--", str(clone / ".venv/bin/sqlmesh")]
        + ["janitor", "--ignore-ttl"],
        cwd=clone,
        env=environment(data),
        input="y\n",  # its own question: delete every snapshot no environment references
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert janitor.returncode == 0, output(janitor)
    return prod_answers(data)


def change(clone: Path, relative: str, pattern: str, replacement: str, branch: str = "feature") -> None:
    """Commits a change to a model, on a new branch or on main, as a pull request or a push would."""
    path = clone / relative
    text, count = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.MULTILINE)
    assert count == 1, f"{relative} has no match for {pattern!r}"
    path.write_text(text)
    if branch != "main":
        git(clone, "checkout", "--quiet", "-b", branch)
    git(clone, "commit", "--quiet", "--all", "--message", "the change")


def everything(results: list[subprocess.CompletedProcess]) -> str:
    return "\n".join(output(result) for result in results)


def test_review_of_a_good_change_is_green_and_cannot_touch_prod(
    clone: Path, data: Path, tmp_path: Path, github: GitHubStandIn
) -> None:
    change(clone, *COMMENT_ONLY)
    warehouse, answers = digest(data / "warehouse.duckdb"), prod_answers(data)

    results = Runner(clone, data, tmp_path / "runner-temp", github).run("review")

    assert len(results) == len(steps_after_install("review")), everything(results)
    assert all(result.returncode == 0 for result in results), everything(results)
    assert not github.not_found(), github.not_found()
    posted = {run["name"]: run.get("conclusion") for run in github.check_runs.values()}
    assert all(posted.get(name) == "success" for name in BOT_CHECKS), (posted, everything(results[1:2]))
    gate = github.check_run_named(GATE_CHECK)
    assert gate["head_sha"] == github.head_sha and gate["status"] == "completed" and gate["conclusion"] == "success"
    assert f"environment 'pr_{PULL_REQUEST}'" in gate["output"]["summary"] and "PASS" in gate["output"]["title"]
    diffs = [comment for comment in github.comments.values() if COMMENT_MARKER in comment["body"]]
    assert len(diffs) == 1 and "marts.dim_date" in diffs[0]["body"], github.comments
    assert any(":robot: **SQLMesh Bot Info**" in comment["body"] for comment in github.comments.values())
    assert all(TOKEN not in result.args[-1] for result in results)  # the token is in the environment, not argv

    # A second push posts the diff again: the same comment, edited in place.
    comments = len(github.comments)
    Runner(clone, data, tmp_path / "runner-temp", github).run("review")
    assert len(github.comments) == comments
    assert [request.method for request in github.requests if "/issues/comments/" in request.path].count("PATCH") >= 2

    assert digest(data / "warehouse.duckdb") == warehouse
    assert after_janitor(clone, data) == answers


def test_review_of_a_change_that_fails_the_gate_posts_a_failed_check(
    clone: Path, data: Path, tmp_path: Path, github: GitHubStandIn
) -> None:
    change(clone, *DUPLICATING_JOIN)
    warehouse, answers = digest(data / "warehouse.duckdb"), prod_answers(data)

    results = Runner(clone, data, tmp_path / "runner-temp", github).run("review")

    assert results[-1].returncode != 0, everything(results)
    assert RECONCILIATION in results[-1].stdout, output(results[-1])
    gate = github.check_run_named(GATE_CHECK)
    assert gate["status"] == "completed" and gate["conclusion"] == "failure", gate
    assert RECONCILIATION in gate["output"]["summary"] and "FAIL" in gate["output"]["title"], gate["output"]
    assert digest(data / "warehouse.duckdb") == warehouse
    assert after_janitor(clone, data) == answers


def test_deploy_of_main_promotes_a_good_change(clone: Path, data: Path, tmp_path: Path) -> None:
    change(clone, *NEW_COLUMN, branch="main")
    day_of_year = "SELECT day_of_year FROM marts.dim_date WHERE calendar_date = DATE '2024-02-01'"
    runner = Runner(clone, data, tmp_path / "runner-temp")

    results = runner.run("deploy")

    assert all(result.returncode == 0 for result in results), everything(results)
    assert "PROMOTED" in results[0].stdout, output(results[0])
    assert read(data, day_of_year) == [(32,)]  # prod serves the change
    assert (data / "report" / "index.html").stat().st_size > 100_000  # the report kept with the run
    assert "Gated deploy of" in runner.summary.read_text() and ": success" in runner.summary.read_text()


def test_a_rejected_deploy_fails_the_run_and_leaves_prod_as_it_was(clone: Path, data: Path, tmp_path: Path) -> None:
    change(clone, *DUPLICATING_JOIN, branch="main")
    views, answers = read(data, PROD_VIEWS), prod_answers(data)
    runner = Runner(clone, data, tmp_path / "runner-temp")

    results = runner.run("deploy")

    assert results[0].returncode != 0 and RECONCILIATION in results[0].stdout, output(results[0])
    assert results[-1].returncode == 0  # the summary is written all the same
    assert len(results) == 2 and not (data / "report").exists()  # no report of a prod that did not change
    summary = runner.summary.read_text()
    assert ": failure" in summary and RECONCILIATION in summary, summary
    assert sorted(read(data, PROD_VIEWS)) == sorted(views) and len(views) > 20
    assert prod_answers(data) == answers


def test_the_jobs_refuse_an_unset_data_folder_at_once(tmp_path: Path) -> None:
    for job in ("review", "deploy"):
        check = workflow()["jobs"][job]["steps"][0]
        assert check["name"] == "Check MOBILITY_DATA_DIR"
        for value in ("", str(tmp_path / "nowhere")):
            result = subprocess.run(
                ["bash", "-e", "-c", check["run"]],
                env={"MOBILITY_DATA_DIR": value, "PATH": "/usr/bin:/bin"},
                capture_output=True,
                text=True,
            )
            assert result.returncode == 1 and "::error::" in result.stdout, output(result)
