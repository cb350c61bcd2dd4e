"""The reconciliation's tolerance for sums of floats: the summation order of millions of rows is not a defect, a
changed distance is."""

from __future__ import annotations

import duckdb
import pytest

from checks.reconcile import MARTS

DISTANCE = next(
    measure
    for mart in MARTS
    if mart.name == "fct_taxi_trips"
    for measure in mart.measures
    if measure.column == "trip_distance_miles"
)


@pytest.mark.parametrize(
    ("raw", "mart", "accepted"),
    [
        (61760803.03001839, 61760803.030019805, True),  # SCALE=1, three months of yellow: two summation orders
        (61760803.03001839, 61760806.03, False),  # one trip of three miles lost
        (12.5, 12.5 + 1e-12, True),
        (12.5, 12.51, False),
        (12.5 * 1.609344, 12.5, False),  # kilometres
    ],
)
def test_distance_sums_agree_up_to_their_summation_order(raw: float, mart: float, accepted: bool) -> None:
    query = f"SELECT ABS(raw_value - ?) <= {DISTANCE.bound()} FROM (SELECT ?::DOUBLE AS raw_value) AS expected"
    assert duckdb.sql(query.replace("?", "{}").format(mart, raw)).fetchone()[0] is accepted
