"""Shared setup of the gate tests: one tiny sample month landed and promoted once, and a private copy per test.

A package fixture lands one tiny sample month and promotes it once; every test then works on its own copy of the
project (config, models, macros, audits, seeds, signals, linter, checks, unit tests) and of that promoted
warehouse, so it can break a mart without touching the repository. Commands run as subprocesses, as a user runs them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, copy_project
from tests.conftest import query as read

SQLMESH = str(Path(sys.executable).with_name("sqlmesh"))
MONTH, SCALE = "2024-09", "0.002"
TIMEOUT = 600


def environment(data: Path) -> dict[str, str]:
    """The environment of every command: the scratch warehouse, the repository's ingest package, no telemetry."""
    return {
        **os.environ,
        "MOBILITY_DATA_DIR": str(data),
        "PYTHONPATH": str(ROOT),
        "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "MOBILITY_LOCK_TIMEOUT": "120",
    }


def run(command: list[str], cwd: Path, data: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs a command in a project folder against a data folder (plus extra environment), output captured as text."""
    env = {**environment(data), **(extra or {})}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def warehouse(data: Path) -> Path:
    """The DuckDB file of a data folder."""
    return data / "warehouse.duckdb"


def prod_state(data: Path) -> dict[str, object]:
    """What prod serves: SQLMesh's prod record, every prod view's definition and every marts view's rows."""
    with duckdb.connect(str(warehouse(data)), read_only=True) as connection:
        record = connection.sql("SELECT * FROM sqlmesh._environments WHERE name = 'prod'").fetchall()
        views = connection.sql(
            "SELECT schema_name, view_name, sql FROM duckdb_views() "
            "WHERE schema_name IN ('staging', 'intermediate', 'marts') ORDER BY ALL"
        ).fetchall()
        rows = {
            name: connection.sql(f"SELECT * FROM marts.{name} ORDER BY ALL").fetchall()
            for schema, name, _ in views
            if schema == "marts"
        }
    return {"record": record, "views": views, "rows": rows}


def physical_table(data: Path, schema: str, view: str) -> str:
    """The sqlmesh__ table a SQLMesh view selects from."""
    (sql,) = read(data, f"SELECT sql FROM duckdb_views() WHERE schema_name = '{schema}' AND view_name = '{view}'")[0]
    return re.search(r"sqlmesh__\w+\.\w+", sql.replace('"', "")).group(0)


@dataclass
class Workspace:
    """One test's copy of the project and of the promoted warehouse."""

    project: Path
    data: Path

    def run(self, *command: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Runs a command in the project copy against the data copy."""
        return run(list(command), self.project, self.data, extra)

    def promote(self, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """`python -m checks.promote --env dev [args]` (make promote), with extra environment variables."""
        return self.run(sys.executable, "-m", "checks.promote", "--env", "dev", *args, extra=extra)

    def sqlmesh(self, *args: str) -> subprocess.CompletedProcess:
        """`sqlmesh ...` under the warehouse lock, as the Makefile runs it."""
        return self.run(sys.executable, "-m", "gateway.lock", "--", SQLMESH, *args)

    def edit(self, relative: str, pattern: str, replacement: str) -> None:
        """Replaces the first match of a regex in a project file, failing when the file no longer has it."""
        path = self.project / relative
        text, count = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.MULTILINE)
        assert count == 1, f"{relative} has no match for {pattern!r}: update this test to the current model"
        path.write_text(text)

    def change_harmlessly(self) -> None:
        """A real change with no effect on data: dim_date's description (a new snapshot SQLMesh must promote)."""
        self.edit("models/marts/core/dim_date.sql", r"^/\* ", "/* (edited by the gate test) ")


@pytest.fixture(scope="package")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with one tiny sample month landed by `python -m ingest` (nothing built yet)."""
    base = tmp_path_factory.mktemp("gate_landed")
    data = base / "data"
    sample = ["-m", "ingest.sample", "--months", MONTH, "--scale", SCALE, "--out", str(base / "mirror")]
    for command in (sample, ["-m", "ingest", "--months", MONTH, "--mirror", str(base / "mirror")]):
        result = run([sys.executable, *command], ROOT, data)
        assert result.returncode == 0, result.stdout + result.stderr
    return data


@pytest.fixture(scope="package")
def promoted(tmp_path_factory: pytest.TempPathFactory, landed: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """The landed month after one clean `make promote`: the data folder and the gate's output."""
    base = tmp_path_factory.mktemp("gate_promoted")
    project, data = copy_project(base / "project"), base / "data"
    shutil.copytree(landed, data)
    result = run([sys.executable, "-m", "checks.promote", "--env", "dev"], project, data)
    return data, result


@pytest.fixture
def workspace(tmp_path: Path, promoted: tuple[Path, subprocess.CompletedProcess]) -> Workspace:
    """A fresh copy of the project and of the promoted warehouse for one test."""
    data, result = promoted
    assert result.returncode == 0, f"the clean promotion the tests start from failed:\n{result.stdout}{result.stderr}"
    shutil.copytree(data, tmp_path / "data")
    return Workspace(copy_project(tmp_path / "project"), tmp_path / "data")
