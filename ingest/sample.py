"""Deterministic sample mirror of the upstream NYC mobility sources.

`python -m ingest.sample --months 2024-09:2024-11 --scale 0.01 --out data/mirror [--seed 42]` writes a
folder laid out like the upstream paths (docs/raw_layer.md), so that ingest reads it through the same code
path as the real sources (`MIRROR=data/mirror`):

    trip-data/yellow_tripdata_YYYY-MM.parquet   column names and Arrow types of the file's era
    trip-data/green_tripdata_YYYY-MM.parquet    (int64 ids before 2023-02, cbd fee from 2025-01)
    misc/taxi_zone_lookup.csv                   265 zones, CRLF, quoted like the real file
    YYYYMM-citibike-tripdata.zip                2+ fully quoted CSV members and a __MACOSX/ entry
    v1/archive/YYYY-MM.json                     the Open-Meteo archive body for one month, hourly
    manifest.json                               rows, stray rows and dirty rows per kind of every file

SCALE=1 is the real volume of a month. Trip files hold stray rows outside the file's month and dirty rows
at known rates, each dirty row with exactly one defect, so that the manifest's counts are exact. The same
arguments always give byte-identical files: each file draws from a seed derived from (seed, source, month).
Files are generated and written in chunks of CHUNK_ROWS rows with numpy, so SCALE=1 fits in about 1 GB.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import json
import math
import os
import re
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

VOLUME = {"yellow": 3_000_000, "green": 60_000, "citibike": 4_000_000}  # rows a month at SCALE=1
MIN_ROWS = 60  # enough for every stray and dirty kind at tiny scales
CHUNK_ROWS = 500_000  # rows generated at once; one Parquet row group
CSV_MEMBER_ROWS = 1_000_000  # rows per Citi Bike CSV member, as upstream
FIRST_MONTH = (2021, 2)  # Citi Bike's 13-column schema starts here; older months are refused
TLC_NEW_TYPES_FROM = (2023, 2)  # int32 ids, int64 counts, `Airport_fee` from this month
TLC_2023_FARES_FROM = (2023, 1)  # fares and improvement surcharge after the 2022-12 fare change
CBD_FEE_FROM = (2025, 1)

EWR, JFK, LGA = 1, 132, 138
UNKNOWN_ZONES = (264, 265)
AIRPORT_FEE = 1.75  # yellow pickups at JFK or LaGuardia
CBD_FEE = 0.75  # trips that end in the CBD, from 2025-01
# Real TLC ids of the Manhattan zones; the upper Manhattan ones are Boro Zone, the rest Yellow Zone.
MANHATTAN_ZONE_IDS = (
    4, 12, 13, 24, 41, 42, 43, 45, 48, 50, 68, 74, 75, 79, 87, 88, 90, 100, 103, 104, 105, 107, 113,
    114, 116, 120, 125, 127, 128, 137, 140, 141, 142, 143, 144, 148, 151, 152, 153, 158, 161, 162, 163,
    164, 166, 170, 186, 194, 202, 209, 211, 224, 229, 230, 231, 232, 233, 234, 236, 237, 238, 239, 243,
    244, 246, 249, 261, 262, 263,
)  # fmt: skip
MANHATTAN_BORO_ZONE_IDS = (41, 42, 74, 75, 116, 120, 127, 128, 152, 153, 166, 202, 243, 244)
# The Manhattan zones south of 60th St (Congestion Relief Zone): `cbd_congestion_fee` is charged on trips
# that end in one of them. The ingest and the marts should use this list.
CBD_ZONE_IDS = (
    4, 12, 13, 45, 48, 50, 68, 79, 87, 88, 90, 100, 107, 113, 114, 125, 137, 144, 148, 158, 161, 162,
    163, 164, 170, 186, 209, 211, 224, 229, 230, 231, 232, 233, 234, 246, 249, 261,
)  # fmt: skip
ZONE_NAMES = {
    1: "Newark Airport", 43: "Central Park", 132: "JFK Airport", 138: "LaGuardia Airport",
    161: "Midtown Center", 186: "Penn Station/Madison Sq West", 230: "Times Sq/Theatre District",
    236: "Upper East Side North", 237: "Upper East Side South", 261: "World Trade Center",
    264: "N/A", 265: "Outside of NYC",
}  # fmt: skip
OUTER_BOROUGHS = ("Queens", "Brooklyn", "Bronx", "Queens", "Brooklyn", "Staten Island", "Queens",
                  "Brooklyn", "Bronx", "Queens")  # fmt: skip
HOT_ZONE_IDS = (161, 237, 236, 230, 186, 162, 163, 170, 142, 239, 48, 68, 79, 234, 107, 141, 140, 90)

TAXI_DIRTY_RATES = {
    "negative_fare": 0.002,  # fare_amount, total_amount and every other amount negated
    "dropoff_before_pickup": 0.001,
    "zero_distance": 0.01,
    "unknown_zone": 0.005,  # PULocationID or DOLocationID 264/265
    "null_passenger_count": 0.004,
}
TAXI_STRAY_RATE = 0.0002
# payment_type 1 card, 2 cash, 3 no charge, 4 dispute
PAYMENT_SHARES = {"yellow": [0.78, 0.19, 0.02, 0.01], "green": [0.6, 0.37, 0.02, 0.01]}
BIKE_DIRTY_RATES = {"ended_before_started": 0.0005, "missing_end_station": 0.003}
BIKE_STRAY_RATE = 0.0003
STRAY_PREV, STRAY_NEXT = -1, -2  # the previous month's last day, the next month's first day
STRAY_FAR = {-3: (2002, 12, 31, 22), -4: (2008, 12, 31, 22), -5: (2009, 1, 1, 0)}  # 2-hour windows

TAXI_HOURS = (0.8, 0.5, 0.35, 0.25, 0.2, 0.25, 0.55, 1.0, 1.3, 1.35, 1.3, 1.35,
              1.45, 1.5, 1.6, 1.7, 1.75, 1.95, 2.0, 1.85, 1.7, 1.6, 1.4, 1.1)  # fmt: skip
BIKE_HOURS = (0.3, 0.2, 0.12, 0.08, 0.08, 0.2, 0.6, 1.4, 2.2, 1.5, 1.1, 1.2,
              1.35, 1.4, 1.45, 1.6, 1.9, 2.5, 2.2, 1.6, 1.1, 0.85, 0.65, 0.45)  # fmt: skip
TAXI_WEEKDAYS = (0.92, 0.98, 1.02, 1.05, 1.1, 1.05, 0.88)  # Monday first
BIKE_WEEKDAYS = (1.0, 1.03, 1.05, 1.04, 1.0, 0.92, 0.85)

YELLOW_COLUMNS = ("VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count",
                  "trip_distance", "RatecodeID", "store_and_fwd_flag", "PULocationID", "DOLocationID",
                  "payment_type", "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
                  "improvement_surcharge", "total_amount", "congestion_surcharge", "Airport_fee")  # fmt: skip
GREEN_COLUMNS = ("VendorID", "lpep_pickup_datetime", "lpep_dropoff_datetime", "store_and_fwd_flag",
                 "RatecodeID", "PULocationID", "DOLocationID", "passenger_count", "trip_distance",
                 "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "ehail_fee",
                 "improvement_surcharge", "total_amount", "payment_type", "trip_type",
                 "congestion_surcharge")  # fmt: skip
BIKE_COLUMNS = ("ride_id", "rideable_type", "started_at", "ended_at", "start_station_name",
                "start_station_id", "end_station_name", "end_station_id", "start_lat", "start_lng",
                "end_lat", "end_lng", "member_casual")  # fmt: skip
BIKE_STATIONS = 2000
# A minimal AppleDouble file (header and an empty Finder-info entry), as macOS zips put under __MACOSX/.
APPLE_DOUBLE = bytes.fromhex("00051607 00020000") + b"Mac OS X        "
APPLE_DOUBLE += bytes.fromhex("0001 00000009 00000032 00000020") + bytes(32)

WEATHER_LAT, WEATHER_LON, WEATHER_ELEVATION = 40.710335, -73.99307, 32.0  # the grid cell the API answers
MONTHLY_MEAN_C = (0.5, 1.5, 5.5, 11.5, 17.0, 22.0, 25.0, 24.5, 21.0, 14.5, 9.0, 3.5)
MONTHLY_WET_DAYS = (0.35, 0.33, 0.36, 0.36, 0.37, 0.33, 0.33, 0.31, 0.28, 0.27, 0.31, 0.34)
HOURLY_UNITS = {"time": "iso8601", "temperature_2m": "°C", "precipitation": "mm", "rain": "mm",
                "snowfall": "cm", "wind_speed_10m": "km/h", "weather_code": "wmo code"}  # fmt: skip

Rng = np.random.Generator
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Month:
    """A calendar month of the mirror."""

    year: int
    month: int

    @property
    def label(self) -> str:
        """YYYY-MM."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def key(self) -> tuple[int, int]:
        """(year, month), for era comparisons."""
        return (self.year, self.month)

    @property
    def days(self) -> int:
        """Number of days in the month."""
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def start(self) -> int:
        """Epoch seconds of the first midnight (naive local time stored as if UTC)."""
        return calendar.timegm((self.year, self.month, 1, 0, 0, 0))

    @property
    def end(self) -> int:
        """Epoch seconds of the next month's first midnight."""
        return self.start + self.days * 86400

    def next(self) -> Month:
        """The following month."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)


@dataclass
class FileEntry:
    """One manifest entry."""

    path: str
    source: str
    month: str | None
    rows: int
    stray_rows: int = 0
    dirty_rows: dict[str, int] | None = None
    members: dict[str, int] | None = None

    def as_json(self) -> dict:
        """The manifest form of the entry."""
        spec = {"source": self.source, "month": self.month, "rows": self.rows, "stray_rows": self.stray_rows,
                "dirty_rows": self.dirty_rows or {}}  # fmt: skip
        if self.members is not None:
            spec["members"] = self.members
        return spec


# ---- arguments


def parse_month(text: str) -> Month:
    """Parses YYYY-MM, refusing other forms and months before Citi Bike's current schema."""
    match = MONTH_RE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"'{text}' is not a month: write YYYY-MM, for example 2024-09")
    month = Month(int(match.group(1)), int(match.group(2)))
    if month.key < FIRST_MONTH:
        raise argparse.ArgumentTypeError(f"{month.label} is too early: the sample starts at 2021-02")
    return month


def parse_months(spec: str) -> list[Month]:
    """Parses YYYY-MM or an inclusive range YYYY-MM:YYYY-MM."""
    parts = spec.split(":")
    if len(parts) > 2:
        raise argparse.ArgumentTypeError(f"'{spec}' has more than one ':': write YYYY-MM or YYYY-MM:YYYY-MM")
    first, last = parse_month(parts[0]), parse_month(parts[-1])
    if last.key < first.key:
        raise argparse.ArgumentTypeError(f"'{spec}' ends before it starts: write the earlier month first")
    months = [first]
    while months[-1] != last:
        months.append(months[-1].next())
    return months


def parse_scale(text: str) -> float:
    """Parses a finite scale > 0."""
    try:
        scale = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(scale) or scale <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a number > 0 (1 = real volume)")
    return scale


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m ingest.sample", description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", required=True, type=parse_months, help="YYYY-MM or YYYY-MM:YYYY-MM")
    parser.add_argument("--scale", type=parse_scale, default=0.01, help="1 = real volume (default 0.01)")
    parser.add_argument("--out", type=Path, default=Path("data/mirror"), help="mirror folder (data/mirror)")
    parser.add_argument("--seed", type=int, default=42, help="base seed (default 42)")
    return parser


# ---- shared helpers


def file_seed(seed: int, source: str, month: Month | None) -> int:
    """A 64-bit seed of one file, derived from the base seed, the source and the month."""
    text = f"{seed}:{source}:{month.label if month else '-'}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def scaled_rows(source: str, scale: float) -> int:
    """Rows of one monthly file at a scale."""
    return max(MIN_ROWS, round(VOLUME[source] * scale))


def special_counts(rows: int, rates: dict[str, float]) -> dict[str, int]:
    """Rows of each kind at its rate, at least one each."""
    return {kind: max(1, round(rows * rate)) for kind, rate in rates.items()}


def taxi_strays(rows: int) -> dict[int, int]:
    """Stray rows of a TLC file by code: mostly the edge days around the month, a few far-away years."""
    total = max(6, round(rows * TAXI_STRAY_RATE))
    far = max(3, round(total * 0.1))
    edge = total - far
    counts = {STRAY_PREV: edge // 2, STRAY_NEXT: edge - edge // 2}
    for index, code in enumerate(STRAY_FAR):
        counts[code] = far // 3 + (index < far % 3)
    return counts


def plan_rows(rows: int, dirty: dict[str, int], strays: dict[int, int], rng: Rng) -> np.ndarray:
    """Row codes of a file: 0 clean, 1.. the dirty kinds in order, negative the stray kinds."""
    codes = np.zeros(rows, dtype=np.int8)
    specials = [(code, n) for code, n in enumerate(dirty.values(), start=1)] + list(strays.items())
    positions = rng.choice(rows, size=sum(n for _, n in specials), replace=False)
    start = 0
    for code, n in specials:
        codes[positions[start : start + n]] = code
        start += n
    return codes


def chunks(rows: int, first: int = 0, size: int = CHUNK_ROWS) -> Iterator[tuple[int, int]]:
    """(start, stop) ranges of at most `size` rows."""
    for start in range(first, first + rows, size):
        yield start, min(start + size, first + rows)


def chunk_rng(seed: int, start: int) -> Rng:
    """The generator of the chunk starting at row `start` of a file."""
    return np.random.default_rng([seed, 1, start])


def demand_times(rng: Rng, n: int, month: Month, hours: tuple, weekdays: tuple) -> np.ndarray:
    """Epoch seconds inside the month, drawn from a daily and hourly demand curve."""
    first_weekday = date(month.year, month.month, 1).weekday()
    day_weights = np.array([weekdays[(first_weekday + d) % 7] for d in range(month.days)])
    weights = np.outer(day_weights, np.array(hours)).ravel()
    slots = rng.choice(weights.size, size=n, p=weights / weights.sum())
    return month.start + slots * 3600 + rng.integers(0, 3600, size=n)


def stray_times(rng: Rng, codes: np.ndarray, month: Month) -> np.ndarray:
    """Epoch seconds of stray rows by code (0 where the row is not stray)."""
    times = np.zeros(codes.size, dtype=np.int64)
    offsets = rng.integers(0, 86400, size=codes.size)
    times = np.where(codes == STRAY_PREV, month.start - 86400 + offsets, times)
    times = np.where(codes == STRAY_NEXT, month.end + offsets, times)
    for code, moment in STRAY_FAR.items():
        times = np.where(codes == code, calendar.timegm((*moment, 0, 0)) + offsets % 7200, times)
    return times


def atomic_path(path: Path) -> Path:
    """A temporary sibling of `path`, renamed over it once complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.part")


# ---- taxi zones


def zone_rows() -> list[tuple[int, str, str, str]]:
    """(LocationID, Borough, Zone, service_zone) of the 265 zones."""
    manhattan, boro = set(MANHATTAN_ZONE_IDS), set(MANHATTAN_BORO_ZONE_IDS)
    rows, outer = [], 0
    for zone_id in range(1, 266):
        if zone_id == EWR:
            borough, service = "EWR", "EWR"
        elif zone_id in (JFK, LGA):
            borough, service = "Queens", "Airports"
        elif zone_id == 264:
            borough, service = "Unknown", "N/A"
        elif zone_id == 265:
            borough, service = "N/A", "N/A"
        elif zone_id in manhattan:
            borough, service = "Manhattan", "Boro Zone" if zone_id in boro else "Yellow Zone"
        else:
            borough, service = OUTER_BOROUGHS[outer % len(OUTER_BOROUGHS)], "Boro Zone"
            outer += 1
        rows.append((zone_id, borough, ZONE_NAMES.get(zone_id, f"{borough} Zone {zone_id}"), service))
    return rows


def write_zones(out: Path) -> FileEntry:
    """misc/taxi_zone_lookup.csv in the real layout: quoted header and text, bare ids, CRLF."""
    rel = "misc/taxi_zone_lookup.csv"
    lines = ['"LocationID","Borough","Zone","service_zone"']
    lines += [f'{i},"{borough}","{zone}","{service}"' for i, borough, zone, service in zone_rows()]
    part = atomic_path(out / rel)
    part.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    os.replace(part, out / rel)
    return FileEntry(rel, "zones", None, len(lines) - 1)


def zone_weights(source: str) -> tuple[np.ndarray, np.ndarray]:
    """Pickup and dropoff weights over zone ids 0..263 (airports and unknown zones excluded)."""
    popularity = np.random.default_rng(265).lognormal(0.0, 0.8, size=264)
    yellow_zone = np.zeros(264, dtype=bool)
    yellow_zone[[z for z in MANHATTAN_ZONE_IDS if z not in MANHATTAN_BORO_ZONE_IDS]] = True
    boro_manhattan = np.zeros(264, dtype=bool)
    boro_manhattan[list(MANHATTAN_BORO_ZONE_IDS)] = True
    hot = np.zeros(264, dtype=bool)
    hot[list(HOT_ZONE_IDS)] = True
    outer = ~(yellow_zone | boro_manhattan)
    if source == "yellow":
        pickup = popularity * np.where(yellow_zone, 40.0, np.where(boro_manhattan, 3.0, 0.3))
        pickup *= np.where(hot, 2.5, 1)
        dropoff = popularity * np.where(yellow_zone, 30.0, 1.5) * np.where(hot, 2.0, 1)
    else:
        pickup = popularity * np.where(boro_manhattan, 6.0, np.where(outer, 1.0, 0.0))
        dropoff = popularity * np.where(yellow_zone, 1.5, 1.0)
    for weights in (pickup, dropoff):
        weights[[0, EWR, JFK, LGA]] = 0.0
    return pickup / pickup.sum(), dropoff / dropoff.sum()


# ---- TLC trips


def column_type(source: str, name: str, new: bool) -> pa.DataType:
    """Arrow type of a TLC column in the era from 2023-02 (`new`) or before it."""
    if name.endswith("_datetime"):
        return pa.timestamp("us")
    if name in ("VendorID", "PULocationID", "DOLocationID"):
        return pa.int32() if new else pa.int64()
    if name == "store_and_fwd_flag":
        return pa.large_string() if new else pa.string()
    if name == "payment_type" and source == "yellow":
        return pa.int64()
    if name in ("passenger_count", "RatecodeID", "payment_type", "trip_type"):
        return pa.int64() if new else pa.float64()
    return pa.float64()


def taxi_schema(source: str, month: Month) -> pa.Schema:
    """Column names and Arrow types of a yellow or green file of the month's era."""
    new = month.key >= TLC_NEW_TYPES_FROM
    names = list(YELLOW_COLUMNS if source == "yellow" else GREEN_COLUMNS)
    if source == "yellow" and not new:
        names[names.index("Airport_fee")] = "airport_fee"
    if month.key >= CBD_FEE_FROM:
        names.append("cbd_congestion_fee")
    return pa.schema([(name, column_type(source, name, new)) for name in names])


def pick_zones(rng: Rng, n: int, source: str, unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pickup and dropoff zones, airport trips included; `unknown_zone` rows get 264/265 at one end."""
    pickup_w, dropoff_w = zone_weights(source)
    pu = rng.choice(264, size=n, p=pickup_w)
    do = rng.choice(264, size=n, p=dropoff_w)
    u = rng.random(n)
    pu_air_rate, do_air_rate = (0.07, 0.045) if source == "yellow" else (0.0, 0.02)
    pu = np.where(u < pu_air_rate, np.where(rng.random(n) < 0.55, JFK, LGA), pu)
    do_air = (u >= pu_air_rate) & (u < pu_air_rate + do_air_rate)
    do = np.where(do_air, rng.choice([JFK, LGA, EWR], size=n, p=[0.42, 0.48, 0.10]), do)
    bad_zone = rng.choice(UNKNOWN_ZONES, size=n)
    at_pickup = rng.random(n) < 0.5
    pu = np.where(unknown & at_pickup, bad_zone, pu)
    do = np.where(unknown & ~at_pickup, bad_zone, do)
    return pu, do


def taxi_chunk(source: str, month: Month, codes: np.ndarray, rng: Rng) -> pa.Table:
    """One chunk of a yellow or green file as an Arrow table of the month's schema."""
    n = codes.size
    kind = {name: codes == i for i, name in enumerate(TAXI_DIRTY_RATES, start=1)}
    in_month = demand_times(rng, n, month, TAXI_HOURS, TAXI_WEEKDAYS)
    pickup = np.where(codes < 0, stray_times(rng, codes, month), in_month)
    hour, weekday = (pickup % 86400) // 3600, (pickup // 86400 + 3) % 7
    pu, do = pick_zones(rng, n, source, kind["unknown_zone"])
    airports = np.array([EWR, JFK, LGA])
    to_ewr, any_air = (pu == EWR) | (do == EWR), np.isin(pu, airports) | np.isin(do, airports)
    distance = np.clip(rng.lognormal(np.log(1.8), 0.7, n), 0.3, 30.0)
    distance = np.where(any_air, rng.lognormal(np.log(11.5), 0.3, n), distance)
    distance = np.round(np.where(to_ewr, rng.lognormal(np.log(17.0), 0.2, n), distance), 2)
    rush = (weekday < 5) & (((hour >= 7) & (hour < 10)) | ((hour >= 16) & (hour < 20)))
    night = (hour >= 22) | (hour < 6)
    speed = np.clip(rng.normal(11.0, 3.0, n) - 2.0 * rush + 4.0 * night + 7.0 * any_air, 4.0, 45.0)
    duration = np.clip(distance / speed * 3600, 120, 3540).astype(np.int64) + rng.integers(0, 60, n)
    dropoff = np.where(kind["dropoff_before_pickup"], pickup - duration, pickup + duration)
    distance = np.where(kind["zero_distance"], 0.0, distance)

    manhattan = np.isin(pu, MANHATTAN_ZONE_IDS) | np.isin(do, MANHATTAN_ZONE_IDS)
    ratecode = np.where((pu == JFK) | (do == JFK), np.where(manhattan, 2, 1), 1)
    ratecode = np.where(do == EWR, 3, np.where((ratecode == 1) & (rng.random(n) < 0.004), 5, ratecode))
    new_fares = month.key >= TLC_2023_FARES_FROM
    per_start, per_mile, per_min = (3.0, 3.5, 0.35) if new_fares else (2.5, 2.5, 0.25)
    fare = np.round(per_start + per_mile * distance + per_min * duration / 60, 1)
    fare = np.where(ratecode == 2, 70.0 if new_fares else 52.0, fare)
    fare = np.where(ratecode == 3, fare + (20.0 if new_fares else 17.5), fare)
    fare = np.where(ratecode == 5, np.round(fare), fare)
    extra = np.where(night | (hour >= 20), 1.0 if new_fares else 0.5, np.where(rush & (hour >= 16), 2.5, 0.0))
    mta_tax = np.full(n, 0.5)
    improvement = np.full(n, 1.0 if new_fares else 0.3)
    yellow_zones = [z for z in MANHATTAN_ZONE_IDS if z not in MANHATTAN_BORO_ZONE_IDS]
    congestion_zone = np.isin(pu, yellow_zones) | np.isin(do, yellow_zones)
    congestion = np.where(congestion_zone, 2.5 if source == "yellow" else 2.75, 0.0)
    airport_fee = np.where(np.isin(pu, [JFK, LGA]), AIRPORT_FEE, 0.0)
    cbd = np.where(np.isin(do, CBD_ZONE_IDS), CBD_FEE, 0.0)
    tolls = np.where(any_air & (rng.random(n) < 0.45), np.where(to_ewr, 17.38, 6.94), 0.0)
    payment = rng.choice([1, 2, 3, 4], size=n, p=PAYMENT_SHARES[source])
    tipped = (payment == 1) & (rng.random(n) < 0.9)
    tip = np.where(tipped, np.round((fare + extra) * rng.uniform(0.12, 0.3, n), 2), 0.0)

    money = {"fare_amount": fare, "extra": extra, "mta_tax": mta_tax, "tip_amount": tip,
             "tolls_amount": tolls, "improvement_surcharge": improvement,
             "congestion_surcharge": congestion}  # fmt: skip
    if source == "yellow":
        money["airport_fee"] = airport_fee
    if month.key >= CBD_FEE_FROM:
        money["cbd_congestion_fee"] = cbd
    money["total_amount"] = np.round(sum(money.values()), 2)
    money = {name: np.where(kind["negative_fare"], 0.0 - values, values) for name, values in money.items()}

    passengers = rng.choice(np.arange(1, 7), size=n, p=[0.74, 0.15, 0.04, 0.02, 0.03, 0.02])
    columns = {
        "VendorID": (
            rng.choice([1, 2], size=n, p=[0.27, 0.73] if source == "yellow" else [0.15, 0.85]),
            None,
        ),
        "pickup_datetime": (pickup * 1_000_000, None),
        "dropoff_datetime": (dropoff * 1_000_000, None),
        "passenger_count": (passengers, kind["null_passenger_count"]),
        "trip_distance": (distance, None),
        "RatecodeID": (ratecode, None),
        "store_and_fwd_flag": ((rng.random(n) < 0.004).astype(np.int64), None),
        "PULocationID": (pu, None),
        "DOLocationID": (do, None),
        "payment_type": (payment, None),
        "ehail_fee": (np.zeros(n), np.ones(n, dtype=bool)),
        "trip_type": (np.where(rng.random(n) < 0.03, 2, 1), None),
        **{name: (values, None) for name, values in money.items()},
    }
    return to_table(columns, taxi_schema(source, month))


def to_table(columns: dict[str, tuple[np.ndarray, np.ndarray | None]], schema: pa.Schema) -> pa.Table:
    """Builds a table of `schema` from numpy columns (timestamps without their tpep_/lpep_ prefix)."""
    arrays = []
    for field in schema:
        name = field.name[5:] if field.name[:5] in ("tpep_", "lpep_") else field.name
        values, mask = columns["airport_fee" if name == "Airport_fee" else name]
        if name == "store_and_fwd_flag":
            arrays.append(pa.array(["N", "Y"], type=field.type).take(pa.array(values)))
        elif pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values, type=field.type))
        else:
            arrays.append(pa.array(values, mask=mask).cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_taxi(out: Path, source: str, month: Month, scale: float, seed: int) -> FileEntry:
    """Writes trip-data/<source>_tripdata_YYYY-MM.parquet chunk by chunk."""
    rel = f"trip-data/{source}_tripdata_{month.label}.parquet"
    rows, fseed = scaled_rows(source, scale), file_seed(seed, source, month)
    dirty, strays = special_counts(rows, TAXI_DIRTY_RATES), taxi_strays(rows)
    codes = plan_rows(rows, dirty, strays, np.random.default_rng([fseed, 0]))
    part = atomic_path(out / rel)
    with pq.ParquetWriter(part, taxi_schema(source, month), compression="zstd") as writer:
        for start, stop in chunks(rows):
            table = taxi_chunk(source, month, codes[start:stop], chunk_rng(fseed, start))
            writer.write_table(table, row_group_size=CHUNK_ROWS)
    os.replace(part, out / rel)
    return FileEntry(rel, source, month.label, rows, sum(strays.values()), dirty)


# ---- Citi Bike


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
    nibbles = (x[:, None] >> np.arange(60, -4, -4, dtype=np.uint64)) & np.uint64(15)
    chars = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)[nibbles.astype(np.intp)]
    return pa.array(np.ascontiguousarray(chars).view("S16").ravel()).cast(pa.string())


def timestamps_text(seconds: np.ndarray) -> pa.Array:
    """`YYYY-MM-DD HH:MM:SS`, as in the real 2024 files (no fractional seconds)."""
    return pc.strftime(pa.array(seconds, type=pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")


def bike_chunk(month: Month, codes: np.ndarray, first_row: int, seed: int, stations: Stations) -> pa.Table:
    """One chunk of rides as a table of 13 text columns."""
    n, rng = codes.size, chunk_rng(seed, first_row)
    kind = {name: codes == i for i, name in enumerate(BIKE_DIRTY_RATES, start=1)}
    missing = kind["missing_end_station"]
    start_idx = rng.choice(BIKE_STATIONS, size=n, p=stations.weights)
    end_idx = np.abs(start_idx + np.round(rng.normal(0, 50, n)).astype(np.int64))
    end_idx = np.where(end_idx >= BIKE_STATIONS, 2 * BIKE_STATIONS - 2 - end_idx, end_idx)
    electric = rng.random(n) < 0.64
    started = demand_times(rng, n, month, BIKE_HOURS, BIKE_WEEKDAYS)
    started = np.where(codes == STRAY_PREV, month.start - rng.integers(1, 86400, n), started)
    duration = rng.lognormal(np.log(540), 0.8, n) * np.where(electric, 0.85, 1.0)
    duration = np.clip(duration, 60, 14400).astype(np.int64)
    ended = np.where(kind["ended_before_started"], started - duration, started + duration)

    def coords(idx: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Station coordinates, GPS-jittered with 9 decimals for e-bikes."""
        return np.where(electric, np.round(values[idx] + rng.normal(0, 0.0002, n), 9), values[idx])

    def text(values: pa.Array | np.ndarray, blank: np.ndarray | None = None) -> pa.Array:
        """A text column, `""` where `blank`."""
        array = values if isinstance(values, pa.Array) else pc.cast(pa.array(values), pa.string())
        return pc.if_else(pa.array(blank), "", array) if blank is not None else array

    columns = [
        ride_ids(seed, first_row, n),
        pa.array(["classic_bike", "electric_bike"]).take(pa.array(electric.astype(np.int8))),
        timestamps_text(started),
        timestamps_text(ended),
        stations.names.take(pa.array(start_idx)),
        stations.ids.take(pa.array(start_idx)),
        text(stations.names.take(pa.array(end_idx)), missing),
        text(stations.ids.take(pa.array(end_idx)), missing),
        text(coords(start_idx, stations.lat)),
        text(coords(start_idx, stations.lng)),
        text(coords(end_idx, stations.lat), missing),
        text(coords(end_idx, stations.lng), missing),
        pa.array(["casual", "member"]).take(pa.array((rng.random(n) < 0.84).astype(np.int8))),
    ]
    return pa.Table.from_arrays(columns, names=list(BIKE_COLUMNS))


def member_ranges(rows: int) -> list[tuple[int, int]]:
    """Row ranges of the CSV members: CSV_MEMBER_ROWS each as upstream, but never fewer than two members."""
    limit = min(CSV_MEMBER_ROWS, math.ceil(rows / 2))
    return [(start, min(start + limit, rows)) for start in range(0, rows, limit)]


def write_citibike(out: Path, month: Month, scale: float, seed: int, stations: Stations) -> FileEntry:
    """Writes YYYYMM-citibike-tripdata.zip, streaming each CSV member chunk by chunk."""
    stem = f"{month.year:04d}{month.month:02d}-citibike-tripdata"
    rows, fseed = scaled_rows("citibike", scale), file_seed(seed, "citibike", month)
    dirty = special_counts(rows, BIKE_DIRTY_RATES)
    strays = {STRAY_PREV: max(2, round(rows * BIKE_STRAY_RATE))}
    codes = plan_rows(rows, dirty, strays, np.random.default_rng([fseed, 0]))
    stamp = (*month.next().key, 1, 0, 0, 0)
    members: dict[str, int] = {}
    part = atomic_path(out / f"{stem}.zip")
    with zipfile.ZipFile(part, "w") as archive:
        for number, (first, last) in enumerate(member_ranges(rows), start=1):
            name = f"{stem}_{number}.csv"
            with archive.open(zip_info(name, stamp), "w") as stream:
                for start, stop in chunks(last - first, first):
                    table = bike_chunk(month, codes[start:stop], start, fseed, stations)
                    buffer = pa.BufferOutputStream()
                    options = pacsv.WriteOptions(include_header=start == first, quoting_style="all_valid")
                    pacsv.write_csv(table, buffer, options)
                    stream.write(buffer.getvalue())
            members[name] = last - first
            if number == 1:
                archive.writestr(zip_info(f"__MACOSX/._{name}", stamp), APPLE_DOUBLE)
    os.replace(part, out / f"{stem}.zip")
    return FileEntry(f"{stem}.zip", "citibike", month.label, rows, sum(strays.values()), dirty, members)


def zip_info(name: str, stamp: tuple) -> zipfile.ZipInfo:
    """A deflated zip entry with a fixed date and Unix attributes, so that archives are byte-identical."""
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type, info.create_system, info.external_attr = zipfile.ZIP_DEFLATED, 3, 0o100644 << 16
    return info


# ---- weather


def weather_body(month: Month, seed: int) -> dict:
    """The Open-Meteo archive response for one month of hourly New York weather."""
    rng = np.random.default_rng([file_seed(seed, "weather", month), 0])
    days, hours = month.days, np.tile(np.arange(24), month.days)
    anomaly = np.zeros(days)
    for day in range(days):
        anomaly[day] = (0.7 * anomaly[day - 1] if day else 0.0) + rng.normal(0, 2.2)
    diurnal = -4.5 * np.cos(2 * np.pi * (hours - 4) / 24)
    temperature = MONTHLY_MEAN_C[month.month - 1] + np.repeat(anomaly, 24) + diurnal
    temperature = np.round(temperature + rng.normal(0, 0.4, days * 24), 1)
    wet = np.zeros(days * 24, dtype=bool)
    for day in np.flatnonzero(rng.random(days) < MONTHLY_WET_DAYS[month.month - 1]):
        first = day * 24 + rng.integers(0, 24)
        wet[first : first + rng.integers(2, 13)] = True
    precipitation = np.where(wet, np.maximum(np.round(rng.exponential(1.3, days * 24), 1), 0.1), 0.0)
    snowy = wet & (temperature <= 0.5)
    rain = np.where(snowy, 0.0, precipitation)
    snowfall = np.where(snowy, np.round(precipitation * 0.7, 2), 0.0)
    dry_code = rng.choice([0, 1, 2, 3], size=days * 24, p=[0.35, 0.25, 0.2, 0.2])
    rain_code = np.select([rain < 0.3, rain < 0.6, rain < 1.5, rain < 4.0], [51, 53, 61, 63], 65)
    snow_code = np.select([snowfall < 0.5, snowfall < 1.5], [71, 73], 75)
    code = np.where(snowy, snow_code, np.where(wet, rain_code, dry_code))
    wind = np.round(rng.gamma(3.0, 4.5, days * 24), 1)
    offset = ZoneInfo("America/New_York").utcoffset(datetime(month.year, month.month, 1))
    offset_seconds = int(offset.total_seconds()) if offset else 0
    times = [f"{month.label}-{day + 1:02d}T{hour:02d}:00" for day in range(days) for hour in range(24)]
    return {
        "latitude": WEATHER_LAT,
        "longitude": WEATHER_LON,
        "generationtime_ms": 0.5,
        "utc_offset_seconds": offset_seconds,
        "timezone": "America/New_York",
        "timezone_abbreviation": f"GMT{offset_seconds // 3600:+d}",
        "elevation": WEATHER_ELEVATION,
        "hourly_units": HOURLY_UNITS,
        "hourly": {
            "time": times,
            "temperature_2m": temperature.tolist(),
            "precipitation": precipitation.tolist(),
            "rain": rain.tolist(),
            "snowfall": snowfall.tolist(),
            "wind_speed_10m": wind.tolist(),
            "weather_code": code.tolist(),
        },
    }


def write_weather(out: Path, month: Month, seed: int) -> FileEntry:
    """Writes v1/archive/YYYY-MM.json, compact JSON as the API sends it."""
    rel = f"v1/archive/{month.label}.json"
    body = weather_body(month, seed)
    part = atomic_path(out / rel)
    part.write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    os.replace(part, out / rel)
    return FileEntry(rel, "weather", month.label, len(body["hourly"]["time"]))


# ---- the mirror


def generate(out: Path, months: list[Month], scale: float, seed: int) -> dict:
    """Writes every file of the mirror and its manifest; returns the manifest."""
    stations = make_stations()
    entries = [report(out, write_zones(out))]
    for month in months:
        entries.append(report(out, write_taxi(out, "yellow", month, scale, seed)))
        entries.append(report(out, write_taxi(out, "green", month, scale, seed)))
        entries.append(report(out, write_citibike(out, month, scale, seed, stations)))
        entries.append(report(out, write_weather(out, month, seed)))
    manifest = {
        "generator": "ingest.sample",
        "seed": seed,
        "scale": scale,
        "months": [month.label for month in months],
        "files": {entry.path: entry.as_json() for entry in entries},
    }
    part = atomic_path(out / "manifest.json")
    part.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(part, out / "manifest.json")
    print(f"{out / 'manifest.json'}\t{len(entries)} files", flush=True)
    return manifest


def report(out: Path, entry: FileEntry) -> FileEntry:
    """Prints the summary line of a written file."""
    print(f"{out / entry.path}\t{entry.rows} rows", flush=True)
    return entry


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m ingest.sample`."""
    args = build_parser().parse_args(argv)
    generate(args.out, args.months, args.scale, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
