"""The promotion gate end to end on a scratch warehouse (python -m checks.promote, the before_all gate, Soda).

A module fixture lands one tiny sample month and promotes it once; every test then works on its own copy of the
project (config, models, macros, audits, seeds, signals, linter, checks, unit tests) and of that promoted
warehouse, so it can break a mart without touching the repository. Commands run as subprocesses, as a user runs them.
"""

from __future__ import annotations

import hashlib
import json
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

pytestmark = pytest.mark.slow  # about two minutes: one shared promotion, then one gate run per test


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
        return self.run(sys.executable, "-m", "ingest.lock", "--", SQLMESH, *args)

    def edit(self, relative: str, pattern: str, replacement: str) -> None:
        """Replaces the first match of a regex in a project file, failing when the file no longer has it."""
        path = self.project / relative
        text, count = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.MULTILINE)
        assert count == 1, f"{relative} has no match for {pattern!r}: update this test to the current model"
        path.write_text(text)

    def change_harmlessly(self) -> None:
        """A real change with no effect on data: dim_date's description (a new snapshot SQLMesh must promote)."""
        self.edit("models/marts/core/dim_date.sql", r"^/\* ", "/* (edited by the gate test) ")


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with one tiny sample month landed by `python -m ingest` (nothing built yet)."""
    base = tmp_path_factory.mktemp("gate_landed")
    data = base / "data"
    sample = ["-m", "ingest.sample", "--months", MONTH, "--scale", SCALE, "--out", str(base / "mirror")]
    for command in (sample, ["-m", "ingest", "--months", MONTH, "--mirror", str(base / "mirror")]):
        result = run([sys.executable, *command], ROOT, data)
        assert result.returncode == 0, result.stdout + result.stderr
    return data


@pytest.fixture(scope="module")
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


def test_clean_promotion_promotes_by_a_virtual_update(promoted: tuple[Path, subprocess.CompletedProcess]) -> None:
    """A clean build passes tests, audits and Soda; prod then serves dev's own tables and the approved snapshots."""
    data, result = promoted
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PROMOTED to prod" in result.stdout
    for view in ("fct_taxi_trips", "fct_bike_trips", "dim_zones", "agg_taxi_demand_by_zone_hour"):
        assert physical_table(data, "marts", view) == physical_table(data, "marts__dev", view)
    (snapshots,) = read(data, "SELECT snapshots FROM sqlmesh._environments WHERE name = 'prod'")[0]
    approved = read(data, "SELECT DISTINCT approval_id, name FROM gate.approved_snapshots")
    assert {snapshot["name"] for snapshot in json.loads(snapshots)} == {name for _, name in approved}
    assert len({approval_id for approval_id, _ in approved}) == 1


def test_scan_reads_prod_without_writing(promoted: tuple[Path, subprocess.CompletedProcess], tmp_path: Path) -> None:
    """`python -m checks.scan --env prod` passes on the promoted warehouse and leaves the file byte for byte."""
    data, _ = promoted
    digest = hashlib.sha256(warehouse(data).read_bytes()).hexdigest()
    result = run([sys.executable, "-m", "checks.scan", "--env", "prod"], copy_project(tmp_path / "project"), data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "environment 'prod': staging, intermediate, marts" in result.stdout
    assert hashlib.sha256(warehouse(data).read_bytes()).hexdigest() == digest


def test_wrong_mart_fails_the_gate_and_prod_is_unchanged(workspace: Workspace) -> None:
    """A join that duplicates trips in an aggregate passes unit tests and audits, fails reconciliation in Soda."""
    workspace.edit(
        "models/marts/taxi/agg_taxi_demand_by_zone_hour.sql",
        r"FROM marts\.fct_taxi_trips\b",
        "FROM marts.fct_taxi_trips JOIN marts.dim_zones AS zones ON zones.zone_id IN (pickup_zone_id, -1)",
    )
    before = prod_state(workspace.data)
    result = workspace.promote()
    assert result.returncode != 0
    assert "NOT PROMOTED" in result.stdout
    assert re.search(r"scan\s+FAIL", result.stdout), result.stdout
    assert "agg_taxi_demand_by_zone_hour equals its restatement over raw" in result.stdout
    assert "agg_taxi_demand_by_zone_hour" in result.stdout  # the sample row names the mart, measure and month
    assert prod_state(workspace.data) == before


def test_environment_variables_cannot_turn_a_failing_gate_into_a_pass(workspace: Workspace) -> None:
    """`marts_schema=marts check_start_month=2099-01-01 revenue_tolerance_dollars=... make promote` of a wrong mart.

    Soda resolves environment variables before the scan's own: before the gate pinned its variables, this scanned
    prod's views (or no month) and promoted the doubled trips.
    """
    workspace.edit(
        "models/marts/taxi/agg_taxi_demand_by_zone_hour.sql",
        r"FROM marts\.fct_taxi_trips\b",
        "FROM marts.fct_taxi_trips JOIN marts.dim_zones AS zones ON zones.zone_id IN (pickup_zone_id, -1)",
    )
    before = prod_state(workspace.data)
    hostile = {
        "marts_schema": "marts",
        "intermediate_schema": "intermediate",
        "staging_schema": "staging",
        "check_start_month": "2099-01-01",
        "revenue_tolerance_dollars": "1000000000",
    }
    result = workspace.promote(extra=hostile)
    assert result.returncode != 0, result.stdout
    assert "NOT PROMOTED" in result.stdout and "OVERRIDE" not in result.stdout
    assert "environment 'dev': staging__dev, intermediate__dev, marts__dev" in result.stdout
    assert "agg_taxi_demand_by_zone_hour equals its restatement over raw" in result.stdout
    assert prod_state(workspace.data) == before


def test_override_is_printed_and_recorded_with_the_approval(workspace: Workspace) -> None:
    """`make promote OVERRIDE=quality_flag_share_warn_pct=-1`: the check warns, the summary and the approval say why."""
    workspace.change_harmlessly()
    result = workspace.promote("--override", "quality_flag_share_warn_pct=-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OVERRIDE quality_flag_share_warn_pct=-1 for this run (checks/thresholds.yml: 2)" in result.stdout
    summary = result.stdout.split("=== promotion gate", 1)[1]
    assert "PROMOTED to prod" in summary and "OVERRIDE quality_flag_share_warn_pct=-1" in summary
    assert re.search(r"WARNED\s+.*share of trips with a quality flag", result.stdout), result.stdout
    ((overrides, checks),) = read(
        workspace.data,
        "SELECT DISTINCT overrides, checks_summary FROM gate.approved_snapshots "
        "WHERE approved_at = (SELECT max(approved_at) FROM gate.approved_snapshots)",
    )
    assert json.loads(overrides) == {"quality_flag_share_warn_pct": "-1"}
    assert json.loads(checks)["overrides"] == {"quality_flag_share_warn_pct": {"value": "-1", "default": "2"}}
    (first,) = read(
        workspace.data,
        "SELECT DISTINCT overrides FROM gate.approved_snapshots "
        "WHERE approved_at = (SELECT min(approved_at) FROM gate.approved_snapshots)",
    )[0]
    assert json.loads(first) == {}, "the clean promotion the tests start from recorded no override"


def test_failing_audit_blocks(workspace: Workspace) -> None:
    """A blocking audit that fails during the dev build stops the gate before Soda; prod is unchanged."""
    workspace.edit(
        "models/marts/taxi/fct_taxi_trips.sql",
        r"^  audits \(\n",
        '  audits (\n    accepted_range("column" := fare_amount, min_v := 0, max_v := 1),\n',
    )
    before = prod_state(workspace.data)
    result = workspace.promote()
    assert result.returncode != 0
    assert re.search(r"build\s+FAIL", result.stdout), result.stdout
    assert "accepted_range" in result.stdout
    assert prod_state(workspace.data) == before


def test_soda_error_blocks(workspace: Workspace) -> None:
    """An unreadable Soda configuration is an error, not a pass: the gate stops and prod is unchanged."""
    workspace.change_harmlessly()
    (workspace.project / "checks" / "configuration.yml").write_text("data_source warehouse: [unclosed\n")
    before = prod_state(workspace.data)
    result = workspace.promote()
    assert result.returncode != 0
    assert re.search(r"scan\s+FAIL", result.stdout), result.stdout
    assert "Soda error" in result.stdout
    assert prod_state(workspace.data) == before


def test_warnings_do_not_block(workspace: Workspace) -> None:
    """A check at warn level is shown and recorded with the approval, and the change still reaches prod."""
    workspace.change_harmlessly()
    workspace.edit("checks/thresholds.yml", r"^quality_flag_share_warn_pct: .*$", "quality_flag_share_warn_pct: -1")
    result = workspace.promote()
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"WARNED\s+.*share of trips with a quality flag", result.stdout), result.stdout
    assert "PROMOTED to prod" in result.stdout
    (summary,) = read(workspace.data, "SELECT checks_summary FROM gate.approved_snapshots ORDER BY approved_at DESC")[0]
    assert "share of trips with a quality flag" in summary


def test_bare_plan_prod_of_an_unapproved_change_is_refused(workspace: Workspace) -> None:
    """`sqlmesh plan prod` after `sqlmesh plan dev` (a pure virtual update) fails in before_all; prod is unchanged."""
    workspace.change_harmlessly()
    built = workspace.sqlmesh("plan", "dev", "--auto-apply", "--no-prompts")
    assert built.returncode == 0, built.stdout + built.stderr
    before = prod_state(workspace.data)
    result = workspace.sqlmesh("plan", "prod", "--auto-apply", "--no-prompts")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Promotion gate" in output and "marts.dim_date" in output and "make promote" in output
    assert "Model batches executed" not in output
    assert prod_state(workspace.data) == before


def test_run_of_approved_snapshots_passes(workspace: Workspace) -> None:
    """`sqlmesh run` passes the before_all gate for the approved prod snapshots, and fails once they are not."""
    result = workspace.sqlmesh("run")
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(warehouse(workspace.data))) as connection:
        connection.execute("UPDATE gate.approved_snapshots SET identifier = 'revoked'")
    result = workspace.sqlmesh("run")
    assert result.returncode != 0
    assert "Promotion gate" in result.stdout + result.stderr
