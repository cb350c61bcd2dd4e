"""dev and prod are virtual environments: promotion computes nothing, a change rebuilds only what it touches."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from sqlmesh import Context
from sqlmesh.core.console import NoopConsole, set_console

from tests.conftest import query, run_command

BATCH = re.compile(r"(\w+)__(\w+)\.(\w+)\s+\[(?:insert|full refresh|replace)")


def rebuilt(plan_output: str) -> set[str]:
    """The models whose batches a plan's output shows being executed."""
    return {f"{schema}.{name}" for schema, _, name in BATCH.findall(plan_output)}


def plan(project: Path, data: Path, environment: str) -> str:
    """Plans and applies an environment from a project copy; returns its output."""
    result = run_command(data, "sqlmesh", "plan", environment, "--auto-apply", "--no-prompts", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def view_table(data: Path, schema: str, view: str) -> str:
    """The physical sqlmesh__ table an environment's view selects from, read from the view's definition."""
    ((sql,),) = query(data, f"SELECT sql FROM duckdb_views() WHERE schema_name = '{schema}' AND view_name = '{view}'")
    return re.search(r"sqlmesh__\w+\.\w+", sql.replace('"', "")).group(0)


def state_table(project: Path, data: Path, environment: str, model: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The physical table of a model's snapshot in an environment, as SQLMesh's state records it."""
    monkeypatch.setenv("MOBILITY_DATA_DIR", str(data))
    set_console(NoopConsole())
    context = Context(paths=str(project), load=False)
    try:
        (snapshot,) = [
            s
            for s in context.state_reader.get_environment(environment).snapshots
            if s.name.replace('"', "").endswith(f".{model}")
        ]
        return ".".join(snapshot.table_name().replace('"', "").split(".")[-2:])  # schema.table, no catalog
    finally:
        context.close()


def test_a_dev_change_shows_in_prod_only_once_promoted_onto_devs_table(
    scratch: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change planned in dev is visible in dev and not in prod; promotion points prod's view at dev's table."""
    project, data = scratch
    model = project / "models/marts/core/dim_date.sql"
    text = model.read_text()
    day_name = "STRFTIME(calendar_date, '%A') AS day_name"
    assert day_name in text, "update this test to the current dim_date"
    model.write_text(text.replace(day_name, f"UPPER({day_name.removesuffix(' AS day_name')}) AS day_name"))
    unit_test = project / "tests/test_dim_date.yaml"  # the change's unit test changes with it, as a developer would
    unit_test.write_text(
        re.sub(r"day_name: (\w+)", lambda day: f"day_name: {day.group(1).upper()}", unit_test.read_text())
    )
    day = "SELECT day_name FROM {}.dim_date WHERE calendar_date = DATE '2024-09-02'"
    prod_before = view_table(data, "marts", "dim_date")
    plan(project, data, "dev")
    assert query(data, day.format("marts__dev")) == [("MONDAY",)]
    assert query(data, day.format("marts")) == [("Monday",)], "a dev plan changed what prod serves"
    dev_table = view_table(data, "marts__dev", "dim_date")
    assert dev_table != prod_before
    assert view_table(data, "marts", "dim_date") == prod_before
    assert state_table(project, data, "dev", "dim_date", monkeypatch) == dev_table
    assert state_table(project, data, "prod", "dim_date", monkeypatch) == prod_before
    promoted = run_command(data, sys.executable, "-m", "checks.promote", "--env", "dev", cwd=project)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert query(data, day.format("marts")) == [("MONDAY",)]
    assert view_table(data, "marts", "dim_date") == dev_table
    assert state_table(project, data, "prod", "dim_date", monkeypatch) == dev_table


def test_promotion_to_prod_executed_no_batch(built_warehouse: Path) -> None:
    log = (built_warehouse / "prod_plan.log").read_text()
    assert "Virtual layer updated" in log
    assert "• 0/0" in log and not BATCH.search(log)
    assert query(built_warehouse, "SELECT count(*) > 0 FROM marts.fct_taxi_trips") == [(True,)]


def test_changing_a_leaf_mart_rebuilds_only_that_mart(scratch: tuple[Path, Path]) -> None:
    project, data = scratch
    model = project / "models/marts/taxi/agg_airport_trips_by_day.sql"
    text = model.read_text()
    assert "COUNT(*)::BIGINT AS trips" in text
    model.write_text(text.replace("COUNT(*)::BIGINT AS trips", "(COUNT(*) + 0)::BIGINT AS trips", 1))
    assert rebuilt(plan(project, data, "feature")) == {"marts.agg_airport_trips_by_day"}


def test_changing_the_fact_rebuilds_it_and_its_downstream_only(scratch: tuple[Path, Path]) -> None:
    project, data = scratch
    model = project / "models/marts/taxi/fct_taxi_trips.sql"
    text = model.read_text()
    assert "WHERE\n  is_valid\n" in text
    model.write_text(text.replace("WHERE\n  is_valid\n", "WHERE\n  is_valid IS TRUE\n", 1))
    assert rebuilt(plan(project, data, "feature")) == {
        "marts.fct_taxi_trips",
        "marts.agg_taxi_demand_by_zone_hour",
        "marts.agg_taxi_revenue_by_payment_day",
        "marts.agg_taxi_revenue_by_payment_month",
        "marts.agg_airport_trips_by_day",
        "marts.agg_cbd_congestion_fees_by_day",
        "marts.agg_taxi_vs_bike_by_day",
        "marts.agg_taxi_vs_bike_by_borough_month",
        "marts.agg_trips_by_weather_hour",
    }
    assert query(data, "SELECT count(*) FROM marts.fct_taxi_trips") == query(
        data, "SELECT count(*) FROM marts__feature.fct_taxi_trips"
    )
