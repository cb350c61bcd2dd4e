"""What every source shares: downloads, month batching and the Arrow schema helpers (months: ingest/months.py,
constants: ingest/settings.py).

A source never opens a URL or a folder by itself: it asks `fetch()` for a relative path (the upstream layout) and
gets a local file back, whether the base is the real upstream, a mirror folder or a mirror served over HTTP.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import dlt
import numpy as np
import pyarrow as pa
import sqlglot
from dlt.common.libs.pyarrow import py_arrow_to_table_schema_columns
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.sources.helpers.requests import Client

from gateway import data_dir
from ingest import settings
from ingest.months import IngestError, Month

NAMING = NamingConvention()
FETCHED: list[Path] = []  # local files handed to sources in this process, newest last


@dataclass
class Tally:
    """What a resource over several months has read: rows and local file per month, and the month it is reading."""

    rows: dict[Month, int] = dataclasses.field(default_factory=dict)
    files: dict[Month, Path] = dataclasses.field(default_factory=dict)
    reading: Month | None = None


@dataclass(frozen=True)
class MonthSelect:
    """One month's file as a DuckDB SELECT in the raw schema, and the number of rows it selects."""

    sql: str
    schema: pa.Schema  # of the rows it selects, as Arrow batches of the month would have it
    num_rows: int


def sql_literal(text: str) -> str:
    """A SQL string literal (sqlglot quotes it)."""
    return sqlglot.exp.Literal.string(text).sql("duckdb")


def sql_identifier(name: str) -> str:
    """A quoted SQL identifier (sqlglot quotes it)."""
    return sqlglot.exp.to_identifier(name, quoted=True).sql("duckdb")


def months_model(dataset: dlt.Dataset, selects: list[MonthSelect]) -> object:
    """The months of one load as one dlt SQL model over the warehouse `dataset`, with the columns of their Arrow
    schemas as hints (dlt evolves the table as it would for Arrow batches; a month without a column new upstream
    gives NULL: UNION ALL BY NAME). dlt's loader runs it as one INSERT, so the load is all or nothing."""
    schema = pa.unify_schemas([select.schema for select in selects])
    body = " UNION ALL BY NAME ".join(select.sql for select in selects)
    # The query reads files, not tables of the dataset: dlt is told not to resolve its columns against the schema.
    query = f"SELECT {', '.join(map(sql_identifier, schema.names))} FROM ({body}) AS months"
    relation = dataset(query, _execute_raw_query=True)
    return dlt.mark.with_hints(relation, dlt.mark.make_hints(columns=py_arrow_to_table_schema_columns(schema)))


def each_month(
    months: list[Month],
    read: Callable[[Month], Iterator[pa.Table | MonthSelect]],
    tally: Tally,
    model: bool = False,
) -> Iterator[pa.Table | MonthSelect]:
    """Yields the batches (or SELECTs) of the months in turn, from `read(month)`, keeping count of each month's rows
    in `tally`.

    Stops after a month once LOAD_ROWS rows are read (MODEL_LOAD_ROWS when `read` gives SQL models; ingest/settings.py):
    the months not read (not in `tally.files`) go in the next load.
    """
    for month in months:
        if sum(tally.rows.values()) >= (settings.MODEL_LOAD_ROWS if model else settings.LOAD_ROWS):
            break
        tally.reading, tally.rows[month] = month, 0
        for table in read(month):
            tally.rows[month] += table.num_rows
            yield table
        tally.files[month] = FETCHED[-1]
    tally.reading = None


def in_row_groups(tables: Iterator[pa.Table], rows: int = 4 * settings.DUCKDB_ROW_GROUP_ROWS) -> Iterator[pa.Table]:
    """Re-cuts a stream of Arrow tables into tables of exactly `rows` rows (the last one shorter; a change of schema
    ends a table too). dlt writes each as one Parquet row group, and DuckDB inserts whole row groups of its own: a
    part-filled one costs it a rewrite at the next checkpoint (seconds for a month of rides) and room in the file."""
    pending: list[pa.Table] = []
    for table in tables:
        if pending and table.schema != pending[0].schema:
            yield pa.concat_tables(pending)
            pending = []
        pending.append(table)
        held = pa.concat_tables(pending)
        while held.num_rows >= rows:
            yield held.slice(0, rows)
            held = held.slice(rows)
        pending = [held] if held.num_rows else []
    if pending:
        yield pa.concat_tables(pending)


def check_mirror(mirror: str | None) -> str | None:
    """Accepts an existing folder or an http(s) URL as a mirror, refusing anything else before work starts."""
    if not mirror:
        return None
    parsed = urlparse(mirror)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return mirror.rstrip("/")
    if parsed.scheme == "" and Path(mirror).is_dir():
        return str(Path(mirror).resolve())
    raise IngestError(
        f"MIRROR='{mirror}' is neither an existing folder nor an http(s) URL. "
        "Point it at a folder written by `make sample` or at a server laid out like the upstream paths."
    )


def http_client() -> Client:
    """dlt's requests client: retries 429/5xx and timeouts with backoff, fails at once on other 4xx."""
    return Client(
        request_timeout=float(os.environ.get("MOBILITY_HTTP_TIMEOUT", "60")),
        request_max_attempts=int(os.environ.get("MOBILITY_HTTP_ATTEMPTS", "5")),
        request_backoff_factor=float(os.environ.get("MOBILITY_HTTP_BACKOFF", "1")),
        request_max_retry_delay=30,
    )


def location(base: str, relative: str) -> str:
    """Joins a base (URL or folder) and an upstream-relative path."""
    return f"{base.rstrip('/')}/{relative}"


def fetch(base: str, relative: str) -> Path:
    """Returns a local copy of `relative` under `base`: the file itself for a folder, a download otherwise.

    Downloads stream to a temporary file and are renamed into `$MOBILITY_DATA_DIR/downloads/` only when complete,
    so an interrupted download never looks like a file.
    """
    if not urlparse(base).scheme:
        local = Path(base) / relative
        if not local.is_file():
            raise IngestError(f"{local} does not exist in the mirror. Run `make sample` for that month or fix MIRROR.")
        FETCHED.append(local)
        return local
    url = location(base, relative)
    path, _, query = relative.partition("?")
    target = (
        data_dir() / "downloads" / (f"{path}/{hashlib.sha1(query.encode()).hexdigest()[:16]}.json" if query else path)
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    response = get(url, stream=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-", delete=False) as part:
        try:
            shutil.copyfileobj(response.raw, part, length=1 << 20)
        except Exception as error:
            Path(part.name).unlink(missing_ok=True)
            raise IngestError(f"Download of {url} broke off: {error}. Run the ingest again.") from error
    os.replace(part.name, target)
    FETCHED.append(target)
    return target


def get(url: str, **kwargs):
    """GETs a URL through dlt's retrying client, turning HTTP failures into one clear message."""
    from requests import HTTPError, RequestException

    try:
        return http_client().get(url, **kwargs)
    except HTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        detail = api_reason(error.response)
        hint = "the month is not published (yet) upstream" if status == 404 else "the server refused the request"
        raise IngestError(f"GET {url} failed with HTTP {status}{detail}: {hint}.") from error
    except RequestException as error:
        raise IngestError(
            f"GET {url} failed after retries: {type(error).__name__}: {error}. "
            "Check the network or MIRROR, then run the ingest again."
        ) from error


def api_reason(response) -> str:
    """Extracts Open-Meteo's `{"error": true, "reason": ...}` from an error response, if it is one."""
    try:
        body = response.json()
    except Exception:
        return ""
    if isinstance(body, dict) and body.get("error"):
        return f" (API error: {body.get('reason')})"
    return ""


def conform(table: pa.Table, schema: pa.Schema, renames: dict[str, str] | None = None) -> pa.Table:
    """Renames a batch to snake_case, casts known columns to `schema` and adds the missing ones as nulls.

    Columns the schema does not know are kept (snake_cased) so that new upstream columns reach the raw table as
    new nullable columns through dlt's schema evolution.
    """
    renames = renames or {}
    names = [
        renames.get(NAMING.normalize_identifier(name), NAMING.normalize_identifier(name)) for name in table.column_names
    ]
    table = table.rename_columns(names)
    columns, fields = [], []
    for field in schema:
        if field.name in names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
        fields.append(field)
    for name in names:
        if schema.get_field_index(name) < 0:
            columns.append(table.column(name))
            fields.append(pa.field(name, table.schema.field(name).type))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def with_lineage(table: pa.Table, source_file: str, month: Month, first_row: int | None) -> pa.Table:
    """Appends source_file, source_month and (for trip files) source_row to a batch."""
    rows = table.num_rows
    table = table.append_column("source_file", pa.nulls(rows, pa.string()).fill_null(source_file))
    table = table.append_column(
        pa.field("source_month", pa.date32(), nullable=False),
        pa.nulls(rows, pa.date32()).fill_null(month.first_day),
    )
    if first_row is not None:
        table = table.append_column("source_row", pa.array(np.arange(first_row, first_row + rows, dtype=np.int64)))
    return table


class Progress:
    """Prints `<file>: N rows read, R rows/s` to stderr every PROGRESS_ROWS rows of a long file."""

    def __init__(self, label: str) -> None:
        self.label, self.rows, self.next_report, self.started = label, 0, settings.PROGRESS_ROWS, time.perf_counter()

    def add(self, rows: int) -> None:
        """Counts a batch, reporting when another PROGRESS_ROWS rows have been read."""
        self.rows += rows
        if self.rows >= self.next_report:
            rate = self.rows / max(time.perf_counter() - self.started, 1e-9)
            print(f"  {self.label}: {self.rows:,} rows read, {rate:,.0f} rows/s", file=sys.stderr, flush=True)
            self.next_report += settings.PROGRESS_ROWS
