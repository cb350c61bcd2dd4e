"""Reconciliation checks, generated from one declaration: `python -m checks.reconcile` writes checks/reconciliation.yml.

Every mart column is either a measure restated here over the raw tables (independent SQL: the validity rules of
docs/validity_policy.md are written again, not read from staging) or a key of the mart's grain, or declared exempt
with a reason. Each mart is compared with its restatement at the mart's own grain (per day, per zone and hour, per
payment type and day, ...), so a wrong formula, a duplicating join, a dropped service, a shifted hour or a unit change
shows as a failing row naming the mart, the key, the measure and both values. Ratios and averages are recomputed from
raw sums. A last check fails when a mart has a column nobody declared, so a new measure cannot be forgotten.

A month is compared when it lies in [check_start_month, check_end_month] and has landed in the raw tables the mart
waits for (signals/landed.py: `any` of them for the taxi marts, `all` for the combined ones).
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlmesh.utils import yaml as sqlmesh_yaml

from macros.trips import local_hour_as_utc

OUTPUT = Path(__file__).resolve().parent / "reconciliation.yml"
CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"
TAXI_TABLES = ("raw_tlc.yellow_trips", "raw_tlc.green_trips")
BIKE_TABLES = ("raw_citibike.trips",)
WEATHER_TABLES = ("raw_weather.hourly",)
MONEY = 0.01  # dollars: sums of amounts agree to the cent
EXACT = 0
RATIO = 1e-9

# Usable taxi trips restated over raw: placed in time in their file's month, dropoff not before pickup, not a void
# (payment type 6), not a reversal (negative total). Everything else is a trip, whatever its unknowns or flags.
RAW_TAXI = """
  raw_taxi AS (
    SELECT 'yellow' AS service_type, source_month, tpep_pickup_datetime AS pickup_at,
      tpep_dropoff_datetime AS dropoff_at, payment_type, passenger_count, trip_distance, pu_location_id,
      do_location_id, fare_amount, tip_amount, tolls_amount, total_amount, extra, mta_tax, improvement_surcharge,
      congestion_surcharge, COALESCE(airport_fee, 0) AS airport_fee, COALESCE(cbd_congestion_fee, 0) AS cbd_fee,
      0 AS ehail_fee
    FROM raw_tlc.yellow_trips
    UNION ALL
    SELECT 'green', source_month, lpep_pickup_datetime, lpep_dropoff_datetime, payment_type, passenger_count,
      trip_distance, pu_location_id, do_location_id, fare_amount, tip_amount, tolls_amount, total_amount, extra,
      mta_tax, improvement_surcharge, congestion_surcharge, 0, COALESCE(cbd_congestion_fee, 0),
      COALESCE(ehail_fee, 0)
    FROM raw_tlc.green_trips
  ), taxi AS (
    SELECT
      service_type,
      source_month AS trip_month,
      CAST(pickup_at AS DATE) AS trip_date,
      DATE_TRUNC('hour', pickup_at) AS trip_hour,
      pickup_at,
      CASE WHEN pu_location_id IN (SELECT location_id FROM raw_tlc.taxi_zones) THEN CAST(pu_location_id AS INT)
        ELSE -1 END AS pickup_zone, -- -1: not in the zone lookup
      CASE WHEN do_location_id IN (SELECT location_id FROM raw_tlc.taxi_zones) THEN CAST(do_location_id AS INT)
        ELSE -1 END AS dropoff_zone,
      COALESCE(CAST(payment_type AS INT), 5) AS payment_type,
      CAST(passenger_count AS INT) AS passengers,
      trip_distance AS distance_miles,
      DATE_DIFF('second', pickup_at, dropoff_at) AS duration_seconds,
      CAST(fare_amount AS DECIMAL(18, 2)) AS fare,
      CAST(tip_amount AS DECIMAL(18, 2)) AS tip,
      CAST(tolls_amount AS DECIMAL(18, 2)) AS tolls,
      CAST(airport_fee AS DECIMAL(18, 2)) AS airport_fee,
      CAST(cbd_fee AS DECIMAL(18, 2)) AS cbd_fee,
      CAST(extra AS DECIMAL(18, 2)) + CAST(mta_tax AS DECIMAL(18, 2)) + CAST(improvement_surcharge AS DECIMAL(18, 2))
        + CAST(congestion_surcharge AS DECIMAL(18, 2)) + CAST(airport_fee AS DECIMAL(18, 2))
        + CAST(cbd_fee AS DECIMAL(18, 2)) + CAST(ehail_fee AS DECIMAL(18, 2)) AS fees,
      CAST(total_amount AS DECIMAL(18, 2)) AS total,
      NOT (
        COALESCE(trip_distance > ${taxi_distance_max_miles} OR trip_distance < 0, FALSE)
        OR COALESCE(DATE_DIFF('second', pickup_at, dropoff_at) > ${taxi_duration_max_seconds}, FALSE)
        OR COALESCE(trip_distance * 3600 / NULLIF(DATE_DIFF('second', pickup_at, dropoff_at), 0)
          > ${taxi_speed_max_mph}, FALSE)
        OR COALESCE(fare_amount > ${taxi_fare_max}, FALSE)
      ) AS is_plausible
    FROM raw_taxi
    WHERE pickup_at IS NOT NULL AND dropoff_at IS NOT NULL
      AND DATE_TRUNC('month', pickup_at) = source_month
      AND dropoff_at >= pickup_at
      AND COALESCE(payment_type, -1) <> 6
      AND COALESCE(total_amount, 0) >= 0
  )"""

# Usable Citi Bike rides restated over raw: placed in time in their file's month, not ending before they start.
RAW_BIKE = """
  bike AS (
    SELECT
      source_month AS trip_month,
      CAST(started_at AS DATE) AS trip_date,
      started_at,
      CASE WHEN LOWER(member_casual) IN ('member', 'casual') THEN LOWER(member_casual) ELSE 'unknown' END
        AS rider_type,
      rideable_type,
      DATE_DIFF('second', started_at, ended_at) AS duration_seconds
    FROM raw_citibike.trips
    WHERE started_at IS NOT NULL AND ended_at IS NOT NULL
      AND DATE_TRUNC('month', started_at) = source_month
      AND ended_at >= started_at
  )"""

# Weather hours: UTC instants, with the New York hour they stand for.
RAW_WEATHER = """
  weather AS (
    SELECT time_utc AS hour_utc, source_month AS trip_month
    FROM raw_weather.hourly
  )"""


# The raw rows of the months a scan checks (check_start_month..check_end_month); trip_month is the file's month.
CHECKED_MONTHS = "trip_month BETWEEN DATE '${check_start_month}' AND DATE '${check_end_month}'"


def utc_hour(column: str) -> str:
    """The UTC hour a naive New York time falls in (a skipped hour moves forward, a repeated one is standard time),
    by the models' own rule (macros/trips.py), so that it reads the same on DuckDB and Spark."""
    rule = local_hour_as_utc(None, exp.column(column)).sql("duckdb")
    return sqlglot.parse_one(rule, read="duckdb").sql("duckdb")  # as SQLMesh reads the macro: runnable DuckDB SQL


@dataclass(frozen=True)
class Measure:
    """A mart column and its restatement over raw rows grouped at the mart's grain."""

    column: str
    raw: str
    tolerance: float = EXACT
    mart: str | None = None  # the mart-side aggregate at the grain; SUM(column) unless given
    relative: bool = False  # tolerance as a share of the raw value (at least 1): sums of floats over millions of rows

    def bound(self) -> str:
        """SQL: the largest difference accepted between the raw and the mart value of this measure."""
        if not self.relative:
            return str(self.tolerance)
        return f"{self.tolerance} * GREATEST(1, ABS(COALESCE(expected.raw_value, 0)))"


@dataclass(frozen=True)
class Mart:
    """A mart: its grain keys (mart column -> raw expression), the raw rows it is built from, measures, exemptions."""

    name: str
    month: str  # mart expression giving the month a row belongs to
    keys: dict[str, str]
    source: str  # FROM clause over the raw CTEs
    tables: tuple[str, ...]
    landed_in: str
    measures: tuple[Measure, ...]
    where: str = "TRUE"
    exempt: dict[str, str] = field(default_factory=dict)
    lookups: tuple[str, ...] = ()  # tables that are not monthly but must hold rows for the mart to have any


def money(column: str, raw: str) -> Measure:
    """A sum of dollars, to the cent."""
    return Measure(column, raw, MONEY)


TAXI_SUMS = (
    Measure("trips", "COUNT(*)", mart="COUNT(*)"),
    Measure("passenger_count", "SUM(passengers)"),
    # A double summed in another order: 61,760,803.03001839 against .030019805 miles at SCALE=1 (9M trips).
    Measure("trip_distance_miles", "SUM(distance_miles)", 1e-9, relative=True),
    Measure("duration_seconds", "SUM(duration_seconds)"),
    money("fare_amount", "SUM(fare)"),
    money("tip_amount", "SUM(tip)"),
    money("tolls_amount", "SUM(tolls)"),
    money("airport_fee_amount", "SUM(airport_fee)"),
    money("cbd_congestion_fee_amount", "SUM(cbd_fee)"),
    money("fees_amount", "SUM(fees)"),
    money("total_amount", "SUM(total)"),
)
FACT_TAXI_EXEMPT = {
    "trip_id": "row key; the row count is reconciled per service and month",
    "vendor_id": "code passed through from raw; not additive",
    "rate_code_id": "code passed through from raw; not additive",
    "payment_type_id": "code passed through from raw; reconciled through agg_taxi_revenue_by_payment_day",
    "trip_type_id": "code passed through from raw; not additive",
    "pickup_zone_id": "reconciled through agg_taxi_demand_by_zone_hour",
    "dropoff_zone_id": "reference checked against dim_zones in marts.yml",
    "speed_mph": "a ratio of two reconciled sums (distance, duration) per trip",
    "is_airport_trip": "reconciled through agg_airport_trips_by_day",
    "has_implausible_distance": "quality flag; its share is a warning in marts.yml",
    "has_implausible_duration": "quality flag; its share is a warning in marts.yml",
    "has_implausible_speed": "quality flag; its share is a warning in marts.yml",
    "has_implausible_fare": "quality flag; its share is a warning in marts.yml",
    "is_plausible": "reconciled through plausible_trips of agg_taxi_demand_by_zone_hour",
    "pickup_date": "date of pickup_at, checked in marts.yml",
    "pickup_at": "time column of the month keys",
    "dropoff_at": "reconciled through duration_seconds",
}
FACT_BIKE_EXEMPT = {
    "bike_trip_id": "row key; the row count is reconciled per rider type, bike type and month",
    "ride_id": "Citi Bike's id passed through; duplicates warned in marts.yml",
    "start_station_id": "text passed through from raw; not additive",
    "end_station_id": "text passed through from raw; not additive",
    "straight_line_miles": "derived from coordinates per ride; range warned in marts.yml",
    "is_member": "rider_type = 'member', a key here",
    "is_electric": "bike_type = 'electric_bike', a key here",
    "is_undocked_start": "flag derived from start_station_id",
    "is_undocked_end": "flag derived from end_station_id",
    "has_implausible_duration": "quality flag; its share is a warning in marts.yml",
    "has_implausible_distance": "quality flag; its share is a warning in marts.yml",
    "is_plausible": "quality flag summary",
    "started_date": "date of started_at, checked in marts.yml",
    "started_at": "time column of the month keys",
    "ended_at": "reconciled through duration_seconds",
}

# The revenue measures of the payment-type marts, by day and by month: the same sums, the tip rate from them.
TAXI_REVENUE = (
    Measure("trips", "COUNT(*)"),
    money("revenue_amount", "SUM(total)"),
    money("fare_amount", "SUM(fare)"),
    money("tip_amount", "SUM(tip)"),
    Measure("tip_rate", "SUM(tip) / NULLIF(SUM(fare), 0)", RATIO),
)

MARTS = (
    Mart(
        name="fct_taxi_trips",
        month="CAST(DATE_TRUNC('month', pickup_at) AS DATE)",
        keys={"service_type": "service_type"},
        source="taxi",
        tables=TAXI_TABLES,
        landed_in="any",
        measures=TAXI_SUMS,
        exempt=FACT_TAXI_EXEMPT,
    ),
    Mart(
        name="agg_taxi_demand_by_zone_hour",
        month="CAST(DATE_TRUNC('month', pickup_hour_at) AS DATE)",
        keys={"pickup_zone_id": "pickup_zone", "pickup_hour_at": "trip_hour"},
        source="taxi",
        tables=TAXI_TABLES,
        landed_in="any",
        measures=(
            Measure("trips", "COUNT(*)"),
            Measure("passengers", "SUM(passengers)"),
            money("revenue_amount", "SUM(total)"),
            Measure("plausible_trips", "COUNT(*) FILTER (WHERE is_plausible)"),
            Measure("average_fare_amount", "AVG(CAST(fare AS DOUBLE)) FILTER (WHERE is_plausible)", 1e-6),
            Measure("average_duration_seconds", "AVG(duration_seconds) FILTER (WHERE is_plausible)", 1e-6),
            Measure("average_distance_miles", "AVG(distance_miles) FILTER (WHERE is_plausible)", 1e-6),
        ),
        exempt={"pickup_date": "the local date of pickup_hour_at (the table's partition on Spark)"},
    ),
    Mart(
        name="agg_taxi_revenue_by_payment_day",
        month="CAST(DATE_TRUNC('month', pickup_date) AS DATE)",
        keys={"payment_type_id": "payment_type", "pickup_date": "trip_date"},
        source="taxi",
        tables=TAXI_TABLES,
        landed_in="any",
        measures=TAXI_REVENUE,
        exempt={"payment_type_name": "label from the payment types seed"},
    ),
    Mart(
        name="agg_taxi_revenue_by_payment_month",
        month="pickup_month",
        keys={"pickup_month": "trip_month", "service_type": "service_type", "payment_type_id": "payment_type"},
        source="taxi",
        tables=TAXI_TABLES,
        landed_in="any",
        measures=TAXI_REVENUE,
        exempt={"payment_type_name": "label from the payment types seed"},
    ),
    Mart(
        name="agg_airport_trips_by_day",
        month="CAST(DATE_TRUNC('month', pickup_date) AS DATE)",
        keys={"airport_zone_id": "airport_zone", "pickup_date": "trip_date"},
        source="taxi JOIN (VALUES (1), (132), (138)) AS airports(airport_zone) "
        "ON airport_zone IN (pickup_zone, dropoff_zone)",
        tables=TAXI_TABLES,
        landed_in="any",
        measures=(
            Measure("trips", "COUNT(*)"),
            Measure("pickups", "COUNT(*) FILTER (WHERE pickup_zone = airport_zone)"),
            Measure("dropoffs", "COUNT(*) FILTER (WHERE dropoff_zone = airport_zone)"),
            money("airport_fee_amount", "SUM(airport_fee)"),
            money("fees_amount", "SUM(fees)"),
            money("revenue_amount", "SUM(total)"),
        ),
        exempt={"airport_code": "label from dim_zones", "airport_name": "label from dim_zones"},
        lookups=("raw_tlc.taxi_zones",),
    ),
    Mart(
        name="agg_cbd_congestion_fees_by_day",
        month="CAST(DATE_TRUNC('month', pickup_date) AS DATE)",
        keys={"pickup_date": "trip_date"},
        source="taxi",
        tables=TAXI_TABLES,
        landed_in="any",
        measures=(
            Measure("trips", "COUNT(*)"),
            Measure("trips_charged", "COUNT(*) FILTER (WHERE cbd_fee > 0)"),
            money("cbd_congestion_fee_amount", "SUM(cbd_fee)"),
            money(
                "yellow_cbd_congestion_fee_amount", "COALESCE(SUM(cbd_fee) FILTER (WHERE service_type = 'yellow'), 0)"
            ),
            money("green_cbd_congestion_fee_amount", "COALESCE(SUM(cbd_fee) FILTER (WHERE service_type = 'green'), 0)"),
        ),
    ),
    Mart(
        name="fct_bike_trips",
        month="CAST(DATE_TRUNC('month', started_at) AS DATE)",
        keys={"rider_type": "rider_type", "bike_type": "rideable_type"},
        source="bike",
        tables=BIKE_TABLES,
        landed_in="all",
        measures=(Measure("rides", "COUNT(*)", mart="COUNT(*)"), Measure("duration_seconds", "SUM(duration_seconds)")),
        exempt=FACT_BIKE_EXEMPT,
    ),
    Mart(
        name="agg_taxi_vs_bike_by_day",
        month="CAST(DATE_TRUNC('month', trip_date) AS DATE)",
        keys={"trip_date": "trip_date"},
        source="(SELECT trip_month, trip_date, 'taxi' AS mode, pickup_zone FROM taxi "
        "UNION ALL SELECT trip_month, trip_date, 'bike', NULL FROM bike) AS trips "
        "LEFT JOIN raw_tlc.taxi_zones AS zones ON zones.location_id = trips.pickup_zone",
        tables=(*TAXI_TABLES, *BIKE_TABLES),
        landed_in="all",
        measures=(
            Measure("taxi_trips", "COUNT(*) FILTER (WHERE mode = 'taxi')"),
            Measure("bike_trips", "COUNT(*) FILTER (WHERE mode = 'bike')"),
            Measure("bike_share_of_trips", "COUNT(*) FILTER (WHERE mode = 'bike') / COUNT(*)", RATIO),
            *(
                Measure(f"taxi_trips_{column}", f"COUNT(*) FILTER (WHERE mode = 'taxi' AND zones.borough = '{name}')")
                for column, name in (
                    ("manhattan", "Manhattan"),
                    ("brooklyn", "Brooklyn"),
                    ("queens", "Queens"),
                    ("bronx", "Bronx"),
                    ("staten_island", "Staten Island"),
                )
            ),
        ),
    ),
    Mart(
        name="agg_taxi_vs_bike_by_borough_month",
        month="trip_month",
        keys={"trip_month": "trip_month", "borough": "borough"},
        # Citi Bike publishes no borough: every ride counts in the row 'Not published by Citi Bike'.
        source="(SELECT trip_month, 'taxi' AS mode, CASE WHEN zones.location_id IS NULL "
        "THEN 'Not in the TLC zone lookup' WHEN CAST(zones.location_id AS INT) = 265 AND zones.borough = 'N/A' "
        "THEN 'Outside of NYC' ELSE COALESCE(NULLIF(zones.borough, 'N/A'), 'Unknown') END AS borough "
        "FROM taxi LEFT JOIN raw_tlc.taxi_zones AS zones ON zones.location_id = taxi.pickup_zone "
        "UNION ALL SELECT trip_month, 'bike', 'Not published by Citi Bike' FROM bike) AS trips",
        tables=(*TAXI_TABLES, *BIKE_TABLES),
        landed_in="all",
        measures=(
            Measure("taxi_trips", "COUNT(*) FILTER (WHERE mode = 'taxi')"),
            Measure("bike_trips", "NULLIF(COUNT(*) FILTER (WHERE mode = 'bike'), 0)"),
            Measure(
                "bike_share_of_trips",
                "CASE WHEN COUNT(*) FILTER (WHERE mode = 'taxi') > 0 "
                "THEN NULLIF(COUNT(*) FILTER (WHERE mode = 'bike'), 0) / COUNT(*) END",
                RATIO,
            ),
        ),
        lookups=("raw_tlc.taxi_zones",),
    ),
    Mart(
        name="agg_trips_by_weather_hour",
        month="CAST(DATE_TRUNC('month', weather_at) AS DATE)",
        keys={"weather_at_utc": "weather.hour_utc"},
        # Trips counted per local hour of the checked months first, then placed in their UTC hour: the time zone
        # rule runs once per hour, not once per trip, and months outside the check are not read.
        source=f"weather LEFT JOIN (SELECT {utc_hour('local_hour')} AS hour_utc, mode, SUM(trips) AS trips FROM ("
        f"SELECT trip_hour AS local_hour, 'taxi' AS mode, COUNT(*) AS trips FROM taxi WHERE {CHECKED_MONTHS} "
        "GROUP BY ALL UNION ALL "
        f"SELECT DATE_TRUNC('hour', started_at), 'bike', COUNT(*) FROM bike WHERE {CHECKED_MONTHS} GROUP BY ALL"
        ") GROUP BY ALL) AS trips ON trips.hour_utc = weather.hour_utc",
        tables=(*TAXI_TABLES, *BIKE_TABLES, *WEATHER_TABLES),
        landed_in="all",
        measures=(
            Measure("taxi_trips", "COALESCE(SUM(trips) FILTER (WHERE mode = 'taxi'), 0)"),
            Measure("bike_trips", "COALESCE(SUM(trips) FILTER (WHERE mode = 'bike'), 0)"),
        ),
        exempt={
            "precipitation_type": "classification of the hour's weather; accepted values checked in marts.yml",
            "temperature_band": "classification of the hour's weather",
            "temperature_c": "weather value passed through",
            "precipitation_mm": "weather value passed through",
            "weather_at": "local label of weather_at_utc",
            "weather_date": "the local date of weather_at (the table's partition on Spark)",
        },
    ),
)


def landed_filter(mart: Mart) -> str:
    """SQL condition: the raw row's month has landed in the tables the mart waits for, and is being checked."""
    months = [f"SELECT DISTINCT source_month FROM {table}" for table in mart.tables]
    joined = (" INTERSECT " if mart.landed_in == "all" else " UNION ").join(months)
    return f"trip_month IN ({joined}) AND {CHECKED_MONTHS}"


def mart_check(mart: Mart) -> str:
    """One SodaCL failed-rows check comparing a mart with its raw restatement at the mart's grain."""
    raw_keys = ", ".join(f"{raw} AS {column}" for column, raw in mart.keys.items())
    key_list = ", ".join(mart.keys)
    measures = ", ".join(f"{measure.raw} AS {measure.column}" for measure in mart.measures)
    mart_measures = ", ".join(
        f"{measure.mart or f'SUM({measure.column})'} AS {measure.column}" for measure in mart.measures
    )
    unpivot = ", ".join(measure.column for measure in mart.measures)
    tolerances = " ".join(f"WHEN '{measure.column}' THEN {measure.bound()}" for measure in mart.measures)
    join = " AND ".join(f"expected.{column} IS NOT DISTINCT FROM actual.{column}" for column in mart.keys)
    keys_out = ", ".join(f"COALESCE(expected.{column}, actual.{column}) AS {column}" for column in mart.keys)
    month_filter = landed_filter(mart).replace("trip_month", f"({mart.month})")
    as_double = ", ".join(f"CAST({measure.column} AS DOUBLE) AS {measure.column}" for measure in mart.measures)
    query = f"""WITH {textwrap.dedent(RAW_TAXI).strip()},
{textwrap.dedent(RAW_BIKE).strip()},
{textwrap.dedent(RAW_WEATHER).strip()},
raw_grain AS (
  SELECT {raw_keys}, {measures}
  FROM {mart.source}
  WHERE {landed_filter(mart)} AND {mart.where}
  GROUP BY {", ".join(mart.keys.values())}
), mart_grain AS (
  SELECT {key_list}, {mart_measures}
  FROM ${{marts_schema}}.{mart.name}
  WHERE {month_filter}
  GROUP BY {key_list}
), expected AS (
  SELECT * FROM (SELECT {key_list}, {as_double} FROM raw_grain) UNPIVOT (raw_value FOR measure IN ({unpivot}))
), actual AS (
  SELECT * FROM (SELECT {key_list}, {as_double} FROM mart_grain) UNPIVOT (mart_value FOR measure IN ({unpivot}))
)
SELECT
  '{mart.name}' AS mart, {keys_out},
  COALESCE(expected.measure, actual.measure) AS measure,
  expected.raw_value,
  actual.mart_value
FROM expected
FULL OUTER JOIN actual ON {join} AND expected.measure = actual.measure
WHERE NOT (
  COALESCE(expected.raw_value, 0) = COALESCE(actual.mart_value, 0)
  OR ABS(COALESCE(expected.raw_value, 0) - COALESCE(actual.mart_value, 0))
    <= CASE COALESCE(expected.measure, actual.measure) {tolerances} ELSE 0 END
)
ORDER BY ALL
LIMIT 1000"""
    return f"""  - failed rows:
      name: "reconciliation: {mart.name} equals its restatement over raw, per {key_list}"
      fail query: |
{textwrap.indent(query, " " * 8)}
      fail: when > 0
"""


def accounting_check() -> str:
    """marts.agg_row_accounting_by_month adds up to every raw row and dollar, by outcome restated over raw."""
    return """  - failed rows:
      name: "reconciliation: agg_row_accounting_by_month accounts for every raw row and dollar by service and month"
      fail query: |
        WITH raw_rows AS (
          SELECT 'yellow' AS service_type, source_month, tpep_pickup_datetime AS start_at,
            tpep_dropoff_datetime AS end_at, payment_type, total_amount
          FROM raw_tlc.yellow_trips
          UNION ALL
          SELECT 'green', source_month, lpep_pickup_datetime, lpep_dropoff_datetime, payment_type, total_amount
          FROM raw_tlc.green_trips
          UNION ALL
          SELECT 'citibike', source_month, started_at, ended_at, NULL, NULL
          FROM raw_citibike.trips
        ), outcomes AS (
          SELECT
            service_type,
            source_month,
            CASE
              WHEN start_at IS NULL OR end_at IS NULL THEN 'missing_time'
              WHEN DATE_TRUNC('month', start_at) <> source_month
                THEN CASE service_type WHEN 'citibike' THEN 'stray_start' ELSE 'stray_pickup' END
              WHEN end_at < start_at
                THEN CASE service_type WHEN 'citibike' THEN 'ended_before_started' ELSE 'dropoff_before_pickup' END
              WHEN payment_type = 6 THEN 'voided_trip'
              WHEN total_amount < 0 THEN 'reversal'
              ELSE 'in_fact'
            END AS outcome,
            total_amount
          FROM raw_rows
          WHERE source_month BETWEEN DATE '${check_start_month}' AND DATE '${check_end_month}'
        ), expected AS (
          SELECT service_type, source_month, outcome, COUNT(*) AS raw_rows,
            SUM(CAST(total_amount AS DECIMAL(18, 2))) AS raw_amount
          FROM outcomes GROUP BY ALL
        ), actual AS (
          SELECT service_type, source_month, outcome, rows AS mart_rows, total_amount AS mart_amount
          FROM ${marts_schema}.agg_row_accounting_by_month
          WHERE source_month BETWEEN DATE '${check_start_month}' AND DATE '${check_end_month}'
        )
        SELECT
          COALESCE(expected.service_type, actual.service_type) AS service_type,
          COALESCE(expected.source_month, actual.source_month) AS source_month,
          COALESCE(expected.outcome, actual.outcome) AS outcome,
          expected.raw_rows, actual.mart_rows, expected.raw_amount, actual.mart_amount
        FROM expected
        FULL OUTER JOIN actual
          ON expected.service_type = actual.service_type AND expected.source_month = actual.source_month
          AND expected.outcome = actual.outcome
        WHERE COALESCE(expected.raw_rows, 0) <> COALESCE(actual.mart_rows, 0)
          OR ABS(COALESCE(expected.raw_amount, 0) - COALESCE(actual.mart_amount, 0)) > ${revenue_tolerance_dollars}
        ORDER BY ALL
      fail: when > 0

  - failed rows:
      name: "reconciliation: the in_fact rows of agg_row_accounting_by_month are the facts' rows, per service and month"
      fail query: |
        WITH accounted AS (
          SELECT service_type, source_month, rows AS accounted_rows
          FROM ${marts_schema}.agg_row_accounting_by_month
          WHERE outcome = 'in_fact'
            AND source_month BETWEEN DATE '${check_start_month}' AND DATE '${check_end_month}'
        ), facts AS (
          SELECT service_type, CAST(DATE_TRUNC('month', pickup_at) AS DATE) AS source_month, COUNT(*) AS fact_rows
          FROM ${marts_schema}.fct_taxi_trips GROUP BY ALL
          UNION ALL
          SELECT 'citibike', CAST(DATE_TRUNC('month', started_at) AS DATE), COUNT(*)
          FROM ${marts_schema}.fct_bike_trips GROUP BY ALL
        )
        SELECT accounted.service_type, accounted.source_month, accounted.accounted_rows, facts.fact_rows
        FROM accounted
        LEFT JOIN facts USING (service_type, source_month)
        WHERE accounted.accounted_rows <> COALESCE(facts.fact_rows, 0)
      fail: when > 0
"""


ACCOUNTING_COLUMNS = {"service_type", "source_month", "outcome", "rows", "total_amount"}


def declared_columns() -> dict[str, set[str]]:
    """Every column each mart may have: reconciled measures, grain keys, and exempt columns."""
    declared = {mart.name: {*(measure.column for measure in mart.measures), *mart.keys, *mart.exempt} for mart in MARTS}
    declared["agg_row_accounting_by_month"] = ACCOUNTING_COLUMNS
    return declared


def coverage_check() -> str:
    """Fails when a mart column is neither reconciled, a key, nor declared exempt."""
    rows = ",\n            ".join(
        f"('{mart}', '{column}')" for mart, columns in sorted(declared_columns().items()) for column in sorted(columns)
    )
    marts = ", ".join(f"'{mart}'" for mart in sorted(declared_columns()))
    return f"""  - failed rows:
      name: "reconciliation: every column of every reconciled mart is reconciled, a key, or exempt with a reason"
      fail query: |
        WITH declared (mart, column_name) AS (
          VALUES
            {rows}
        )
        SELECT table_name AS mart, column_name
        FROM information_schema.columns
        WHERE table_schema = '${{marts_schema}}' AND table_name IN ({marts})
          AND (table_name, column_name) NOT IN (SELECT mart, column_name FROM declared)
      fail: when > 0
"""


def policy_thresholds() -> dict[str, object]:
    """The validity policy's thresholds, from config.yaml's variables (the models read the same values)."""
    return sqlmesh_yaml.load(CONFIG)["variables"]  # config.yaml is a Jinja template


def empty_check() -> str:
    """Fails naming the mart and month when a mart is empty for a month whose inputs have landed (a month whose
    inputs have not all landed is waiting, not failing: `make plan` and `make promote` list it)."""
    selects = []
    for mart in MARTS:
        months = [f"SELECT DISTINCT source_month FROM {table}" for table in mart.tables]
        joined = (" INTERSECT " if mart.landed_in == "all" else " UNION ").join(months)
        inputs = (" and " if mart.landed_in == "all" else " or ").join(mart.tables)
        selects.append(
            f"SELECT '{mart.name}' AS mart, source_month, '{inputs}' AS landed_inputs, "
            f"(SELECT COUNT(*) FROM ${{marts_schema}}.{mart.name} WHERE {mart.month} = landed.source_month) "
            "AS mart_rows "
            f"FROM ({joined}) AS landed" + "".join(f" WHERE EXISTS (SELECT 1 FROM {lookup})" for lookup in mart.lookups)
        )
    union = "\n          UNION ALL\n          ".join(selects)
    return f"""  - failed rows:
      name: "completeness: a mart has no rows for a month whose inputs have landed"
      fail query: |
        SELECT * FROM (
          {union}
        ) AS months
        WHERE mart_rows = 0
          AND source_month BETWEEN DATE '${{check_start_month}}' AND DATE '${{check_end_month}}'
        ORDER BY ALL
      fail: when > 0
"""


def render() -> str:
    """The whole reconciliation.yml, the policy thresholds written in (they are not Soda variables)."""
    header = "\n".join(f"# {line}".rstrip() for line in __doc__.strip().splitlines())
    checks = [mart_check(mart) for mart in MARTS] + [empty_check(), accounting_check(), coverage_check()]
    text = "\n".join(checks)
    for name, value in policy_thresholds().items():
        text = text.replace(f"${{{name}}}", str(value))
    generated = "# Generated by `python -m checks.reconcile` from checks/reconcile.py: edit that file, not this one."
    return f"{generated}\n#\n{header}\n\nchecks:\n{text}"


def columns_table() -> str:
    """Every column of every reconciled mart and how the gate covers it, as a Markdown table (`--columns`)."""
    lines = ["| mart | column | covered by |", "|---|---|---|"]
    for mart in MARTS:
        check = f"`{mart.name} equals its restatement over raw`"
        for column in mart.keys:
            lines.append(f"| {mart.name} | {column} | grain key of {check} |")
        for measure in mart.measures:
            tolerance = "exact" if measure.tolerance == EXACT else f"within {measure.tolerance:g}"
            tolerance += " of the raw value" if measure.relative else ""
            lines.append(f"| {mart.name} | {measure.column} | {check}: raw `{measure.raw}`, {tolerance} |")
        for column, reason in mart.exempt.items():
            lines.append(f"| {mart.name} | {column} | exempt: {reason} |")
    for column in sorted(ACCOUNTING_COLUMNS):
        lines.append(f"| agg_row_accounting_by_month | {column} | the row accounting checks (restated over raw) |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Writes checks/reconciliation.yml (--check: fails when it is stale; --columns: prints the coverage table)."""
    if "--columns" in argv:
        print(columns_table())
        return 0
    text = render()
    if "--check" in argv:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date: run `python -m checks.reconcile`.", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
