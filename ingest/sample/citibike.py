"""Citi Bike trip histories (YYYYMM-citibike-tripdata.zip), as dirty as the real ones.

Rates are the shares measured in ../shared/fixtures/real/citibike/citibike_202403_sample10000.csv (10,000
random rides of 2024-03) unless a comment says the rate is an estimate. Each special row has exactly one
defect; a ride lost for about 25 hours has no end station either, and counts as `overlong_ride` only.
"""

from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingest.sample.common import (
    STRAY_PREV,
    FileEntry,
    Month,
    atomic_path,
    chunk_rng,
    chunks,
    demand_times,
    epoch,
    file_seed,
    plan_rows,
    scaled_rows,
    special_counts,
    split,
    zip_info,
)
from ingest.sample.weather import BIKE_WEATHER_FACTORS, weather_factors

CSV_MEMBER_ROWS = 1_000_000  # rows per Citi Bike CSV member, as upstream
DOCKED_BIKE_UNTIL = (2023, 1)  # `docked_bike` appears in months before this one
# Rows excluded from the facts (`dirty_rows`), by the warehouse's exclusion outcome.
BIKE_EXCLUDED_RATES = {"ended_before_started": 0.00005}  # estimate: none in the 10,000 real rides
# Rows that stay in the facts with a flag (`kept_rows`).
BIKE_KEPT_RATES = {
    "missing_start_station": 0.0015,  # 15 of 10,000: e-bikes, start coordinates rounded to 2 decimals
    "missing_end_station": 0.0026,  # 33 of 10,000 less the 7 overlong ones: e-bikes, end rounded likewise
    "overlong_ride": 0.0007,  # 7 of 10,000 over 24 hours, all ~25 hours without an end station
}
# Estimate: no real file here is from before 2023; `docked_bike` rides were a minority type there.
DOCKED_BIKE_RATE = 0.05
# Estimate: real months also hold rides of days or weeks that end at a station (one of 104 days).
OVERLONG_DOCKED_SHARE = 0.25
LOST_RIDE_SECONDS = 90_000  # a lost bike's ride is closed about 25 hours after it started
BIKE_STRAY_RATE = 0.0003
BIKE_VARIANTS = ("ended_before_started", "missing_start_station", "missing_end_station", "overlong_ride",
                 "overlong_ride_docked", "docked_bike")  # fmt: skip
CODE = {name: code for code, name in enumerate(BIKE_VARIANTS, start=1)}
RIDEABLE_TYPES = ("classic_bike", "electric_bike", "docked_bike")

BIKE_HOURS = (0.3, 0.2, 0.12, 0.08, 0.08, 0.2, 0.6, 1.4, 2.2, 1.5, 1.1, 1.2,
              1.35, 1.4, 1.45, 1.6, 1.9, 2.5, 2.2, 1.6, 1.1, 0.85, 0.65, 0.45)  # fmt: skip
BIKE_WEEKDAYS = (1.0, 1.03, 1.05, 1.04, 1.0, 0.92, 0.85)  # Monday first
BIKE_COLUMNS = ("ride_id", "rideable_type", "started_at", "ended_at", "start_station_name",
                "start_station_id", "end_station_name", "end_station_id", "start_lat", "start_lng",
                "end_lat", "end_lng", "member_casual")  # fmt: skip
BIKE_STATIONS = 2000
HEX_PAIRS = np.array([f"{byte:02X}".encode() for byte in range(256)]).view(np.uint16)  # a byte's two hex digits
# A minimal AppleDouble file (header and an empty Finder-info entry), as macOS zips put under __MACOSX/.
APPLE_DOUBLE = bytes.fromhex("00051607 00020000") + b"Mac OS X        "
APPLE_DOUBLE += bytes.fromhex("0001 00000009 00000032 00000020") + bytes(32)


@dataclass(frozen=True)
class Stations:
    """The docking stations, sorted by latitude so that nearby indexes are nearby stations."""

    names: pa.Array
    ids: pa.Array
    lat: np.ndarray
    lng: np.ndarray
    weights: np.ndarray


def make_stations() -> Stations:
    """A fixed set of stations named like the real ones (`W 36 St & 7 Ave`, id `6483.06`)."""
    rng = np.random.default_rng(2013)
    streets = [f"{side} {n} St" for n in range(1, 156) for side in ("W", "E")]
    avenues = ["1 Ave", "2 Ave", "3 Ave", "Lexington Ave", "Park Ave", "Madison Ave", "5 Ave", "6 Ave",
               "7 Ave", "8 Ave", "9 Ave", "10 Ave", "11 Ave", "12 Ave", "Broadway", "York Ave",
               "Amsterdam Ave", "Columbus Ave", "Central Park West", "Riverside Dr", "West End Ave",
               "St Nicholas Ave"]  # fmt: skip
    pairs = rng.choice(len(streets) * len(avenues), size=BIKE_STATIONS, replace=False)
    codes = rng.choice(np.arange(2700 * 16, 8999 * 16), size=BIKE_STATIONS, replace=False)
    lat = np.round(40.64 + 0.24 * rng.beta(2.0, 2.0, BIKE_STATIONS), 6)
    lng = np.round(-74.02 + 0.11 * rng.random(BIKE_STATIONS) + 0.35 * (lat - 40.64), 6)
    order = np.argsort(lat, kind="stable")
    names = [f"{streets[p // len(avenues)]} & {avenues[p % len(avenues)]}" for p in pairs[order]]
    ids = [f"{c // 16}.{c % 16 + 1:02d}" for c in codes[order]]
    weights = rng.lognormal(0.0, 0.7, BIKE_STATIONS)
    return Stations(pa.array(names), pa.array(ids), lat[order], lng[order], weights / weights.sum())


def ride_ids(seed: int, first_row: int, n: int) -> pa.Array:
    """16 upper-case hex digits per ride, unique in a file (a bijective mix of the row number)."""
    x = np.arange(first_row, first_row + n, dtype=np.uint64) + np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return pa.array(HEX_PAIRS[x.astype(">u8").view(np.uint8)].view("S16")).cast(pa.string())


def timestamps_text(seconds: np.ndarray) -> pa.Array:
    """`YYYY-MM-DD HH:MM:SS`, as in the real 2024 files (no fractional seconds); a cast is ten times strftime."""
    return pc.cast(pa.array(seconds, type=pa.timestamp("s")), pa.string())


def bike_chunk(
    month: Month, codes: np.ndarray, first_row: int, seed: int, stations: Stations, weather: np.ndarray
) -> pa.Table:
    """One chunk of rides as a table of 13 text columns (`weather`: demand by hour of the month)."""
    n, rng = codes.size, chunk_rng(seed, first_row)
    kind = {name: codes == code for name, code in CODE.items()}
    no_start, no_end, lost = kind["missing_start_station"], kind["missing_end_station"], kind["overlong_ride"]
    start_idx = rng.choice(BIKE_STATIONS, size=n, p=stations.weights)
    end_idx = np.abs(start_idx + np.round(rng.normal(0, 50, n)).astype(np.int64))
    end_idx = np.where(end_idx >= BIKE_STATIONS, 2 * BIKE_STATIONS - 2 - end_idx, end_idx)
    # Rides without a station are e-bikes (located by GPS); lost bikes and docked bikes are not.
    bike = (rng.random(n) < 0.64).astype(np.int8)
    bike = np.where(no_start | no_end, 1, np.where(lost, 0, np.where(kind["docked_bike"], 2, bike)))
    electric = bike == 1
    started = demand_times(rng, n, month, BIKE_HOURS, BIKE_WEEKDAYS, weather)
    started = np.where(codes == STRAY_PREV, epoch(month) - rng.integers(1, 86400, n), started)
    duration = rng.lognormal(np.log(540), 0.8, n) * np.where(electric, 0.85, 1.0)
    duration = np.clip(duration, 60, 14400).astype(np.int64)
    duration = np.where(lost, LOST_RIDE_SECONDS - rng.integers(5, 15, n), duration)
    days = np.exp(rng.uniform(np.log(1.5), np.log(104.0), n))  # 1.5 to 104 days, then docked at a station
    duration = np.where(kind["overlong_ride_docked"], (days * 86400).astype(np.int64), duration)
    ended = np.where(kind["ended_before_started"], started - duration, started + duration)

    def coords(idx: np.ndarray, values: np.ndarray, rounded: np.ndarray) -> np.ndarray:
        """Station coordinates, GPS-jittered with 9 decimals for e-bikes, 2 decimals away from a station."""
        jittered = np.where(electric, np.round(values[idx] + rng.normal(0, 0.0002, n), 9), values[idx])
        return np.where(rounded, np.round(jittered, 2), jittered)

    def text(values: pa.Array | np.ndarray, blank: np.ndarray | None = None) -> pa.Array:
        """A text column, `""` where `blank`."""
        array = values if isinstance(values, pa.Array) else pc.cast(pa.array(values), pa.string())
        return pc.if_else(pa.array(blank), "", array) if blank is not None else array

    columns = [
        ride_ids(seed, first_row, n),
        pa.array(RIDEABLE_TYPES).take(pa.array(bike)),
        timestamps_text(started),
        timestamps_text(ended),
        text(stations.names.take(pa.array(start_idx)), no_start),
        text(stations.ids.take(pa.array(start_idx)), no_start),
        text(stations.names.take(pa.array(end_idx)), no_end | lost),
        text(stations.ids.take(pa.array(end_idx)), no_end | lost),
        text(coords(start_idx, stations.lat, no_start)),
        text(coords(start_idx, stations.lng, no_start)),
        text(coords(end_idx, stations.lat, no_end), lost),
        text(coords(end_idx, stations.lng, no_end), lost),
        pa.array(["casual", "member"]).take(pa.array((rng.random(n) < 0.84).astype(np.int8))),
    ]
    return pa.Table.from_arrays(columns, names=list(BIKE_COLUMNS))


def member_ranges(rows: int) -> list[tuple[int, int]]:
    """Row ranges of the CSV members: CSV_MEMBER_ROWS each as upstream, but never fewer than two members."""
    limit = min(CSV_MEMBER_ROWS, math.ceil(rows / 2))
    return [(start, min(start + limit, rows)) for start in range(0, rows, limit)]


def kept_rates(month: Month) -> dict[str, float]:
    """Rates of the rides the facts keep with a flag; `docked_bike` only before 2023."""
    rates = dict(BIKE_KEPT_RATES)
    if month.key < DOCKED_BIKE_UNTIL:
        rates["docked_bike"] = DOCKED_BIKE_RATE
    return rates


def write_citibike(out: Path, month: Month, scale: float, seed: int, stations: Stations) -> FileEntry:
    """Writes YYYYMM-citibike-tripdata.zip, streaming each CSV member chunk by chunk."""
    stem = f"{month.year:04d}{month.month:02d}-citibike-tripdata"
    rows, fseed = scaled_rows("citibike", scale), file_seed(seed, "citibike", month)
    excluded, kept = special_counts(rows, BIKE_EXCLUDED_RATES), special_counts(rows, kept_rates(month))
    by_variant = {**excluded, **kept}
    by_variant["overlong_ride"], by_variant["overlong_ride_docked"] = split(
        kept["overlong_ride"], OVERLONG_DOCKED_SHARE
    )
    strays = {STRAY_PREV: max(2, round(rows * BIKE_STRAY_RATE))}
    counts = {CODE[name]: n for name, n in by_variant.items()} | strays
    codes = plan_rows(rows, counts, np.random.default_rng([fseed, 0]))
    weather = weather_factors(month, seed, BIKE_WEATHER_FACTORS)
    stamp = (*month.next().key, 1, 0, 0, 0)
    members: dict[str, int] = {}
    part = atomic_path(out / f"{stem}.zip")
    with zipfile.ZipFile(part, "w") as archive:
        for number, (first, last) in enumerate(member_ranges(rows), start=1):
            name = f"{stem}_{number}.csv"
            with archive.open(zip_info(name, stamp), "w") as stream:
                for start, stop in chunks(last - first, first):
                    table = bike_chunk(month, codes[start:stop], start, fseed, stations, weather)
                    buffer = pa.BufferOutputStream()
                    options = pacsv.WriteOptions(include_header=start == first, quoting_style="all_valid")
                    pacsv.write_csv(table, buffer, options)
                    stream.write(buffer.getvalue())
            members[name] = last - first
            if number == 1:
                archive.writestr(zip_info(f"__MACOSX/._{name}", stamp), APPLE_DOUBLE)
    os.replace(part, out / f"{stem}.zip")
    return FileEntry(f"{stem}.zip", "citibike", str(month), rows, sum(strays.values()), excluded, kept, members)
