"""Macros shared by the trip models: stable ids, stray detection, money, and the exclusion rules of the validity
policy (docs/validity_policy.md). Every macro returns a SQLGlot expression; the exclusion rules read the business
names the staging models give the raw columns in their `renamed` CTE, so yellow, green and bikes share one rule set.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

VOIDED_TRIP = 6  # TLC payment type "Voided trip"


def _column(name: str) -> exp.Column:
    return exp.column(name)


def _stray(event_at: exp.Expression, source_month: exp.Expression) -> exp.Expression:
    """TRUE when the event falls outside the month of its file (or has no time at all)."""
    month_of_event = exp.cast(exp.func("DATE_TRUNC", exp.Literal.string("month"), event_at), "DATE")
    return exp.func("COALESCE", exp.NEQ(this=month_of_event, expression=source_month), exp.true())


def _first_rule(rules: list[tuple[exp.Expression, str]]) -> exp.Case:
    """CASE WHEN rule THEN 'reason' ... END: the first rule a row breaks, NULL when it breaks none."""
    case = exp.Case()
    for condition, reason in rules:
        case = case.when(condition, exp.Literal.string(reason))
    return case


@macro()
def row_id(evaluator: MacroEvaluator, source_file: exp.Expression, source_row: exp.Expression) -> exp.Expression:
    """A stable id for a raw row: the MD5 of its source file and 0-based row number."""
    key = exp.DPipe(
        this=exp.DPipe(this=source_file, expression=exp.Literal.string(":")),
        expression=exp.cast(source_row, "TEXT"),
    )
    return exp.func("MD5", key)


@macro()
def is_stray(evaluator: MacroEvaluator, event_at: exp.Expression, source_month: exp.Expression) -> exp.Expression:
    """TRUE when the event falls outside the month of the file it came in (or has no time at all)."""
    return _stray(event_at, source_month)


@macro()
def money(evaluator: MacroEvaluator, amount: exp.Expression) -> exp.Expression:
    """Dollars as DECIMAL(18, 2); a value that is not a number becomes NULL instead of stopping the build."""
    return exp.TryCast(this=amount, to=exp.DataType.build("DECIMAL(18, 2)"))


@macro()
def taxi_exclusion_reason(evaluator: MacroEvaluator) -> exp.Expression:
    """The first rule that makes a TLC row not a usable trip, or NULL for a trip (reads the renamed columns).

    missing_time, stray_pickup and dropoff_before_pickup: the row cannot be placed in time. voided_trip (payment
    type 6) and reversal (negative total: the TLC's record of a refund, dispute or void of a charged trip) are
    provably not trips of their own. Unknown values and implausible measures never exclude a row.
    """
    pickup_at, dropoff_at = _column("pickup_at"), _column("dropoff_at")
    return _first_rule(
        [
            (exp.or_(pickup_at.is_(exp.null()), dropoff_at.is_(exp.null())), "missing_time"),
            (_stray(pickup_at, _column("source_month")), "stray_pickup"),
            (exp.LT(this=dropoff_at, expression=pickup_at), "dropoff_before_pickup"),
            (exp.EQ(this=_column("payment_type_id"), expression=exp.Literal.number(VOIDED_TRIP)), "voided_trip"),
            (exp.LT(this=_column("total_amount"), expression=exp.Literal.number(0)), "reversal"),
        ]
    )


@macro()
def bike_exclusion_reason(evaluator: MacroEvaluator) -> exp.Expression:
    """The first rule that makes a Citi Bike row not a usable ride, or NULL for a ride (reads the renamed columns).

    Only time decides: a ride without a start or end station, of an unknown rider type or of weeks stays a ride.
    """
    started_at, ended_at = _column("started_at"), _column("ended_at")
    return _first_rule(
        [
            (exp.or_(started_at.is_(exp.null()), ended_at.is_(exp.null())), "missing_time"),
            (_stray(started_at, _column("source_month")), "stray_start"),
            (exp.LT(this=ended_at, expression=started_at), "ended_before_started"),
        ]
    )


@macro()
def local_hour_as_utc(evaluator: MacroEvaluator, local_at: exp.Expression) -> exp.Expression:
    """The UTC start (naive) of the hour a naive New York wall-clock time falls in.

    A wall-clock time skipped at spring-forward lands in the hour after; one repeated at fall-back resolves to
    standard time, so each trip is counted in exactly one UTC hour whatever the session time zone.
    """
    local_hour = exp.func("DATE_TRUNC", exp.Literal.string("HOUR"), local_at)
    instant = exp.func("TIMEZONE", exp.Literal.string("America/New_York"), local_hour)
    return exp.func("DATE_TRUNC", exp.Literal.string("HOUR"), exp.func("TIMEZONE", exp.Literal.string("UTC"), instant))
