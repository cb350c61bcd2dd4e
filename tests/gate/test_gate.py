"""The promotion gate end to end on a scratch warehouse (python -m checks.promote, the before_all gate, Soda).

Each test breaks or changes its own copy of the project and of the promoted warehouse (tests/gate/conftest.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, copy_project
from tests.conftest import query as read
from tests.gate.conftest import Workspace, physical_table, prod_state, run, warehouse

INJECT = ROOT / "tests" / "reliability" / "inject"
pytestmark = pytest.mark.slow  # about two minutes: one shared promotion, then one gate run per test


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
    header = result.stdout.splitlines()[0]
    assert header.endswith("environment 'prod': staging, intermediate, marts; landed months 2024-09"), header
    # the sample month is long past: the freshness warning names every table and how far behind it is
    assert re.search(r"WARNED\s+raw freshness: the newest landed month", result.stdout), result.stdout
    for table in ("raw_tlc.yellow_trips", "raw_tlc.green_trips", "raw_citibike.trips", "raw_weather.hourly"):
        finding = rf"^\s+- {re.escape(table)}: newest landed month 2024-09, \d+ months behind today"
        assert re.search(finding, result.stdout, re.MULTILINE), result.stdout
    assert hashlib.sha256(warehouse(data).read_bytes()).hexdigest() == digest


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


def test_promotion_the_day_after_a_build_runs_the_new_day_first(workspace: Workspace) -> None:
    """The day after prod was built, a new day is due on the models prod serves, and SQLMesh builds dev only as far
    as prod. `make promote` of a change runs the day into prod first, as `make run` does, then builds, checks and
    promotes (it used to refuse: "prod would compute batches the checks have not seen")."""
    workspace.change_harmlessly()
    result = workspace.promote(extra={"FAULT_CLOCK_AHEAD_DAYS": "1", "PYTHONPATH": f"{INJECT}:{ROOT}"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "prod's due days ran into prod" in output
    assert "PROMOTED" in output


def check_line(output: str, check: str) -> str:
    """The report line of one check (`--verbose` lists the passed ones too), failing when the report has none."""
    lines = [line for line in output.splitlines() if check in line]
    assert lines, f"the scan did not report {check!r}:\n{output}"
    return lines[0]


def test_a_scan_of_some_months_checks_the_growing_marts_in_those_months_only(workspace: Workspace) -> None:
    """make run and make restate scan the months they changed: a duplicate trip in September fails a scan of every
    month and of September, and is not what a scan of October looks at (the `checked_months` filter)."""
    table = physical_table(workspace.data, "marts", "fct_taxi_trips")
    with duckdb.connect(str(warehouse(workspace.data))) as connection:
        connection.execute(f"INSERT INTO {table} SELECT * FROM {table} WHERE pickup_date = '2024-09-15' LIMIT 1")
    duplicates = "fct_taxi_trips: duplicate_count(trip_id) = 0"
    scan = [sys.executable, "-m", "checks.scan", "--env", "prod", "--verbose"]

    for months in ([], ["--start-month", "2024-09", "--end-month", "2024-09"]):
        result = workspace.run(*scan, *months)
        assert result.returncode != 0, result.stdout
        assert check_line(result.stdout, duplicates).startswith("FAILED"), months

    october = workspace.run(*scan, "--start-month", "2024-10", "--end-month", "2024-10")
    assert check_line(october.stdout, duplicates).startswith("passed"), october.stdout


def test_the_weather_hour_reconciliation_checks_each_hour_of_the_months_scanned(workspace: Workspace) -> None:
    """agg_trips_by_weather_hour against trips counted over raw per local hour, then placed in their UTC hour: one
    taxi trip too many in an hour of September fails a scan of September, and is not what a scan of October reads."""
    table = physical_table(workspace.data, "marts", "agg_trips_by_weather_hour")
    with duckdb.connect(str(warehouse(workspace.data))) as connection:
        connection.execute(f"UPDATE {table} SET taxi_trips = taxi_trips + 1 WHERE weather_at = '2024-09-15 08:00:00'")
    reconciliation = "reconciliation: agg_trips_by_weather_hour equals its restatement over raw"
    scan = [sys.executable, "-m", "checks.scan", "--env", "prod", "--verbose"]

    september = workspace.run(*scan, "--start-month", "2024-09", "--end-month", "2024-09")
    assert september.returncode != 0, september.stdout
    assert check_line(september.stdout, reconciliation).startswith("FAILED"), september.stdout
    assert "2024-09-15 12:00:00" in september.stdout  # the UTC hour of 08:00 in New York (EDT), named in the report

    october = workspace.run(*scan, "--start-month", "2024-10", "--end-month", "2024-10")
    assert check_line(october.stdout, reconciliation).startswith("passed"), october.stdout
