"""dev and prod are virtual environments: promotion computes nothing, a change rebuilds only what it touches."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_promotion_to_prod_executed_no_batch(built_warehouse: Path) -> None:
    log = (built_warehouse / "prod_plan.log").read_text()
    assert "Virtual layer updated" in log
    assert "• 0/0" in log and not BATCH.search(log)
    assert query(built_warehouse, "SELECT count(*) > 0 FROM marts.fct_taxi_trips") == [(True,)]


def test_changing_a_leaf_mart_rebuilds_only_that_mart(scratch: tuple[Path, Path]) -> None:
    project, data = scratch
    model = project / "models/marts/taxi/agg_airport_trips_by_day.sql"
    model.write_text(model.read_text().replace("COUNT(*) AS trips", "COUNT(*) + 0 AS trips", 1))
    assert rebuilt(plan(project, data, "feature")) == {"marts.agg_airport_trips_by_day"}


def test_changing_the_fact_rebuilds_it_and_its_downstream_only(scratch: tuple[Path, Path]) -> None:
    project, data = scratch
    model = project / "models/marts/taxi/fct_taxi_trips.sql"
    text = model.read_text()
    assert "WHERE\n    is_valid\n" in text
    model.write_text(text.replace("WHERE\n    is_valid\n", "WHERE\n    is_valid IS TRUE\n", 1))
    assert rebuilt(plan(project, data, "feature")) == {
        "marts.fct_taxi_trips",
        "marts.agg_taxi_demand_by_zone_hour",
        "marts.agg_taxi_revenue_by_payment_day",
        "marts.agg_airport_trips_by_day",
        "marts.agg_cbd_congestion_fees_by_day",
        "marts.agg_taxi_vs_bike_by_day",
        "marts.agg_trips_by_weather_hour",
    }
    assert query(data, "SELECT count(*) FROM marts.fct_taxi_trips") == query(
        data, "SELECT count(*) FROM marts__feature.fct_taxi_trips"
    )
