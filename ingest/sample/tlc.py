"""TLC yellow and green trip records (trip-data/<service>_tripdata_YYYY-MM.parquet), as dirty as the real ones.

Each special row has exactly one defect, so that the manifest counts every kind exactly. The rates are the
shares measured in the real files under ../shared/fixtures/real (yellow 2025-02, 5,000 random rows; green
2023-12, the full month of 64,215 rows) unless a comment says the rate is an estimate.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.sample.common import (
    CHUNK_ROWS,
    STRAY_FAR,
    STRAY_NEXT,
    STRAY_PREV,
    FileEntry,
    Month,
    Rng,
    atomic_path,
    chunk_rng,
    chunks,
    demand_times,
    file_seed,
    plan_rows,
    scaled_rows,
    special_counts,
    split,
    stray_times,
)
from ingest.sample.weather import TAXI_WEATHER_FACTORS, weather_factors
from ingest.sample.zones import (
    AIRPORT_DROPOFF_PCT,
    AIRPORT_DROPOFF_SPLIT,
    AIRPORT_PICKUP_PCT,
    AIRPORT_PICKUP_SPLIT,
    CBD_ZONE_IDS,
    EWR,
    JFK,
    LGA,
    MANHATTAN_ZONE_IDS,
    UNKNOWN_ZONES,
    YELLOW_ZONE_IDS,
    pick_airports,
    zone_weights,
)

TLC_NEW_TYPES_FROM = (2023, 2)  # int32 ids, int64 counts, `Airport_fee` from this month
TLC_2023_FARES_FROM = (2023, 1)  # fares and improvement surcharge after the 2022-12 fare change
CBD_FEE_FROM = (2025, 1)
FLEX_FARE_FULL_FROM = (2025, 1)  # the measured flex-fare share is from 2025-02
AIRPORT_FEE = 1.75  # yellow pickups at JFK or LaGuardia
CBD_FEE = 0.75  # trips that end in the CBD, from 2025-01

# Rows excluded from the facts (`dirty_rows`), by the warehouse's exclusion outcome.
TAXI_EXCLUDED_RATES = {
    "yellow": {
        "dropoff_before_pickup": 0.00005,  # estimate: none in the 69,215 real rows
        "reversal": 0.0184,  # yellow 2025-02: 92 of 5,000 rows with every amount negated, payment 2/3/4
        "voided_trip": 0.0005,  # estimate: payment_type 6 is in the TLC dictionary, in neither real file
    },
    "green": {
        "dropoff_before_pickup": 0.00005,  # estimate, as yellow
        "reversal": 0.003,  # green 2023-12: 190 of 64,215
        "voided_trip": 0.0005,  # estimate, as yellow
    },
}
# Rows that stay in the facts with an unknown value or a quality flag (`kept_rows`).
TAXI_KEPT_RATES = {
    "yellow": {
        "flex_fare": 0.225,  # yellow 2025-02: 1,125 of 5,000 with payment_type 0 (0.04 before 2025, below)
        "unknown_zone": 0.0058,  # 29 of 5,000 start or end in zone 264 or 265
        "zero_distance": 0.0276,  # 138 of 5,000
        "zero_fare": 0.0002,  # 1 of 5,000
        "absurd_distance": 0.0002,  # 1 of 5,000 (73,364 miles)
        "absurd_speed": 0.0002,  # estimate: none in 5,000 (green has 0.0029)
        "overlong_trip": 0.0002,  # estimate: none in 5,000 (green has 0.0033)
    },
    "green": {
        "null_payment_type": 0.0765,  # green 2023-12: 4,912 of 64,215
        "unknown_zone": 0.0116,  # 745
        "zero_distance": 0.051,  # 3,274
        "zero_fare": 0.00067,  # 43
        "absurd_distance": 0.00075,  # 48 over 200 miles, up to 118,988 miles, at normal fares and durations
        "absurd_speed": 0.0029,  # 184 under 200 miles at over 80 mph
        "overlong_trip": 0.0033,  # 210 over 12 hours, nearly all 23 to 24 hours
    },
}
# Estimate: the flex-fare (payment_type 0, NULL passenger count) rows are fewer before 2025; no real file here
# measures it, so this share is a guess.
FLEX_FARE_RATE_BEFORE_2025 = 0.04
FLEX_NEGATIVE_FARE_SHARE = 0.161  # 181 of the 1,125 flex-fare rows: fare_amount -4.75 or so, total_amount > 0
TAXI_STRAY_RATE = 0.0002
# payment_type 1 card, 2 cash, 3 no charge, 4 dispute; reversals are cash, no charge or dispute as measured
# in yellow 2025-02 (23, 8 and 61 of the 92).
PAYMENT_SHARES = {"yellow": [0.78, 0.19, 0.02, 0.01], "green": [0.6, 0.37, 0.02, 0.01]}
REVERSAL_PAYMENT_SHARES = [0.25, 0.09, 0.66]
# The row variants and their codes in a file's row plan; a variant counts under the kind it names first.
TAXI_VARIANTS = ("dropoff_before_pickup", "reversal", "voided_trip", "flex_fare", "flex_fare_negative",
                 "null_payment_type", "unknown_zone", "zero_distance", "zero_fare", "absurd_distance",
                 "absurd_speed", "overlong_trip")  # fmt: skip
CODE = {name: code for code, name in enumerate(TAXI_VARIANTS, start=1)}

TAXI_HOURS = (0.8, 0.5, 0.35, 0.25, 0.2, 0.25, 0.55, 1.0, 1.3, 1.35, 1.3, 1.35,
              1.45, 1.5, 1.6, 1.7, 1.75, 1.95, 2.0, 1.85, 1.7, 1.6, 1.4, 1.1)  # fmt: skip
TAXI_WEEKDAYS = (0.92, 0.98, 1.02, 1.05, 1.1, 1.05, 0.88)  # Monday first

YELLOW_COLUMNS = ("VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count",
                  "trip_distance", "RatecodeID", "store_and_fwd_flag", "PULocationID", "DOLocationID",
                  "payment_type", "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
                  "improvement_surcharge", "total_amount", "congestion_surcharge", "Airport_fee")  # fmt: skip
GREEN_COLUMNS = ("VendorID", "lpep_pickup_datetime", "lpep_dropoff_datetime", "store_and_fwd_flag",
                 "RatecodeID", "PULocationID", "DOLocationID", "passenger_count", "trip_distance",
                 "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "ehail_fee",
                 "improvement_surcharge", "total_amount", "payment_type", "trip_type",
                 "congestion_surcharge")  # fmt: skip


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


def kept_rates(source: str, month: Month) -> dict[str, float]:
    """Rates of the rows the facts keep with a flag; the flex-fare share is lower before 2025."""
    rates = dict(TAXI_KEPT_RATES[source])
    if "flex_fare" in rates and month.key < FLEX_FARE_FULL_FROM:
        rates["flex_fare"] = FLEX_FARE_RATE_BEFORE_2025
    return rates


def taxi_strays(rows: int) -> dict[int, int]:
    """Stray rows of a TLC file by code: mostly the edge days around the month, a few far-away years."""
    total = max(6, round(rows * TAXI_STRAY_RATE))
    far = max(3, round(total * 0.1))
    edge = total - far
    counts = {STRAY_PREV: edge // 2, STRAY_NEXT: edge - edge // 2}
    for index, code in enumerate(STRAY_FAR):
        counts[code] = far // 3 + (index < far % 3)
    return counts


def pick_zones(rng: Rng, n: int, source: str, unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pickup and dropoff zones, airport trips included; `unknown_zone` rows get 264/265 at one end."""
    pickup_w, dropoff_w = zone_weights(source)
    pu = rng.choice(264, size=n, p=pickup_w)
    do = rng.choice(264, size=n, p=dropoff_w)
    u = rng.random(n)
    pu_air_rate, do_air_rate = AIRPORT_PICKUP_PCT[source] / 100, AIRPORT_DROPOFF_PCT[source] / 100
    pu = np.where(u < pu_air_rate, pick_airports(rng, n, AIRPORT_PICKUP_SPLIT), pu)
    do_air = (u >= pu_air_rate) & (u < pu_air_rate + do_air_rate)
    do = np.where(do_air, pick_airports(rng, n, AIRPORT_DROPOFF_SPLIT), do)
    bad_zone = rng.choice(UNKNOWN_ZONES, size=n)
    at_pickup = rng.random(n) < 0.5
    pu = np.where(unknown & at_pickup, bad_zone, pu)
    do = np.where(unknown & ~at_pickup, bad_zone, do)
    return pu, do


def taxi_chunk(source: str, month: Month, codes: np.ndarray, rng: Rng, weather: np.ndarray) -> pa.Table:
    """One chunk of a yellow or green file as an Arrow table of the month's schema (`weather`: demand by hour)."""
    n = codes.size
    kind = {name: codes == code for name, code in CODE.items()}
    flex = kind["flex_fare"] | kind["flex_fare_negative"]
    no_payment = kind["null_payment_type"]
    in_month = demand_times(rng, n, month, TAXI_HOURS, TAXI_WEEKDAYS, weather)
    pickup = np.where(codes < 0, stray_times(rng, codes, month), in_month)
    hour, weekday = (pickup % 86400) // 3600, (pickup // 86400 + 3) % 7
    pu, do = pick_zones(rng, n, source, kind["unknown_zone"])
    airports = np.array([EWR, JFK, LGA])
    to_ewr, any_air = (pu == EWR) | (do == EWR), np.isin(pu, airports) | np.isin(do, airports)
    distance = np.clip(rng.lognormal(np.log(1.8), 0.7, n), 0.3, 30.0)
    distance = np.where(any_air, rng.lognormal(np.log(11.5), 0.3, n), distance)
    distance = np.round(np.clip(np.where(to_ewr, rng.lognormal(np.log(17.0), 0.2, n), distance), 0.3, 45.0), 2)
    rush = (weekday < 5) & (((hour >= 7) & (hour < 10)) | ((hour >= 16) & (hour < 20)))
    night = (hour >= 22) | (hour < 6)
    speed = np.clip(rng.normal(11.0, 3.0, n) - 2.0 * rush + 4.0 * night + 7.0 * any_air, 4.0, 45.0)
    duration = np.clip(distance / speed * 3600, 120, 3540).astype(np.int64) + rng.integers(0, 60, n)
    # 10 to 60 miles in 1 to 5 minutes: over 120 mph; the meter still runs on the recorded time.
    distance = np.where(kind["absurd_speed"], np.round(rng.uniform(10.0, 60.0, n), 2), distance)
    duration = np.where(kind["absurd_speed"], rng.integers(60, 300, n), duration)

    manhattan = np.isin(pu, MANHATTAN_ZONE_IDS) | np.isin(do, MANHATTAN_ZONE_IDS)
    ratecode = np.where((pu == JFK) | (do == JFK), np.where(manhattan, 2, 1), 1)
    ratecode = np.where(do == EWR, 3, np.where((ratecode == 1) & (rng.random(n) < 0.004), 5, ratecode))
    new_fares = month.key >= TLC_2023_FARES_FROM
    per_start, per_mile, per_min = (3.0, 3.5, 0.35) if new_fares else (2.5, 2.5, 0.25)
    fare = np.round(per_start + per_mile * distance + per_min * duration / 60, 1)
    fare = np.where(ratecode == 2, 70.0 if new_fares else 52.0, fare)
    fare = np.where(ratecode == 3, fare + (20.0 if new_fares else 17.5), fare)
    fare = np.where(ratecode == 5, np.round(fare), fare)
    fare = np.where(kind["zero_fare"], 0.0, fare)
    extra = np.where(night | (hour >= 20), 1.0 if new_fares else 0.5, np.where(rush & (hour >= 16), 2.5, 0.0))
    mta_tax = np.full(n, 0.5)
    improvement = np.full(n, 1.0 if new_fares else 0.3)
    congestion_zone = np.isin(pu, YELLOW_ZONE_IDS) | np.isin(do, YELLOW_ZONE_IDS)
    congestion = np.where(congestion_zone, 2.5 if source == "yellow" else 2.75, 0.0)
    airport_fee = np.where(np.isin(pu, [JFK, LGA]), AIRPORT_FEE, 0.0)
    cbd = np.where(np.isin(do, CBD_ZONE_IDS), CBD_FEE, 0.0)
    tolls = np.where(any_air & (rng.random(n) < 0.45), np.where(to_ewr, 17.38, 6.94), 0.0)
    payment = rng.choice([1, 2, 3, 4], size=n, p=PAYMENT_SHARES[source])
    payment = np.where(kind["reversal"], rng.choice([2, 3, 4], size=n, p=REVERSAL_PAYMENT_SHARES), payment)
    payment = np.where(kind["voided_trip"], 6, np.where(flex | no_payment, 0, payment))
    tip_draw = rng.random(n)
    tipped = ((payment == 1) & (tip_draw < 0.9) | flex & (tip_draw < 0.075)) & ~kind["zero_fare"]
    tip = np.where(tipped, np.round((fare + extra) * rng.uniform(0.12, 0.3, n), 2), 0.0)

    # Dropoff times: the unusual durations come after the fare, which was metered on a normal one.
    duration = np.where(kind["overlong_trip"], 82800 + rng.integers(0, 3540, n), duration)
    dropoff = np.where(kind["dropoff_before_pickup"], pickup - duration, pickup + duration)
    distance = np.where(kind["zero_distance"], 0.0, distance)
    absurd = np.round(np.exp(rng.uniform(np.log(201.0), np.log(120_000.0), n)), 2)  # 35,024.0 or 1,571 miles
    distance = np.where(kind["absurd_distance"], absurd, distance)

    money = {"fare_amount": fare, "extra": extra, "mta_tax": mta_tax, "tip_amount": tip,
             "tolls_amount": tolls, "improvement_surcharge": improvement,
             "congestion_surcharge": congestion}  # fmt: skip
    if source == "yellow":
        money["airport_fee"] = airport_fee
    if month.key >= CBD_FEE_FROM:
        money["cbd_congestion_fee"] = cbd
    money["total_amount"] = np.round(sum(money.values()), 2)
    # A reversal negates every amount (adding 0.0 turns -0.0 into 0.0).
    money = {name: np.where(kind["reversal"], -values, values) + 0.0 for name, values in money.items()}
    # A flex fare with a negative fare_amount still totals a few positive dollars, as measured.
    negative = kind["flex_fare_negative"]
    flex_fare = rng.choice([-4.75, -4.0, -1.5], size=n, p=[0.85, 0.1, 0.05])
    money["fare_amount"] = np.where(negative, flex_fare, money["fare_amount"])
    money["total_amount"] = np.where(negative, np.round(rng.uniform(2.4, 6.1, n), 2), money["total_amount"])

    # Flex-fare and unknown-payment rows leave the trip's descriptors and the surcharges NULL, as measured.
    unknown = flex | no_payment
    vendor_shares = [0.27, 0.73] if source == "yellow" else [0.15, 0.85]
    vendor = np.where(flex, np.where(rng.random(n) < 0.88, 2, 1), rng.choice([1, 2], size=n, p=vendor_shares))
    passengers = rng.choice(np.arange(1, 7), size=n, p=[0.74, 0.15, 0.04, 0.02, 0.03, 0.02])
    columns = {
        "VendorID": (vendor, None),
        "pickup_datetime": (pickup * 1_000_000, None),
        "dropoff_datetime": (dropoff * 1_000_000, None),
        "passenger_count": (passengers, unknown),
        "trip_distance": (distance, None),
        "RatecodeID": (ratecode, unknown),
        "store_and_fwd_flag": ((rng.random(n) < 0.004).astype(np.int64), unknown),
        "PULocationID": (pu, None),
        "DOLocationID": (do, None),
        "payment_type": (payment, no_payment),
        "ehail_fee": (np.zeros(n), np.ones(n, dtype=bool)),
        "trip_type": (np.where(rng.random(n) < 0.03, 2, 1), no_payment),
        **{name: (values, None) for name, values in money.items()},
    }
    columns["congestion_surcharge"] = (money["congestion_surcharge"], unknown)
    if source == "yellow":
        columns["airport_fee"] = (money["airport_fee"], flex)
    return to_table(columns, taxi_schema(source, month))


def to_table(columns: dict[str, tuple[np.ndarray, np.ndarray | None]], schema: pa.Schema) -> pa.Table:
    """Builds a table of `schema` from numpy columns (timestamps without their tpep_/lpep_ prefix)."""
    arrays = []
    for field in schema:
        name = field.name[5:] if field.name[:5] in ("tpep_", "lpep_") else field.name
        values, mask = columns["airport_fee" if name == "Airport_fee" else name]
        if name == "store_and_fwd_flag":
            arrays.append(pa.array(["N", "Y"], type=field.type).take(pa.array(values, mask=mask)))
        elif pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values, type=field.type))
        else:
            arrays.append(pa.array(values, mask=mask).cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def variant_counts(rows: int, source: str, month: Month) -> tuple[dict[str, int], dict[str, int], dict[int, int]]:
    """(excluded rows by kind, kept rows by kind, rows by variant code) of one file."""
    excluded, kept = special_counts(rows, TAXI_EXCLUDED_RATES[source]), special_counts(rows, kept_rates(source, month))
    by_variant = {**excluded, **kept}
    if "flex_fare" in kept:
        by_variant["flex_fare"], by_variant["flex_fare_negative"] = split(kept["flex_fare"], FLEX_NEGATIVE_FARE_SHARE)
    return excluded, kept, {CODE[name]: n for name, n in by_variant.items()}


def write_taxi(out: Path, source: str, month: Month, scale: float, seed: int) -> FileEntry:
    """Writes trip-data/<source>_tripdata_YYYY-MM.parquet chunk by chunk."""
    rel = f"trip-data/{source}_tripdata_{month}.parquet"
    rows, fseed = scaled_rows(source, scale), file_seed(seed, source, month)
    excluded, kept, by_code = variant_counts(rows, source, month)
    strays = taxi_strays(rows)
    codes = plan_rows(rows, {**by_code, **strays}, np.random.default_rng([fseed, 0]))
    weather = weather_factors(month, seed, TAXI_WEATHER_FACTORS)
    part = atomic_path(out / rel)
    with pq.ParquetWriter(part, taxi_schema(source, month), compression="zstd") as writer:
        for start, stop in chunks(rows):
            table = taxi_chunk(source, month, codes[start:stop], chunk_rng(fseed, start), weather)
            writer.write_table(table, row_group_size=CHUNK_ROWS)
    os.replace(part, out / rel)
    return FileEntry(rel, source, str(month), rows, sum(strays.values()), excluded, kept)
