"""Signals that mark an interval ready only once the raw data it reads has landed.

dlt lands each source a whole month at a time (`source_month` is the merge key), so a day is ready when the
month it falls in is present in the raw tables the model reads: in every one of them (`landed_in := 'all'`, the
default, for models that combine sources) or in at least one (`landed_in := 'any'`, for a fact fed by yellow and
green alike: a month builds with whichever service has landed, and is restated when the other arrives). Days
before the first landed month or after the last one are never ready, so a plan or `sqlmesh run` spends no time on
them even though the models start early (model_defaults.start) and SQLMesh considers every day up to today missing.
`ops/readiness.py` reports, per month, which models wait for which table.

SQLMesh checks the signals of every model in one pass and calls a signal once per model and contiguous run of
missing days (before the first landed month, after the last); each raw table is read once per pass, not once per call.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlglot import exp
from sqlmesh import signal

if t.TYPE_CHECKING:
    from sqlmesh.core.context import ExecutionContext
    from sqlmesh.core.engine_adapter import EngineAdapter
    from sqlmesh.utils.date import DatetimeRanges

NEW_YORK = "America/New_York"
LANDED_IN = ("all", "any")
PASS_CACHE = "_landed_months_pass"  # attribute of the engine adapter: (snapshots of the pass, months by table)


def months_touched(start: datetime, end: datetime) -> set[tuple[int, int]]:
    """The (year, month) pairs an interval [start, end) touches."""
    last = end - timedelta(microseconds=1)
    months, year, month = set(), start.year, start.month
    while (year, month) <= (last.year, last.month):
        months.add((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def landed_months(adapter: EngineAdapter, table: str) -> set[tuple[int, int]]:
    """The months present in a raw table (schema.table); nothing when the table does not exist yet."""
    if not adapter.table_exists(table):
        return set()
    query = exp.select(exp.column("source_month")).distinct().from_(exp.to_table(table, quoted=True))
    return {(row[0].year, row[0].month) for row in adapter.fetchall(query) if row[0] is not None}


def pass_cache(context: ExecutionContext) -> dict[str, set[tuple[int, int]]]:
    """The landed months read so far in this signal pass, by raw table.

    Every model of one pass gets an ExecutionContext over the same snapshots mapping and engine adapter, so the
    cache lives on the adapter, tied to that mapping: a later pass (the next plan or run of a long-lived process)
    starts empty and reads the raw tables again. Every model of a pass sees the same landed months."""
    adapter = context.engine_adapter
    owner, months = getattr(adapter, PASS_CACHE, (None, {}))
    if owner is not context.snapshots:
        owner, months = context.snapshots, {}
        setattr(adapter, PASS_CACHE, (owner, months))
    return months


def ready_months(
    adapter: EngineAdapter, tables: list[str], landed_in: str = "all", cache: dict | None = None
) -> set[tuple[int, int]]:
    """The months a model reading `tables` may build: landed in all of them, or in any of them; `cache` keeps each
    table's months for the next call."""
    if landed_in not in LANDED_IN:
        raise ValueError(f"landed_in must be one of {LANDED_IN}, not {landed_in!r}")
    cache = {} if cache is None else cache
    for table in tables:
        if table not in cache:
            cache[table] = landed_months(adapter, table)
    months = [cache[table] for table in tables]
    return set.intersection(*months) if landed_in == "all" else set.union(*months)


@signal()
def raw_months_landed(
    batch: DatetimeRanges, context: ExecutionContext, tables: list[str], landed_in: str = "all"
) -> bool | DatetimeRanges:
    """Ready: the intervals whose months have landed in every one (or, with landed_in 'any', one) of `tables`."""
    ready = ready_months(context.engine_adapter, tables, landed_in, pass_cache(context))
    return [(start, end) for start, end in batch if months_touched(start, end) <= ready]


def as_utc(local: datetime) -> datetime:
    """A naive New York wall-clock time as a naive UTC time."""
    aware = local.replace(tzinfo=None).replace(tzinfo=ZoneInfo(NEW_YORK))
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


@signal()
def raw_hours_landed(
    batch: DatetimeRanges, context: ExecutionContext, table: str, column: str
) -> bool | DatetimeRanges:
    """Ready: the intervals (local days) whose last hour is present in `table`.`column` (UTC hours), for sources
    that lag by days."""
    adapter = context.engine_adapter
    if not adapter.table_exists(table):
        return False
    hour = exp.func("DATE_TRUNC", exp.Literal.string("hour"), exp.column(column, quoted=True), dialect="duckdb")
    first, last = as_utc(batch[0][0]) - timedelta(hours=1), as_utc(batch[-1][1]) + timedelta(hours=1)
    query = (
        exp.select(hour)
        .distinct()
        .from_(exp.to_table(table, quoted=True))
        .where(exp.column(column, quoted=True) >= exp.Literal.string(f"{first:%Y-%m-%d %H:%M:%S}"))
        .where(exp.column(column, quoted=True) < exp.Literal.string(f"{last:%Y-%m-%d %H:%M:%S}"))
    )
    hours = {row[0] for row in adapter.fetchall(query)}
    return [(start, end) for start, end in batch if as_utc(end - timedelta(hours=1)) in hours]
