"""Mutation tests of the gate: each classic aggregation bug, applied to a copy of the models, is stopped by it.

Every mutation below passes SQLMesh's own plan (the SQL is valid, the grain and the keys hold) and changes what a mart
says. The gate must refuse it with the failing check named (a unit test during the build, or a Soda check during the
scan), and prod must stay exactly as it was. `MUTATIONS` is the table the issue asks for: the model, the edit, and the
check expected to catch it; the value each check saw is in the gate's output, which the assertion message shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.gate.conftest import Workspace, prod_state

pytestmark = pytest.mark.slow  # one gate run per mutation, about a minute each


@dataclass(frozen=True)
class Mutation:
    """One wrong change to a model: the file, a regex of the right SQL and its wrong replacement, who catches it."""

    model: str
    pattern: str
    replacement: str
    caught_by: str


TAXI = "models/marts/taxi"
MUTATIONS = {
    "sum_distinct": Mutation(
        f"{TAXI}/agg_airport_trips_by_day.sql",
        r"SUM\(trips\.airport_fee_amount\)",
        "SUM(DISTINCT trips.airport_fee_amount)",
        "test_agg_airport_trips_by_day",
    ),
    "average_of_ratios": Mutation(
        f"{TAXI}/agg_taxi_revenue_by_payment_day.sql",
        r"SUM\(trips\.tip_amount\)::DOUBLE / NULLIF\(SUM\(trips\.fare_amount\), 0\)",
        "AVG(trips.tip_amount::DOUBLE / NULLIF(trips.fare_amount, 0))",
        "test_agg_taxi_revenue_by_payment_day",
    ),
    "duplicating_join": Mutation(
        f"{TAXI}/agg_taxi_demand_by_zone_hour.sql",
        r"FROM marts\.fct_taxi_trips\b",
        "FROM marts.fct_taxi_trips JOIN marts.dim_zones AS zones ON zones.zone_id IN (pickup_zone_id, -1)",
        "agg_taxi_demand_by_zone_hour equals its restatement over raw",
    ),
    "dropped_service": Mutation(
        f"{TAXI}/fct_taxi_trips.sql",
        r"^WHERE\n  is_valid\n",
        "WHERE\n  is_valid AND service_type = 'yellow'\n",
        "fct_taxi_trips equals its restatement over raw",
    ),
    "shifted_hour": Mutation(
        f"{TAXI}/agg_taxi_demand_by_zone_hour.sql",
        r"DATE_TRUNC\('HOUR', pickup_at\) AS pickup_hour_at",
        "DATE_TRUNC('HOUR', pickup_at) + INTERVAL 1 HOUR AS pickup_hour_at",
        "test_agg_taxi_demand_by_zone_hour",
    ),
    "fare_in_cents": Mutation(
        f"{TAXI}/fct_taxi_trips.sql",
        r"^  fare_amount, ",
        "  fare_amount * 100 AS fare_amount, ",
        "test_fct_taxi_trips",
    ),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_gate_stops_the_mutation_and_names_the_check(workspace: Workspace, name: str) -> None:
    mutation = MUTATIONS[name]
    workspace.edit(mutation.model, mutation.pattern, mutation.replacement)
    before = prod_state(workspace.data)

    result = workspace.promote()

    assert result.returncode != 0, result.stdout
    assert "NOT PROMOTED" in result.stdout
    assert mutation.caught_by in result.stdout, result.stdout[-4000:]
    assert prod_state(workspace.data) == before
    print(*(line for line in result.stdout.splitlines() if mutation.caught_by in line or "| " in line), sep="\n")
