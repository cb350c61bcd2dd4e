"""Fixtures of the workflow tests: a git repository holding a copy of the project, and one promoted warehouse.

The project is copied (config, models, macros, audits, seeds, signals, linter, checks, unit tests, Makefile, ingest,
ops) into a temporary git repository on `main`, with the repository's .venv linked in, so the tests run `make` as a
user does without touching the working copy. The sample months are landed and promoted to prod through the gate
once per session; every test that writes works on its own copy of that data folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_MONTHS, copy_project

GIT_IGNORE = ".venv\n__pycache__/\n*.pyc\nlogs/\ndata/\n"
EPHEMERAL = ("warehouse.lock", "ui.pid", "ui.log", "restate-candidate", "run-candidate")
TIMEOUT = 600


def git(repository: Path, *args: str) -> str:
    """Runs git in the repository as a throwaway identity; returns stdout."""
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args]
    return subprocess.run(command, cwd=repository, check=True, capture_output=True, text=True).stdout


def environment(data: Path, **extra: str) -> dict[str, str]:
    """The environment of a command: this data folder, no telemetry, no lock inherited from the test runner."""
    variables = {**os.environ, "MOBILITY_DATA_DIR": str(data), "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1", **extra}
    variables.pop("MOBILITY_LOCK_HOLDER", None)
    return variables


def make(project: Path, data: Path, *args: str, timeout: float = TIMEOUT, **extra: str) -> subprocess.CompletedProcess:
    """`make ARGS` in the project copy against a data folder."""
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=project,
        env=environment(data, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python(
    project: Path, data: Path, *args: str, timeout: float = TIMEOUT, **extra: str
) -> subprocess.CompletedProcess:
    """`.venv/bin/python ARGS` in the project copy against a data folder."""
    return subprocess.run(
        [str(project / ".venv" / "bin" / "python"), *args],
        cwd=project,
        env=environment(data, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    """A TCP port nothing listens on, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def output(result: subprocess.CompletedProcess) -> str:
    """stdout and stderr of a finished command, for assertion messages."""
    return f"exit {result.returncode}\n--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"


@pytest.fixture(scope="session")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository on `main` with one commit holding the project copy."""
    project = copy_project(tmp_path_factory.mktemp("repository") / "nyc-mobility")
    (project / ".gitignore").write_text(GIT_IGNORE)
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "the project")
    return project


@pytest.fixture(scope="session")
def promoted(tmp_path_factory: pytest.TempPathFactory, repository: Path, sample_mirror: Path) -> Path:
    """The sample months landed (make ingest) and promoted to prod through the gate (checks.promote)."""
    data = tmp_path_factory.mktemp("promoted")
    landed = make(repository, data, "ingest", f"MONTHS={SAMPLE_MONTHS}", f"MIRROR={sample_mirror}")
    assert landed.returncode == 0, output(landed)
    promotion = python(repository, data, "-m", "checks.promote", "--env", "dev")
    assert promotion.returncode == 0, output(promotion)
    return data


@pytest.fixture
def data(tmp_path: Path, promoted: Path) -> Path:
    """A private copy of the promoted data folder."""
    copy = tmp_path / "data"
    shutil.copytree(promoted, copy, ignore=shutil.ignore_patterns(*EPHEMERAL))
    return copy


@pytest.fixture
def clone(tmp_path: Path, repository: Path) -> Iterator[Path]:
    """A clone of the repository that a test may branch and change, with the .venv linked in."""
    project = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(repository), str(project))
    (project / ".venv").symlink_to(ROOT / ".venv")
    shutil.copystat(ROOT / "requirements.lock", project / "requirements.lock")  # keeps `make setup` a no-op
    yield project
