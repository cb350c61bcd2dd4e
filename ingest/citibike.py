"""Citi Bike system data: one zip a month (`YYYYMM-citibike-tripdata.zip`) holding one or more CSVs.

Recent months split the month over `..._1.csv`, `..._2.csv` and may carry `__MACOSX/` entries, which are skipped.
Months since 2021-02 use the 13-column schema; older months (`tripduration`, `starttime` as M/D/YYYY, spaces in
column names) are mapped onto it. CSVs are streamed out of the zip by pyarrow in blocks, never row by row.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingest import settings
from ingest.common import (
    IngestError,
    Month,
    Progress,
    Tally,
    conform,
    each_month,
    fetch,
    in_row_groups,
    with_lineage,
)

RIDE_SCHEMA = pa.schema(
    [
        ("ride_id", pa.string()),
        ("rideable_type", pa.string()),
        ("started_at", pa.timestamp("us")),
        ("ended_at", pa.timestamp("us")),
        ("start_station_name", pa.string()),
        ("start_station_id", pa.string()),
        ("end_station_name", pa.string()),
        ("end_station_id", pa.string()),
        ("start_lat", pa.float64()),
        ("start_lng", pa.float64()),
        ("end_lat", pa.float64()),
        ("end_lng", pa.float64()),
        ("member_casual", pa.string()),
    ]
)
_TEXT = [
    "ride_id",
    "rideable_type",
    "start_station_name",
    "start_station_id",
    "end_station_name",
    "end_station_id",
]
_LEGACY = {
    "starttime": "started_at",
    "stoptime": "ended_at",
    "start_station_id": "start_station_id",
    "start_station_latitude": "start_lat",
    "start_station_longitude": "start_lng",
    "end_station_latitude": "end_lat",
    "end_station_longitude": "end_lng",
}


def zip_file(month: Month) -> str:
    """The upstream-relative path of one month's zip."""
    return f"{month.year:04d}{month.month:02d}-citibike-tripdata.zip"


def csv_members(archive: zipfile.ZipFile, source_file: str) -> list[str]:
    """The trip CSVs inside a monthly zip, in order, without macOS resource forks."""
    members = sorted(
        name
        for name in archive.namelist()
        if name.lower().endswith(".csv") and not name.startswith("__MACOSX/") and "/._" not in f"/{name}"
    )
    if not members:
        raise IngestError(
            f"{source_file} holds no CSV file ({len(archive.namelist())} entries). "
            "Upstream may have republished it: fetch it again."
        )
    return members


def _convert_options(header: list[str]) -> pacsv.ConvertOptions:
    """Column types for either schema: text ids, timestamps in either format."""
    types = {name: pa.string() for name in header if name in _TEXT or "station id" in name or name == "bikeid"}
    for name in ("started_at", "ended_at", "starttime", "stoptime"):
        if name in header:
            types[name] = pa.timestamp("us")
    return pacsv.ConvertOptions(
        column_types=types,
        timestamp_parsers=[pacsv.ISO8601, "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M"],
        strings_can_be_null=True,
    )


def _read_header(archive: zipfile.ZipFile, member: str) -> list[str]:
    """The column names of one CSV member."""
    with archive.open(member) as stream:
        line = stream.readline().decode("utf-8-sig").strip()
    return [name.strip('"') for name in line.split(",")]


def _legacy_to_current(table: pa.Table) -> pa.Table:
    """Maps a pre-2021 batch (usertype Subscriber/Customer) onto the 13-column schema."""
    if "usertype" in table.column_names:
        member = pc.if_else(pc.equal(table.column("usertype"), "Subscriber"), "member", "casual")
        table = table.append_column("member_casual", member)
    return table


def read_ride_batches(local_path: str, source_file: str, month: Month) -> Iterator[pa.Table]:
    """Yields every CSV of a monthly zip as conformed Arrow batches, with row numbers per CSV."""
    try:
        archive = zipfile.ZipFile(local_path)
    except zipfile.BadZipFile as error:
        raise IngestError(f"{source_file} is not a readable zip ({error}); fetch it again.") from error
    with archive:
        for member in csv_members(archive, source_file):
            lineage = f"{source_file}/{member}"
            header = _read_header(archive, member)
            first_row, progress = 0, Progress(lineage)
            try:
                with archive.open(member) as stream:
                    reader = pacsv.open_csv(
                        stream,
                        read_options=pacsv.ReadOptions(block_size=settings.CSV_BLOCK_BYTES),
                        convert_options=_convert_options(header),
                    )
                    for batch in reader:
                        table = _legacy_to_current(pa.Table.from_batches([batch]))
                        table = conform(table, RIDE_SCHEMA, renames=_LEGACY)
                        yield with_lineage(table, lineage, month, first_row)
                        first_row += batch.num_rows
                        progress.add(batch.num_rows)
            except (pa.ArrowInvalid, zipfile.BadZipFile, EOFError, OSError) as error:
                raise IngestError(
                    f"{lineage}: reading failed after row {first_row}: {error}. "
                    "The CSV is malformed or the zip is truncated; nothing of this month was loaded."
                ) from error


def month_rides(month: Month, base: str) -> Iterator[pa.Table]:
    """One month of Citi Bike rides, fetched then read as conformed batches."""
    source_file = zip_file(month)
    yield from in_row_groups(read_ride_batches(str(fetch(base, source_file)), source_file, month))


def rides(months: list[Month], base: str, tally: Tally | None = None) -> dlt.sources.DltResource:
    """The given months of Citi Bike rides (as many as a load takes: each_month), replacing their rows in the table."""

    @dlt.resource(
        name="trips",
        columns={
            "started_at": {"data_type": "timestamp", "timezone": False},
            "ended_at": {"data_type": "timestamp", "timezone": False},
            "source_month": {"data_type": "date", "nullable": False},
        },
        **settings.REPLACE_MONTHS,
    )
    def monthly_rides() -> Iterator[pa.Table]:
        yield from each_month(months, lambda month: month_rides(month, base), tally or Tally())

    return monthly_rides


@dlt.source(name="raw_citibike", section="citibike")
def source(
    months: list[Month], base: str = settings.CITIBIKE_BASE, tally: Tally | None = None
) -> dlt.sources.DltResource:
    """Citi Bike's system data as the raw_citibike dataset: the months' rides."""
    return rides(months, base, tally)


def empty_rides() -> pa.Table:
    """No rides, in the landed shape of raw_citibike.trips (for a warehouse that has not landed Citi Bike)."""
    return with_lineage(RIDE_SCHEMA.empty_table(), "", Month(2000, 1), 0)
