"""ops/readiness.py: months waiting for a source are said once per missing source, and `make plan` starts at the
first landed month, so a plan never lists the years before any data as backfill. No build: a tiny DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ops import readiness


def tiny_warehouse(path: Path, months: dict[str, list[str]]) -> Path:
    """A DuckDB file whose raw tables hold one row per given month (YYYY-MM)."""
    with duckdb.connect(str(path)) as connection:
        for table, landed in months.items():
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
            connection.execute(f"CREATE TABLE {table} (source_month DATE)")
            connection.executemany(f"INSERT INTO {table} VALUES (?)", [[f"{month}-01"] for month in landed])
    return path


def test_waiting_months_are_said_once_per_missing_raw_table_not_per_model_and_month() -> None:
    inputs = {
        "marts.fct_bike_trips": (["raw_citibike.trips"], "all"),
        "marts.agg_taxi_vs_bike_by_day": (["raw_tlc.yellow_trips", "raw_citibike.trips"], "all"),
        "marts.fct_taxi_trips": (["raw_tlc.yellow_trips", "raw_tlc.green_trips"], "any"),
        "marts.fct_weather": (["raw_tlc.green_trips"], "all"),
        "marts.agg_green_and_bike": (["raw_tlc.green_trips", "raw_citibike.trips"], "all"),
    }
    landed = {
        "raw_tlc.yellow_trips": {"2024-09", "2024-10", "2024-11", "2024-12"},
        "raw_tlc.green_trips": {"2024-09"},
        "raw_citibike.trips": {"2024-09", "2024-10"},
    }

    lines = readiness.waiting_lines(readiness.waiting(inputs, landed))

    assert lines == [  # fct_taxi_trips builds with yellow alone (landed_in 'any'): it waits for nothing
        "  Waiting for raw_tlc.green_trips (2024-10..2024-12): marts.agg_green_and_bike, marts.fct_weather",
        "  Waiting for raw_citibike.trips (2024-11..2024-12): "
        "marts.agg_green_and_bike, marts.agg_taxi_vs_bike_by_day, marts.fct_bike_trips",
    ]


def test_plan_starts_at_the_first_landed_month_of_any_source(tmp_path: Path) -> None:
    path = tiny_warehouse(
        tmp_path / "warehouse.duckdb",
        {"raw_tlc.yellow_trips": ["2024-10", "2024-11"], "raw_citibike.trips": ["2024-09"]},
    )
    assert readiness.plan_start("dev", path) == "--start 2024-09-01"
    assert readiness.plan_start("pr_feature", path) == "--start 2024-09-01"


def test_prod_an_empty_or_missing_warehouse_plan_from_the_models_start(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "warehouse.duckdb", {"raw_tlc.yellow_trips": ["2024-10"]})
    assert readiness.plan_start("prod", path) == ""  # SQLMesh refuses a start on a prod plan without restatements
    assert readiness.plan_start("dev", tiny_warehouse(tmp_path / "empty.duckdb", {})) == ""
    assert readiness.plan_start("dev", tmp_path / "missing.duckdb") == ""


def test_month_runs() -> None:
    assert readiness.month_runs(["2024-12", "2025-01", "2025-03"]) == "2024-12..2025-01, 2025-03"
    assert readiness.month_runs([]) == ""


def test_the_report_says_each_wait_once(tmp_path: Path) -> None:
    path = tiny_warehouse(
        tmp_path / "warehouse.duckdb",
        {
            "raw_tlc.yellow_trips": ["2024-09", "2024-10"],
            "raw_tlc.green_trips": ["2024-09", "2024-10"],
            "raw_citibike.trips": ["2024-09"],
            "raw_weather.hourly": ["2024-09", "2024-10"],
        },
    )
    lines = readiness.report(path).splitlines()
    waits = [line for line in lines if "raw_citibike.trips (" in line]
    assert len(waits) == 1 and waits[0].startswith("  Waiting for raw_citibike.trips (2024-10): "), lines
    assert "marts.fct_bike_trips" in waits[0]
    assert len(lines) == 2, lines  # the landed months, then one line per raw table waited for
