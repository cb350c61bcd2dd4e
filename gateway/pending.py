"""Months that must be restated, kept in the warehouse itself until a restatement of them succeeds.

When a monthly raw table is landed again for a month it already holds (a republished file), or lands a month other
sources already hold (prod may have built the month without it), the marts built from the old raw rows are stale
until the month is restated. That fact must outlive the process that found it: `gate.pending_restatements` holds
one row per (raw table, month). The ingest writes the row *before* dlt replaces the month (write-ahead), and takes
it back only when the landed content turned out unchanged; so a process killed after the landing, or an ingest
that fails half way, leaves the month pending, never forgotten. A restatement that passes its checks deletes its
months' rows in the candidate copy it swaps in (ops/restate.py): the restated data and the cleared rows become
prod together. Every command that touches prod reports what is pending (ops/recover.py).

On the spark gateway the rows live in `lake/pending.duckdb` beside the lake (no DuckDB warehouse there).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

import gateway

TABLE = "gate.pending_restatements"
DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
  raw_table VARCHAR NOT NULL,     -- schema.table of a monthly raw table
  source_month DATE NOT NULL,     -- the month whose marts are stale until restated
  reason VARCHAR NOT NULL,        -- re-landed (content may change) or landed after other sources of the month
  recorded_at TIMESTAMP NOT NULL, -- UTC
  PRIMARY KEY (raw_table, source_month)
)
"""


def path() -> Path:
    """The DuckDB file that holds the pending restatements of the gateway in use."""
    return gateway.lake_dir() / "pending.duckdb" if gateway.engine() == "spark" else gateway.warehouse_path()


def _connect(file: Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    file = file or path()
    if not read_only:
        file.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = duckdb.connect(str(file), read_only=read_only)
    except duckdb.IOException as error:
        if not gateway.is_lock_conflict(error):
            raise gateway.damaged(file, error) from None
        raise
    if not read_only:
        connection.execute("CREATE SCHEMA IF NOT EXISTS gate")
        connection.execute(DDL)
    return connection


def record(table: str, month: date, reason: str) -> bool:
    """Marks a month pending before it is landed again; True when this call added the row (it was not pending)."""
    with _connect() as connection:
        before = connection.execute(
            f"SELECT count(*) FROM {TABLE} WHERE raw_table = ? AND source_month = ?", [table, month]
        ).fetchone()[0]
        if before:
            return False
        connection.execute(
            f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?)", [table, month, reason, datetime.now(UTC).replace(tzinfo=None)]
        )
    return True


def withdraw(table: str, month: date) -> None:
    """Takes back a row `record` added, when the landing left the month's content as it was."""
    with _connect() as connection:
        connection.execute(f"DELETE FROM {TABLE} WHERE raw_table = ? AND source_month = ?", [table, month])


def clear(months: list[date], file: Path | None = None) -> None:
    """Deletes the rows of restated months, in the given warehouse file (a candidate copy before its swap)."""
    with _connect(file) as connection:
        connection.execute(f"DELETE FROM {TABLE} WHERE source_month IN (SELECT unnest(?::DATE[]))", [months])


def rows() -> list[tuple[str, date, str, datetime]]:
    """(raw table, month, reason, recorded at) of every pending month, oldest month first; none before any.

    Read-only; a file another process is writing reads as nothing pending (that writer reports it)."""
    if not path().exists():
        return []
    try:
        with _connect(read_only=True) as connection:
            return connection.execute(f"SELECT * FROM {TABLE} ORDER BY source_month, raw_table").fetchall()
    except duckdb.CatalogException:
        return []  # no month was ever landed twice
    except (duckdb.IOException, duckdb.ConnectionException) as error:
        if gateway.is_lock_conflict(error) or "different configuration" in str(error):
            return []
        raise


def months() -> list[date]:
    """The distinct pending months."""
    return sorted({month for _, month, _, _ in rows()})


def describe() -> str | None:
    """One line naming the pending months and their tables, or None when nothing is pending."""
    found = rows()
    if not found:
        return None
    listed = "; ".join(f"{table} {month:%Y-%m} ({reason})" for table, month, reason, _ in found)
    labels = sorted({f"{month:%Y-%m}" for _, month, _, _ in found})
    return (
        f"{len(labels)} month(s) await restatement in prod: {listed}. The next `make ingest` or `make run` restates "
        f"them through the checks, or now: make restate MONTH={labels[0]}"
        + (f":{labels[-1]}" if len(labels) > 1 else "")
    )
