"""`make lint-workflows`: the GitHub workflows validated offline against check-jsonschema's vendored schema."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "sqlmesh.yml"


def lint(*files: Path) -> subprocess.CompletedProcess:
    command = ["make", "--no-print-directory", "-s", "lint-workflows", f"WORKFLOWS={' '.join(map(str, files))}"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_workflow_is_valid() -> None:
    result = lint(WORKFLOW)
    assert result.returncode == 0 and "validation done" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("mistake", "replacement", "named"),
    [
        (
            "    runs-on: [self-hosted, linux, nyc-mobility]\n",
            "    run-on: [self-hosted, linux, nyc-mobility]\n",
            "runs-on",
        ),
        ("cancel-in-progress: true", "cancel-in-progress: yes please", "cancel-in-progress"),
        ("      checks: write", "      checks: admin", "checks"),
    ],
)
def test_a_broken_workflow_fails_the_lint(tmp_path: Path, mistake: str, replacement: str, named: str) -> None:
    text = WORKFLOW.read_text()
    assert mistake in text
    broken = tmp_path / "sqlmesh.yml"
    broken.write_text(text.replace(mistake, replacement, 1))
    result = lint(broken)
    assert result.returncode != 0 and named in result.stdout, result.stdout + result.stderr
