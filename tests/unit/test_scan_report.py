"""The scan report says what it found: the months it covers, and for freshness the tables and how far behind they are.

A failed-rows check's value is a row count, so the report calls it one; when the check's query returns a `finding`
column (checks/raw.yml freshness), each finding is printed instead of a table. The header names the landed months
the scan covers, never the open-ended range the checks filter on. Each test runs in well under a second, without a
build: the freshness query is the one of checks/raw.yml, run on a tiny DuckDB file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from checks import scan

MONTHLY_TABLES = ("raw_tlc.yellow_trips", "raw_tlc.green_trips", "raw_citibike.trips", "raw_weather.hourly")


def tiny_warehouse(path: Path, months: dict[str, list[str]]) -> Path:
    """A DuckDB file whose monthly raw tables hold one row per given month (YYYY-MM)."""
    with duckdb.connect(str(path)) as connection:
        for table, landed in months.items():
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
            connection.execute(f"CREATE TABLE {table} (source_month DATE, _dlt_load_id VARCHAR)")
            for month in landed:
                connection.execute(f"INSERT INTO {table} VALUES (DATE '{month}-01', '1700000000.5')")
    return path


def report(months: list[str] | None, start: str | None = None, end: str | None = None) -> scan.ScanReport:
    """An empty report of prod over these landed months and this asked range."""
    variables = {**scan.schema_variables("prod"), **scan.month_variables(start, end)}
    return scan.ScanReport(env="prod", warehouse=Path("warehouse.duckdb"), variables=variables, months=months)


def rendered_raw_checks() -> list[dict]:
    """checks/raw.yml rendered as the gate renders it for prod, with the repository's thresholds."""
    variables = {
        **scan.load_thresholds(scan.CHECKS_DIR / scan.THRESHOLDS_FILE),
        **scan.schema_variables("prod"),
        **scan.month_variables(None, None),
        "accepted_months": scan.NO_ACCEPTED_MONTHS,
    }
    return yaml.safe_load(scan.render_checks(scan.CHECKS_DIR, variables)["raw.yml"])["checks"]


def freshness_check(name_start: str) -> tuple[str, str]:
    """(name, fail query) of the raw.yml failed-rows check whose name starts so."""
    for check in rendered_raw_checks():
        body = check.get("failed rows", {})
        if body.get("name", "").startswith(name_start):
            return body["name"], body["fail query"]
    raise AssertionError(f"no check named {name_start!r} in checks/raw.yml")


def test_the_header_names_the_landed_months_not_the_open_range() -> None:
    header = report(["2024-09", "2024-10"]).render().splitlines()[0]
    assert header.endswith("environment 'prod': staging, intermediate, marts; landed months 2024-09..2024-10"), header
    assert "9999" not in header


def test_the_header_shows_gaps_an_asked_range_and_no_months() -> None:
    assert report(["2024-01", "2024-02", "2024-05"]).months_text() == "landed months 2024-01..2024-02, 2024-05"
    assert report(["2024-12", "2025-01"]).months_text() == "landed months 2024-12..2025-01"
    asked = report(["2024-10"], "2024-10", "2024-12").months_text()
    assert asked == "landed months 2024-10 of 2024-10..2024-12 asked"
    assert report([]).months_text() == "no landed months"
    assert report(None).months_text() == "landed months not read"  # a scan that stopped before reading them


def test_the_landed_months_are_read_within_the_checked_range(tmp_path: Path) -> None:
    path = tiny_warehouse(
        tmp_path / "warehouse.duckdb",
        {"raw_tlc.yellow_trips": ["2024-09", "2024-10", "2024-11"], "raw_citibike.trips": ["2024-08"]},
    )
    everything = {**scan.schema_variables("prod"), **scan.month_variables(None, None)}
    assert scan.landed_months(path, everything) == ["2024-08", "2024-09", "2024-10", "2024-11"]
    october_on = {**scan.schema_variables("prod"), **scan.month_variables("2024-10", "2024-12")}
    assert scan.landed_months(path, october_on) == ["2024-10", "2024-11"]
    assert scan.landed_months(tmp_path / "missing.duckdb", everything) is None


def test_a_freshness_warning_names_each_table_and_how_many_months_behind(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "warehouse.duckdb", {table: ["2024-10"] for table in MONTHLY_TABLES})
    name, query = freshness_check("raw freshness: the newest landed month")
    with duckdb.connect(str(path), read_only=True) as connection:
        cursor = connection.execute(query)
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
        (behind,) = connection.execute("SELECT DATE_DIFF('month', DATE '2024-10-01', CURRENT_DATE)").fetchone()
    result = scan.CheckResult(
        outcome="warn",
        name=name,
        dataset=None,
        location="raw.yml:158",
        value=len(rows),
        details={},
        sample=scan.Sample(columns, rows, len(rows)),
        failed_rows=True,
    )

    lines = scan.render_result(result)

    assert lines[1] == "        failing rows: 4"
    assert not any("value:" in line for line in lines)
    for table in MONTHLY_TABLES:
        expected = f"        - {table}: newest landed month 2024-10, {behind} months behind today (warns above 4)"
        assert expected in lines, "\n".join(lines)


def test_a_load_age_warning_names_each_table_and_how_many_days(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "warehouse.duckdb", {table: ["2024-10"] for table in MONTHLY_TABLES})
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE TABLE raw_tlc.taxi_zones (_dlt_load_id VARCHAR)")
    _, query = freshness_check("raw freshness: a raw table received no rows")
    with duckdb.connect(str(path), read_only=True) as connection:
        findings = [row[0] for row in connection.execute(query).fetchall()]
    assert "raw_tlc.taxi_zones: no rows landed yet" in findings
    landed = "raw_tlc.yellow_trips: rows last landed 2023-11-14, "
    assert any(finding.startswith(landed) and finding.endswith("days ago (warns above 35)") for finding in findings)


@pytest.mark.parametrize("failed_rows, label", [(True, "failing rows: 3"), (False, "value: 3")])
def test_a_row_count_is_called_one(failed_rows: bool, label: str) -> None:
    result = scan.CheckResult("warn", "some check", "fct", "marts.yml:1", 3, {}, failed_rows=failed_rows)
    assert scan.render_result(result)[1] == f"        {label}"


def test_rows_without_a_finding_are_shown_as_a_table() -> None:
    sample = scan.Sample(["trip_id", "fare"], [("a", 1), ("b", 2)], 7)
    result = scan.CheckResult("fail", "fares", None, "marts.yml:9", 7, {}, sample=sample, failed_rows=True)
    lines = scan.render_result(result)
    assert "        sample (2 of 7 failing rows):" in lines
    assert any(line.strip().startswith("trip_id | fare") for line in lines)
