"""Signals that mark an interval ready only once the raw data it reads has landed.

dlt lands each source a whole month at a time (`source_month` is the merge key), so a day is ready when the
month it falls in is present in every raw table the model reads. Days before the first landed month or after
the last one are never ready, so a plan or `sqlmesh run` spends no time on them even though the models start
early (model_defaults.start) and SQLMesh considers every day up to today missing.
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timedelta

from sqlmesh import signal

if t.TYPE_CHECKING:
    from sqlmesh.core.context import ExecutionContext
    from sqlmesh.utils.date import DatetimeRanges


def _months(start: datetime, end: datetime) -> set[tuple[int, int]]:
    """The (year, month) pairs an interval [start, end) touches."""
    last = end - timedelta(microseconds=1)
    months, year, month = set(), start.year, start.month
    while (year, month) <= (last.year, last.month):
        months.add((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _landed_months(context: ExecutionContext, table: str) -> set[tuple[int, int]]:
    """The months present in a raw table; nothing when the table does not exist yet."""
    schema, name = table.split(".")
    adapter = context.engine_adapter
    if not adapter.table_exists(table):
        return set()
    rows = adapter.fetchall(f'SELECT DISTINCT source_month FROM "{schema}"."{name}"')
    return {(row[0].year, row[0].month) for row in rows if row[0] is not None}


@signal()
def raw_months_landed(batch: DatetimeRanges, context: ExecutionContext, tables: list[str]) -> bool | DatetimeRanges:
    """Ready: the intervals whose months have landed in every one of `tables` (schema.table)."""
    landed = set.intersection(*(_landed_months(context, table) for table in tables))
    return [(start, end) for start, end in batch if _months(start, end) <= landed]


@signal()
def raw_hours_landed(
    batch: DatetimeRanges, context: ExecutionContext, table: str, column: str
) -> bool | DatetimeRanges:
    """Ready: the intervals whose last hour is present in `table`.`column` (for sources that lag by days)."""
    if not context.engine_adapter.table_exists(table):
        return False
    hours = {
        row[0]
        for row in context.engine_adapter.fetchall(
            f"SELECT DISTINCT date_trunc('hour', {column}) FROM {table} "
            f"WHERE {column} >= '{batch[0][0]:%Y-%m-%d %H:%M:%S}' AND {column} < '{batch[-1][1]:%Y-%m-%d %H:%M:%S}'"
        )
    }
    return [(start, end) for start, end in batch if end.replace(tzinfo=None) - timedelta(hours=1) in hours]
