"""ops/parity.py's comparison: what counts as equal for each kind of column, and that a difference is reported."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from ops.parity import column_kind, compare_frames, report, values_equal


def test_kinds_follow_the_duckdb_types() -> None:
    assert column_kind("BIGINT") == "integer"
    assert column_kind("DECIMAL(18,2)") == "money"
    assert column_kind("DOUBLE") == "float"
    assert column_kind("TIMESTAMP") == "time"
    assert column_kind("VARCHAR") == "exact"


def test_integers_are_exact_money_to_the_cent_floats_to_1e9_relative() -> None:
    assert values_equal("integer", 3, 3.0) and not values_equal("integer", 3, 4)
    assert values_equal("money", Decimal("4.22"), 4.22) and not values_equal("money", Decimal("4.22"), Decimal("4.23"))
    assert values_equal("float", 1.0, 1.0 + 1e-12) and not values_equal("float", 1.0, 1.0 + 1e-6)
    assert values_equal("float", None, float("nan")) and not values_equal("float", None, 0.0)
    assert values_equal("time", pd.Timestamp("2024-09-01 04:00"), dt.datetime(2024, 9, 1, 4))
    assert not values_equal("exact", "Manhattan", "Queens")


def test_rows_are_matched_by_grain_and_a_difference_is_reported() -> None:
    kinds = {"zone": "integer", "trips": "integer", "fare": "money"}
    duckdb_rows = pd.DataFrame({"zone": [1, 2], "trips": [10, 20], "fare": [Decimal("1.00"), Decimal("2.00")]})
    spark_rows = pd.DataFrame({"zone": [2, 1], "trips": [20, 10], "fare": [Decimal("2.00"), Decimal("1.00")]})
    assert compare_frames("marts.m", kinds, ["zone"], duckdb_rows, spark_rows).equal

    spark_rows.loc[0, "trips"] = 21
    result = compare_frames("marts.m", kinds, ["zone"], duckdb_rows, spark_rows)
    assert not result.equal
    assert list(result.differences) == ["trips"]
    assert "0 of 1 marts equal" in report([result])
    assert compare_frames("marts.m", kinds, ["zone"], duckdb_rows, spark_rows.head(1)).problem == "row counts differ"
