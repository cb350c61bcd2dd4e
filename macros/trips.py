"""Macros shared by the trip models: stable ids, stray detection, money, and the exclusion rules of the validity
policy (docs/validity_policy.md). Every macro returns a SQLGlot expression; the exclusion rules read the business
names the staging models give the raw columns in their `renamed` CTE, so yellow, green and bikes share one rule set.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

VOIDED_TRIP = 6  # TLC payment type "Voided trip"
NEW_YORK = "America/New_York"  # the zone of every TLC and Citi Bike wall-clock time


def _column(name: str) -> exp.Column:
    return exp.column(name)


def _stray(event_at: exp.Expression, source_month: exp.Expression) -> exp.Expression:
    """TRUE when the event falls outside the month of its file (or has no time at all)."""
    month_of_event = exp.cast(exp.func("DATE_TRUNC", exp.Literal.string("month"), event_at, dialect="duckdb"), "DATE")
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


def _convert(timestamp: exp.Expression, source: str, target: str) -> exp.Expression:
    """A naive time in zone `source` as the naive time in zone `target`, typed TIMESTAMP.

    Written as the text CONVERT_TIMEZONE(source, target, t): SQLMesh re-parses a macro's output from DuckDB SQL, and
    SQLGlot reads that name as its ConvertTimezone, which it renders as AT TIME ZONE twice on DuckDB and as
    CONVERT_TIMEZONE on Spark. The AT TIME ZONE text itself would reach Spark as FROM_UTC_TIMESTAMP, which converts
    the other way.
    """
    converted = exp.Anonymous(
        this="CONVERT_TIMEZONE", expressions=[exp.Literal.string(source), exp.Literal.string(target), timestamp]
    )
    return exp.cast(converted, "TIMESTAMP")  # typed, so SQLMesh knows the column's type


def _hour(timestamp: exp.Expression) -> exp.Expression:
    return exp.func("DATE_TRUNC", exp.Literal.string("HOUR"), timestamp, dialect="duckdb")


@macro()
def utc_to_local(evaluator: MacroEvaluator, utc_at: exp.Expression) -> exp.Expression:
    """A UTC instant as naive New York wall-clock time."""
    return _convert(utc_at, "UTC", NEW_YORK)


@macro()
def local_hour_as_utc(evaluator: MacroEvaluator, local_at: exp.Expression) -> exp.Expression:
    """The UTC start (naive) of the hour a naive New York wall-clock time falls in.

    A wall-clock time skipped at spring-forward lands in the hour after; one repeated at fall-back resolves to
    standard time (the later instant), so each trip is counted in exactly one UTC hour whatever the session time
    zone. Engines resolve that repeated hour differently (DuckDB to standard time, Spark to daylight time), so the
    macro asks explicitly: when the hour after the engine's answer still reads as the same wall-clock hour, the
    answer was the daylight one and the later hour is taken.
    """
    local_hour = _hour(local_at)
    guess = _hour(_convert(local_hour, NEW_YORK, "UTC"))
    later = exp.Add(this=guess, expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.Var(this="HOUR")))
    repeated = exp.EQ(this=_convert(later.copy(), "UTC", NEW_YORK), expression=local_hour.copy())
    return exp.Case().when(repeated, later).else_(guess.copy())
