"""Hourly weather for New York from the Open-Meteo archive API, one request a month.

Upstream: `GET /v1/archive?latitude=..&longitude=..&start_date=..&end_date=..&hourly=..&timezone=America/New_York`
answers with parallel arrays under `hourly`; errors are HTTP 400 with `{"error": true, "reason": "..."}`. A mirror
holds the same JSON body at `v1/archive/YYYY-MM.json`.

Time: the archive labels `hourly.time` with ONE fixed `utc_offset_seconds` for the whole response (the offset valid
when the request is made, e.g. GMT-4 for a January asked for in summer), so the labels are not New York wall-clock
times across a DST change. Each label is turned into its UTC instant (label - utc_offset_seconds); with
`timeformat=unixtime` (what this module asks upstream) the API answers UTC epoch seconds and `hourly_units.time` is
`unixtime`. A month is asked for with one day of padding on each side, and only the hours whose New York local time
falls in the month are landed: months never overlap and none misses an hour, whatever offset each response used.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from urllib.parse import urlencode

import dlt
import pyarrow as pa
import pyarrow.compute as pc

from ingest import settings
from ingest.common import IngestError, Month, Tally, conform, each_month, fetch, location, with_lineage
from ingest.settings import HOURLY, LATITUDE, LONGITUDE, OPEN_METEO_BASE, TIMEZONE

HOURLY_SCHEMA = pa.schema(
    [
        ("time_utc", pa.timestamp("us")),
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
        "start_date": (month.first_day - dt.timedelta(days=1)).isoformat(),
        "end_date": (month.last_day + dt.timedelta(days=1)).isoformat(),
        "hourly": ",".join(HOURLY),
        "timezone": TIMEZONE,
        "timeformat": "unixtime",
    }
    return f"v1/archive?{urlencode(query)}"


def utc_hours(hourly: dict, body: dict, request: str) -> pa.Array:
    """The UTC instant (naive) of each hour of a response, from epoch seconds or from labels at the fixed offset."""
    unit = (body.get("hourly_units") or {}).get("time", "iso8601")
    times = hourly["time"]
    if unit == "unixtime":
        return pa.array(times, pa.int64()).cast(pa.timestamp("s")).cast(pa.timestamp("us"))
    offset = body.get("utc_offset_seconds")
    if not isinstance(offset, int):
        raise IngestError(
            f"{request} answered hourly times as labels without an integer `utc_offset_seconds` ({offset!r}); "
            "the hours cannot be placed in time. Ask with timeformat=unixtime or check the mirror file."
        )
    labels = pa.array(times, pa.string()).cast(pa.timestamp("us"))
    return pc.subtract(labels, pa.scalar(dt.timedelta(seconds=offset), pa.duration("us")))


def in_month(utc: pa.Array, month: Month) -> pa.Array:
    """TRUE for the UTC hours whose New York local time falls in the month."""
    local = pc.local_timestamp(utc.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us", tz=TIMEZONE)))
    first = pa.scalar(dt.datetime.combine(month.first_day, dt.time()), pa.timestamp("us"))
    after = pa.scalar(dt.datetime.combine(month.next().first_day, dt.time()), pa.timestamp("us"))
    return pc.and_(pc.greater_equal(local, first), pc.less(local, after))


def hourly_table(body: dict, request: str, month: Month) -> pa.Table:
    """Turns an archive API response into a conformed Arrow table of the month's hours, keyed by UTC instant."""
    if body.get("error"):
        raise IngestError(f"Open-Meteo refused {request}: {body.get('reason')}")
    hourly = body.get("hourly")
    if not isinstance(hourly, dict) or "time" not in hourly:
        raise IngestError(f"{request} answered without an `hourly.time` array; it is not an archive API response.")
    lengths = {name: len(values) for name, values in hourly.items()}
    if len(set(lengths.values())) != 1:
        raise IngestError(f"{request} answered with hourly arrays of different lengths: {lengths}.")
    utc = utc_hours(hourly, body, request)
    table = pa.table({name: pa.array(values) for name, values in hourly.items() if name != "time"})
    table = table.append_column("time_utc", utc).filter(in_month(utc, month))
    return conform(table, HOURLY_SCHEMA, renames=_OLD_NAMES)


def month_hours(month: Month, base: str) -> Iterator[pa.Table]:
    """One month of hourly weather: the response fetched, parsed and kept to the month's hours, with its lineage."""
    relative = request_path(month, base)
    request = location(base, relative)
    local = fetch(base, relative)
    try:
        body = json.loads(local.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise IngestError(f"{request} did not answer with JSON: {error}.") from error
    table = with_lineage(hourly_table(body, request, month), relative, month, None)
    yield table.rename_columns([*table.column_names[:-2], "source_request", "source_month"])


def hourly(months: list[Month], base: str, tally: Tally | None = None) -> dlt.sources.DltResource:
    """The given months of hourly weather (as many as a load takes: each_month), replacing their rows in the table."""

    @dlt.resource(
        name="hourly",
        columns={"time_utc": {"data_type": "timestamp", "timezone": False}},
        **settings.REPLACE_MONTHS,
    )
    def monthly_hours() -> Iterator[pa.Table]:
        yield from each_month(months, lambda month: month_hours(month, base), tally or Tally())

    return monthly_hours


@dlt.source(name="raw_weather", section="weather")
def source(months: list[Month], base: str = OPEN_METEO_BASE, tally: Tally | None = None) -> dlt.sources.DltResource:
    """Open-Meteo's historical weather for New York as the raw_weather dataset: the months' hours."""
    return hourly(months, base, tally)


def empty_hours() -> pa.Table:
    """No hours, in the landed shape of raw_weather.hourly (for a warehouse that has not landed weather)."""
    table = with_lineage(HOURLY_SCHEMA.empty_table(), "", Month(2000, 1), None)
    return table.rename_columns([*table.column_names[:-2], "source_request", "source_month"])
