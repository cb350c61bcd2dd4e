"""NYC TLC trip records: yellow and green taxi trips (monthly Parquet) and the taxi zone lookup (CSV).

Upstream publishes `trip-data/{yellow,green}_tripdata_YYYY-MM.parquet` and `misc/taxi_zone_lookup.csv`. The monthly
files drift across eras (`airport_fee` becomes `Airport_fee` in 2023-02, ids go from int64 to int32 and counts from
double to int64, `cbd_congestion_fee` appears in 2025-01); every batch is conformed to one Arrow schema here, so
the raw tables stay consistent. Parquet is read in bounded record batches and handed to dlt as Arrow tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ingest.common import IngestError, Month, Progress, Tally, conform, each_month, fetch, with_lineage

TLC_BASE = "https://d37ci6vzurychx.cloudfront.net"
BATCH_ROWS = 256_000

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


def read_trip_batches(local_path: str, source_file: str, service: str, month: Month) -> Iterator[pa.Table]:
    """Yields a monthly trip file as conformed Arrow batches of at most BATCH_ROWS rows."""
    schema = TRIP_SCHEMAS[service]
    pickup = schema.field(1).name
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
    first_row, progress = 0, Progress(source_file)
    try:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
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


def month_trips(service: str, month: Month, base: str) -> Iterator[pa.Table]:
    """One month of one service's trips, fetched then read as conformed batches."""
    source_file = trip_file(service, month)
    yield from read_trip_batches(str(fetch(base, source_file)), source_file, service, month)


def trips(service: str, months: list[Month], base: str, tally: Tally | None = None) -> dlt.sources.DltResource:
    """The given months of a service's trips (as many as a load takes: each_month), replacing their rows."""
    pickup, dropoff = TRIP_SCHEMAS[service].names[1:3]

    @dlt.resource(
        name=f"{service}_trips",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        merge_key="source_month",
        columns={
            pickup: {"data_type": "timestamp", "timezone": False},
            dropoff: {"data_type": "timestamp", "timezone": False},
            "source_month": {"data_type": "date", "nullable": False},
        },
    )
    def monthly_trips() -> Iterator[pa.Table]:
        yield from each_month(months, lambda month: month_trips(service, month, base), tally or Tally())

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
