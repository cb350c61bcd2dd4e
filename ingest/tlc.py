"""NYC TLC trip records: yellow and green taxi trips (monthly Parquet) and the taxi zone lookup (CSV).

Upstream publishes `trip-data/{yellow,green}_tripdata_YYYY-MM.parquet` and `misc/taxi_zone_lookup.csv`. The monthly
files drift across eras (`airport_fee` becomes `Airport_fee` in 2023-02, ids go from int64 to int32 and counts from
double to int64, `cbd_congestion_fee` appears in 2025-01); every month is conformed to one schema here, so the raw
tables stay consistent.

Into the DuckDB warehouse a load is one dlt SQL model: a SELECT that reads the monthly files where they lie,
renames and casts their columns and adds the lineage, run by the destination as one INSERT. Nothing is re-encoded
in Python, and a load is all or nothing as before (a load interrupted after its extract reads the files again when
the next ingest completes it). Into the lake (spark gateway), whose files dlt writes itself, the
files are read in bounded record batches and handed to dlt as conformed Arrow tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from dlt.common.libs.pyarrow import py_arrow_to_table_schema_columns

from ingest import settings
from ingest.common import (
    NAMING,
    IngestError,
    Month,
    MonthSelect,
    Progress,
    Tally,
    conform,
    each_month,
    fetch,
    months_model,
    sql_identifier,
    sql_literal,
    with_lineage,
)

_MONEY = [
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "improvement_surcharge",
    "total_amount",
    "congestion_surcharge",
]


def _trip_schema(service: str) -> pa.Schema:
    """The raw schema of one service's trips, whatever the era of the file."""
    prefix = "tpep" if service == "yellow" else "lpep"
    fields = [
        ("vendor_id", pa.int64()),
        (f"{prefix}_pickup_datetime", pa.timestamp("us")),
        (f"{prefix}_dropoff_datetime", pa.timestamp("us")),
        ("passenger_count", pa.float64()),
        ("trip_distance", pa.float64()),
        ("ratecode_id", pa.float64()),
        ("store_and_fwd_flag", pa.string()),
        ("pu_location_id", pa.int64()),
        ("do_location_id", pa.int64()),
        ("payment_type", pa.int64()),
        *[(name, pa.float64()) for name in _MONEY],
    ]
    if service == "yellow":
        fields.append(("airport_fee", pa.float64()))
    else:
        fields += [("ehail_fee", pa.float64()), ("trip_type", pa.int64())]
    fields.append(("cbd_congestion_fee", pa.float64()))
    return pa.schema(fields)


TRIP_SCHEMAS = {service: _trip_schema(service) for service in ("yellow", "green")}
ZONE_SCHEMA = pa.schema(
    [
        ("location_id", pa.int64()),
        ("borough", pa.string()),
        ("zone", pa.string()),
        ("service_zone", pa.string()),
    ]
)


def trip_file(service: str, month: Month) -> str:
    """The upstream-relative path of one monthly trip file."""
    return f"trip-data/{service}_tripdata_{month}.parquet"


def open_trip_file(local_path: str, source_file: str, service: str) -> pq.ParquetFile:
    """Opens a monthly trip file, refusing one that is not Parquet or not of this service."""
    pickup = TRIP_SCHEMAS[service].field(1).name
    try:
        parquet = pq.ParquetFile(local_path)
    except Exception as error:
        raise IngestError(
            f"{source_file} is not a readable Parquet file ({error}). The download may be truncated: "
            "delete it from the mirror or downloads folder and fetch it again."
        ) from error
    found = {name.lower() for name in parquet.schema_arrow.names}
    if pickup not in found:
        raise IngestError(
            f"{source_file} has no column {pickup}: it is not a {service} trip file "
            f"(columns: {', '.join(parquet.schema_arrow.names[:8])}...)."
        )
    return parquet


def read_trip_batches(local_path: str, source_file: str, service: str, month: Month) -> Iterator[pa.Table]:
    """Yields a monthly trip file as conformed Arrow batches of at most TRIP_BATCH_ROWS rows."""
    schema = TRIP_SCHEMAS[service]
    parquet = open_trip_file(local_path, source_file, service)
    first_row, progress = 0, Progress(source_file)
    try:
        for batch in parquet.iter_batches(batch_size=settings.TRIP_BATCH_ROWS):
            table = conform(pa.Table.from_batches([batch]), schema)
            yield with_lineage(table, source_file, month, first_row)
            first_row += batch.num_rows
            progress.add(batch.num_rows)
    except IngestError:
        raise
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as error:
        raise IngestError(
            f"{source_file}: reading failed near row {first_row}: {error}. "
            "The file is corrupt or has a column of an unexpected type; nothing of this month was loaded."
        ) from error


def trip_select(local_path: str, source_file: str, service: str, month: Month) -> MonthSelect:
    """A monthly trip file as a DuckDB SELECT in the raw schema: the renames, casts, new columns and lineage of
    read_trip_batches (the same `conform` decides them, on the file's schema), without reading a row."""
    parquet = open_trip_file(local_path, source_file, service)
    schema = with_lineage(conform(parquet.schema_arrow.empty_table(), TRIP_SCHEMAS[service]), "", month, 0).schema
    upstream = {NAMING.normalize_identifier(field.name): field for field in parquet.schema_arrow}
    duckdb_types = dict(zip(schema.names, map(str, duckdb.from_arrow(schema.empty_table()).types), strict=True))
    lineage = {
        "source_file": sql_literal(source_file),
        "source_month": f"DATE '{month.first_day}'",
        "source_row": "file_row_number",
    }
    selects = []
    for field in schema:
        found = upstream.get(field.name)
        if field.name in lineage:
            value = lineage[field.name]
        elif found is None:
            value = f"CAST(NULL AS {duckdb_types[field.name]})"
        elif pa.types.is_timestamp(found.type) and found.type.tz:  # an instant: its UTC wall clock, as Arrow's cast
            value = f"CAST(timezone('UTC', {sql_identifier(found.name)}) AS TIMESTAMP)"
        elif found.type == field.type:
            value = sql_identifier(found.name)
        else:
            value = f"CAST({sql_identifier(found.name)} AS {duckdb_types[field.name]})"
        selects.append(f"{value} AS {sql_identifier(field.name)}")
    return MonthSelect(
        f"SELECT {', '.join(selects)} FROM read_parquet({sql_literal(local_path)}, file_row_number = true)",
        schema,
        parquet.metadata.num_rows,
    )


def month_trips(service: str, month: Month, base: str, as_select: bool = False) -> Iterator[pa.Table | MonthSelect]:
    """One month of one service's trips, fetched then read as conformed batches (or as one SELECT)."""
    source_file = trip_file(service, month)
    local_path = str(fetch(base, source_file))
    if as_select:
        yield trip_select(local_path, source_file, service, month)
    else:
        yield from read_trip_batches(local_path, source_file, service, month)


def trips(
    service: str, months: list[Month], base: str, tally: Tally | None = None, dataset: dlt.Dataset | None = None
) -> dlt.sources.DltResource:
    """The given months of a service's trips (as many as a load takes: each_month), replacing their rows.

    With the warehouse's `dataset` the months are one SQL model that DuckDB runs; without, conformed Arrow batches.
    """
    tally = tally or Tally()

    @dlt.resource(
        name=f"{service}_trips",
        columns=py_arrow_to_table_schema_columns(empty_trips(service).schema),
        **settings.REPLACE_MONTHS,
    )
    def monthly_trips() -> Iterator[pa.Table]:
        if dataset is None:
            yield from each_month(months, lambda month: month_trips(service, month, base), tally)
        else:
            selects = list(each_month(months, lambda month: month_trips(service, month, base, True), tally, model=True))
            if selects:
                yield months_model(dataset, selects)

    if dataset is not None:
        monthly_trips.apply_hints(file_format="model")
    return monthly_trips


def empty_trips(service: str) -> pa.Table:
    """No trips, in the landed shape of raw_tlc.<service>_trips (for a warehouse that has not landed the service)."""
    return with_lineage(TRIP_SCHEMAS[service].empty_table(), "", Month(2000, 1), 0)


def read_zones(local_path: str, source_file: str) -> pa.Table:
    """Reads the zone lookup, keeping the upstream `N/A` values as text."""
    try:
        table = pacsv.read_csv(
            local_path,
            convert_options=pacsv.ConvertOptions(
                null_values=[""], strings_can_be_null=False, column_types={"LocationID": pa.int64()}
            ),
        )
    except pa.ArrowInvalid as error:
        raise IngestError(f"{source_file} is not the TLC zone lookup CSV: {error}") from error
    table = conform(table, ZONE_SCHEMA)
    if table.column("location_id").null_count or table.num_rows == 0:
        raise IngestError(f"{source_file} has no rows or rows without a LocationID; fetch it again.")
    return table.append_column("source_file", pa.nulls(table.num_rows, pa.string()).fill_null(source_file))


def taxi_zones(base: str) -> dlt.sources.DltResource:
    """The taxi zone lookup, replaced as a whole."""

    @dlt.resource(name="taxi_zones", write_disposition="replace")
    def zones() -> Iterator[pa.Table]:
        source_file = "misc/taxi_zone_lookup.csv"
        yield read_zones(str(fetch(base, source_file)), source_file)

    return zones


def empty_zones() -> pa.Table:
    """No zones, in the landed shape of raw_tlc.taxi_zones."""
    return ZONE_SCHEMA.empty_table().append_column("source_file", pa.array([], pa.string()))


@dlt.source(name="raw_tlc", section="tlc")
def source(
    months: list[Month], base: str = settings.TLC_BASE, tally: Tally | None = None, dataset: dlt.Dataset | None = None
) -> tuple[dlt.sources.DltResource, ...]:
    """The TLC trip record data as the raw_tlc dataset: the months' yellow and green trips, and the zone lookup.

    With the warehouse's `dataset` the taxi months are SQL models DuckDB runs; without it (the lake), Arrow batches.
    """
    return trips("yellow", months, base, tally, dataset), trips("green", months, base, tally, dataset), taxi_zones(base)
