"""The constants of the sources: where each upstream publishes, how a file is read, and how a month lands.

Each base is the default of its source's `base` argument, so a team can point one source at its own mirror in
.dlt/config.toml (`[sources.tlc] base = "/srv/tlc-mirror"`) or the environment (`SOURCES__TLC__BASE`); `--mirror`
(MIRROR=) points every source at one mirror for a run.
"""

from __future__ import annotations

TLC_BASE = "https://d37ci6vzurychx.cloudfront.net"
CITIBIKE_BASE = "https://s3.amazonaws.com/tripdata"
OPEN_METEO_BASE = "https://archive-api.open-meteo.com"

# Open-Meteo's archive is asked for one point in New York, in New York's time zone, with these hourly variables.
LATITUDE, LONGITUDE, TIMEZONE = 40.7128, -74.0060, "America/New_York"
HOURLY = ["temperature_2m", "precipitation", "rain", "snowfall", "wind_speed_10m", "weather_code"]

TRIP_BATCH_ROWS = 256_000  # a taxi Parquet file is read in Arrow batches of at most this many rows
CSV_BLOCK_BYTES = 16 << 20  # a Citi Bike CSV is parsed in blocks of this many bytes
PROGRESS_ROWS = 1_000_000  # a long file reports its progress every this many rows
DUCKDB_ROW_GROUP_ROWS = 122_880  # rows in a DuckDB row group
LOAD_ROWS = 1_000_000  # a load takes the next month while it holds fewer rows: small files share a load, big get one
# A load of SQL models (files DuckDB reads where they lie: no rows in memory, no files in the load package) takes the
# next month while it holds fewer rows than this: a few big taxi months pay dlt's fixed cost of a load once.
MODEL_LOAD_ROWS = 16_000_000

# Every monthly raw table lands the same way: the months of a load replace their own rows, and only those, in one
# transaction (dlt deletes by `source_month`, then inserts). ingest/__main__.py appends months new to the table.
REPLACE_MONTHS = {
    "write_disposition": {"disposition": "merge", "strategy": "delete-insert"},
    "merge_key": "source_month",
}
