"""The pull-request review of .github/workflows/sqlmesh.yml, step by step as the runner runs it.

The review job's own commands are read from the workflow file (so the test and the file cannot drift) and run in a
clone holding the pull request's change, against a copy of a promoted warehouse. The SQLMesh bot's step needs
GitHub and is left out; the others are the copy of the warehouse and the gate's Soda checks on the PR environment.
Whatever the review does, the warehouse file prod serves is the same byte for byte, and after `sqlmesh janitor
--ignore-ttl` prod answers exactly as before.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.conftest import query as read
from tests.workflows.conftest import environment, git, output

pytestmark = pytest.mark.slow

WORKFLOW = ROOT / ".github" / "workflows" / "sqlmesh.yml"
PULL_REQUEST = "7"
PROD_ANSWERS = (
    "SELECT count(*), sum(trips), sum(revenue_amount) FROM marts.agg_taxi_demand_by_zone_hour",
    "SELECT count(*), sum(total_amount) FROM marts.fct_taxi_trips",
    "SELECT count(*) FROM marts.fct_bike_trips",
)


def review_steps() -> list[dict]:
    """The review job's `run` steps after the install, bot excluded (it talks to GitHub)."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["review"]["steps"]
    names = [step.get("name", "") for step in steps]
    after_install = steps[names.index("Install (.venv from requirements.lock)") + 1 :]
    return [step for step in after_install if "run" in step and "sqlmesh_cicd" not in step["run"]]


def expand(text: str, runner_temp: Path) -> str:
    """GitHub's expressions in a step, as the runner would expand them for pull request #7."""
    text = text.replace("${{ github.event.pull_request.number }}", PULL_REQUEST)
    text = text.replace("${{ runner.temp }}", str(runner_temp))
    assert "${{" not in text, f"an expression the test does not expand: {text}"
    return text


def run_review(clone: Path, data: Path, runner_temp: Path) -> list[subprocess.CompletedProcess]:
    """Runs the review steps in order, stopping at the first failure, as the runner does."""
    results = []
    for step in review_steps():
        env = environment(data, RUNNER_TEMP=str(runner_temp), MOBILITY_LOCK_TIMEOUT="60")
        env |= {name: expand(str(value), runner_temp) for name, value in step.get("env", {}).items()}
        command = ["bash", "-e", "-c", expand(step["run"], runner_temp)]
        result = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
        results.append(result)
        if result.returncode != 0:
            break
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
        [str(clone / ".venv/bin/python"), "-m", "ingest.lock", "--", str(clone / ".venv/bin/sqlmesh")]
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


def change(clone: Path, relative: str, pattern: str, replacement: str) -> None:
    """Commits a change to a model on a branch of the clone, as a pull request would."""
    path = clone / relative
    text, count = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.MULTILINE)
    assert count == 1, f"{relative} has no match for {pattern!r}"
    path.write_text(text)
    git(clone, "checkout", "--quiet", "-b", "feature")
    git(clone, "commit", "--quiet", "--all", "--message", "the change")


def test_review_of_a_good_change_passes_and_cannot_touch_prod(clone: Path, data: Path, tmp_path: Path):
    change(clone, "models/marts/core/dim_date.sql", r"^/\* ", "/* (reviewed) ")
    warehouse, answers = digest(data / "warehouse.duckdb"), prod_answers(data)

    results = run_review(clone, data, tmp_path / "runner-temp")

    assert len(results) == len(review_steps()) and all(r.returncode == 0 for r in results), output(results[-1])
    assert "PASS" in results[-1].stdout and f"environment 'pr_{PULL_REQUEST}'" in results[-1].stdout
    assert digest(data / "warehouse.duckdb") == warehouse
    assert after_janitor(clone, data) == answers


def test_review_of_a_change_that_fails_the_gate_is_red(clone: Path, data: Path, tmp_path: Path):
    change(
        clone,
        "models/marts/taxi/agg_taxi_demand_by_zone_hour.sql",
        r"FROM marts\.fct_taxi_trips\b",
        "FROM marts.fct_taxi_trips JOIN marts.dim_zones AS zones ON zones.zone_id IN (pickup_zone_id, -1)",
    )
    warehouse, answers = digest(data / "warehouse.duckdb"), prod_answers(data)

    results = run_review(clone, data, tmp_path / "runner-temp")

    assert results[-1].returncode != 0, output(results[-1])
    assert "agg_taxi_demand_by_zone_hour equals its restatement over raw" in results[-1].stdout, output(results[-1])
    assert digest(data / "warehouse.duckdb") == warehouse
    assert after_janitor(clone, data) == answers
