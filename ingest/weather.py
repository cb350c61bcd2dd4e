"""Hourly weather for New York from the Open-Meteo archive API, one request a month.

Upstream: `GET /v1/archive?latitude=..&longitude=..&start_date=..&end_date=..&hourly=..&timezone=America/New_York`
answers with parallel arrays under `hourly`; errors are HTTP 400 with `{"error": true, "reason": "..."}`. A mirror
holds the same JSON body at `v1/archive/YYYY-MM.json`. Times are local wall-clock hours, as the API returns them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import dlt
import pyarrow as pa

from ingest.common import IngestError, Month, conform, fetch, location, with_lineage

OPEN_METEO_BASE = "https://archive-api.open-meteo.com"
LATITUDE, LONGITUDE, TIMEZONE = 40.7128, -74.0060, "America/New_York"
HOURLY = ["temperature_2m", "precipitation", "rain", "snowfall", "wind_speed_10m", "weather_code"]

HOURLY_SCHEMA = pa.schema(
    [
        ("time", pa.timestamp("us")),
        ("temperature_2m", pa.float64()),
        ("precipitation", pa.float64()),
        ("rain", pa.float64()),
        ("snowfall", pa.float64()),
        ("wind_speed_10m", pa.float64()),
        ("weather_code", pa.int64()),
    ]
)
_OLD_NAMES = {"windspeed_10m": "wind_speed_10m", "weathercode": "weather_code", "cloudcover": "cloud_cover"}


def request_path(month: Month, base: str) -> str:
    """The request for one month: the real API query upstream, `v1/archive/YYYY-MM.json` in a mirror."""
    if base.rstrip("/") != OPEN_METEO_BASE:
        return f"v1/archive/{month}.json"
    query = {
        "latitude": LATITUDE,
        "longitude": LONGITUDE,
        "start_date": month.first_day.isoformat(),
        "end_date": month.last_day.isoformat(),
        "hourly": ",".join(HOURLY),
        "timezone": TIMEZONE,
    }
    return f"v1/archive?{urlencode(query)}"


def hourly_table(body: dict, request: str) -> pa.Table:
    """Turns an archive API response into a conformed Arrow table of hours."""
    if body.get("error"):
        raise IngestError(f"Open-Meteo refused {request}: {body.get('reason')}")
    hourly = body.get("hourly")
    if not isinstance(hourly, dict) or "time" not in hourly:
        raise IngestError(f"{request} answered without an `hourly.time` array; it is not an archive API response.")
    lengths = {name: len(values) for name, values in hourly.items()}
    if len(set(lengths.values())) != 1:
        raise IngestError(f"{request} answered with hourly arrays of different lengths: {lengths}.")
    table = pa.table({name: pa.array(values) for name, values in hourly.items()})
    index = table.column_names.index("time")
    table = table.set_column(index, "time", table.column("time").cast(pa.string()).cast(pa.timestamp("us")))
    return conform(table, HOURLY_SCHEMA, renames=_OLD_NAMES)


def hourly(month: Month, base: str) -> dlt.sources.DltResource:
    """One month of hourly weather, replacing that month's rows in raw_weather.hourly."""
    relative = request_path(month, base)
    request = location(base, relative)

    @dlt.resource(
        name="hourly",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        merge_key="source_month",
        columns={"time": {"data_type": "timestamp", "timezone": False}},
    )
    def monthly_hours() -> Iterator[pa.Table]:
        local = fetch(base, relative)
        try:
            body = json.loads(local.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise IngestError(f"{request} did not answer with JSON: {error}.") from error
        table = hourly_table(body, request)
        table = with_lineage(table, relative, month, None)
        yield table.rename_columns([*table.column_names[:-2], "source_request", "source_month"])

    return monthly_hours
