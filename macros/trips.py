"""Macros shared by the trip models: stable ids, stray detection, invalid-row reasons, money and zones."""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

FIRST_ZONE_ID, LAST_ZONE_ID = 1, 263  # 264 (Unknown) and 265 (Outside of NYC) are not real pickup zones


def _sql(evaluator: MacroEvaluator, expression: exp.Expression) -> str:
    return expression.sql(dialect=evaluator.dialect)


@macro()
def row_id(evaluator: MacroEvaluator, source_file: exp.Expression, source_row: exp.Expression) -> str:
    """A stable id for a raw row: the MD5 of its source file and 0-based row number."""
    return f"MD5({_sql(evaluator, source_file)} || ':' || CAST({_sql(evaluator, source_row)} AS TEXT))"


@macro()
def is_stray(evaluator: MacroEvaluator, event_at: exp.Expression, source_month: exp.Expression) -> str:
    """TRUE when the event falls outside the month of the file it came in (or has no time at all)."""
    event, month = _sql(evaluator, event_at), _sql(evaluator, source_month)
    return f"COALESCE(CAST(DATE_TRUNC('month', {event}) AS DATE) <> {month}, TRUE)"


@macro()
def money(evaluator: MacroEvaluator, amount: exp.Expression) -> str:
    """Dollars as DECIMAL(10, 2)."""
    return f"CAST({_sql(evaluator, amount)} AS DECIMAL(10, 2))"


@macro()
def is_known_zone(evaluator: MacroEvaluator, zone_id: exp.Expression) -> str:
    """TRUE for a TLC taxi zone a trip can really start or end in (1..263)."""
    return f"COALESCE({_sql(evaluator, zone_id)} BETWEEN {FIRST_ZONE_ID} AND {LAST_ZONE_ID}, FALSE)"


@macro()
def taxi_invalid_reason(
    evaluator: MacroEvaluator,
    pickup_at: exp.Expression,
    dropoff_at: exp.Expression,
    source_month: exp.Expression,
    fare_amount: exp.Expression,
    trip_distance: exp.Expression,
    pickup_zone_id: exp.Expression,
    dropoff_zone_id: exp.Expression,
    passenger_count: exp.Expression,
) -> str:
    """The first rule a TLC trip breaks, or NULL for a valid trip."""
    s = lambda e: _sql(evaluator, e)  # noqa: E731
    return f"""CASE
      WHEN {is_stray(evaluator, pickup_at, source_month)} THEN 'stray_pickup'
      WHEN {s(dropoff_at)} IS NULL OR {s(dropoff_at)} < {s(pickup_at)} THEN 'dropoff_before_pickup'
      WHEN {s(fare_amount)} IS NULL OR {s(fare_amount)} < 0 THEN 'negative_fare'
      WHEN {s(trip_distance)} IS NULL OR {s(trip_distance)} <= 0 THEN 'zero_distance'
      WHEN NOT {is_known_zone(evaluator, pickup_zone_id)}
        OR NOT {is_known_zone(evaluator, dropoff_zone_id)} THEN 'unknown_zone'
      WHEN {s(passenger_count)} IS NULL THEN 'null_passenger_count'
    END"""
