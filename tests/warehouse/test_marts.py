"""After a demo-sized build, the marts equal independent answers: the generator's manifest and SQL over raw.

Nothing here reuses model SQL: validity is restated from the TLC and Citi Bike rules, and each aggregate is
recomputed from the raw tables, by day and by zone.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.conftest import manifest, query

# A raw row is a trip when it can be placed in time in its file's month (pickup and dropoff present, dropoff not
# before pickup) and is neither a void (payment type 6) nor a reversal (negative total): docs/validity_policy.md.
# Unknown payment types, passenger counts and zones 264/265 are trips.
VALID_TAXI = """
  SELECT '{service}' AS service, {prefix}_pickup_datetime AS pickup_at, pu_location_id AS pickup_zone,
         do_location_id AS dropoff_zone, COALESCE(payment_type, 5) AS payment_type, total_amount, tip_amount,
         fare_amount, COALESCE(cbd_congestion_fee, 0) AS cbd_fee
  FROM raw_tlc.{service}_trips
  WHERE date_trunc('month', {prefix}_pickup_datetime) = source_month
    AND {prefix}_dropoff_datetime >= {prefix}_pickup_datetime
    AND COALESCE(payment_type, -1) <> 6
    AND COALESCE(total_amount, 0) >= 0
"""
RAW_TRIPS = (
    "("
    + VALID_TAXI.format(service="yellow", prefix="tpep")
    + " UNION ALL "
    + VALID_TAXI.format(service="green", prefix="lpep")
    + ")"
)
RAW_RIDES = """(
  SELECT started_at FROM raw_citibike.trips
  WHERE date_trunc('month', started_at) = source_month AND ended_at >= started_at
)"""


def same(data: Path, mart_sql: str, raw_sql: str) -> None:
    """Asserts two queries return the same rows (order-insensitive)."""
    mart, raw = sorted(query(data, mart_sql)), sorted(query(data, raw_sql))
    assert mart, f"no rows from {mart_sql}"
    assert mart == raw


def valid_rows(mirror: Path, source: str) -> dict[str, int]:
    """Valid rows per month by the generator's own account: rows less stray and dirty rows."""
    files = manifest(mirror)["files"].values()
    return {
        spec["month"]: spec["rows"] - spec["stray_rows"] - sum(spec["dirty_rows"].values())
        for spec in files
        if spec["source"] == source
    }


def test_facts_hold_exactly_the_valid_trips_of_the_manifest(built_warehouse: Path, sample_mirror: Path) -> None:
    for service in ("yellow", "green"):
        facts = query(
            built_warehouse,
            f"SELECT strftime(pickup_at, '%Y-%m'), count(*) FROM marts.fct_taxi_trips "
            f"WHERE service_type = '{service}' GROUP BY 1",
        )
        assert dict(facts) == valid_rows(sample_mirror, service), service
    rides = query(
        built_warehouse, "SELECT strftime(started_at, '%Y-%m'), count(*) FROM marts.fct_bike_trips GROUP BY 1"
    )
    assert dict(rides) == valid_rows(sample_mirror, "citibike")


def test_demand_by_zone_and_by_day(built_warehouse: Path) -> None:
    same(
        built_warehouse,
        "SELECT pickup_zone_id, sum(trips)::BIGINT FROM marts.agg_taxi_demand_by_zone_hour GROUP BY 1",
        f"SELECT pickup_zone, count(*) FROM {RAW_TRIPS} GROUP BY 1",
    )
    same(
        built_warehouse,
        "SELECT pickup_hour_at::DATE, sum(trips)::BIGINT, sum(revenue_amount) FROM marts.agg_taxi_demand_by_zone_hour "
        "GROUP BY 1",
        f"SELECT pickup_at::DATE, count(*), sum(round(total_amount, 2)::DECIMAL(18, 2)) FROM {RAW_TRIPS} GROUP BY 1",
    )


def test_revenue_and_tips_by_payment_type_and_day(built_warehouse: Path) -> None:
    same(
        built_warehouse,
        "SELECT payment_type_id, pickup_date, trips, revenue_amount::DECIMAL(18, 2), tip_amount::DECIMAL(18, 2) "
        "FROM marts.agg_taxi_revenue_by_payment_day",
        "SELECT payment_type, pickup_at::DATE, count(*), sum(round(total_amount, 2)::DECIMAL(18, 2)), "
        f"sum(round(tip_amount, 2)::DECIMAL(18, 2)) FROM {RAW_TRIPS} GROUP BY 1, 2",
    )


def test_airport_pickups_and_dropoffs_by_day(built_warehouse: Path) -> None:
    same(
        built_warehouse,
        "SELECT airport_zone_id, pickup_date, pickups, dropoffs FROM marts.agg_airport_trips_by_day",
        f"""SELECT airport, pickup_at::DATE, count(*) FILTER (pickup_zone = airport),
                   count(*) FILTER (dropoff_zone = airport)
            FROM {RAW_TRIPS} JOIN (VALUES (1), (132), (138)) AS airports(airport)
              ON airport IN (pickup_zone, dropoff_zone)
            GROUP BY 1, 2""",
    )


def test_cbd_congestion_fees_by_day(built_warehouse: Path) -> None:
    same(
        built_warehouse,
        "SELECT pickup_date, trips, cbd_congestion_fee_amount::DECIMAL(18, 2) "
        "FROM marts.agg_cbd_congestion_fees_by_day",
        f"SELECT pickup_at::DATE, count(*), sum(round(cbd_fee, 2)::DECIMAL(18, 2)) FROM {RAW_TRIPS} GROUP BY 1",
    )
    fees = query(built_warehouse, "SELECT sum(cbd_congestion_fee_amount) FROM marts.agg_cbd_congestion_fees_by_day")
    assert fees == [(Decimal("0.00"),)]


def test_taxi_versus_bike_by_day(built_warehouse: Path) -> None:
    same(
        built_warehouse,
        "SELECT trip_date, taxi_trips, bike_trips FROM marts.agg_taxi_vs_bike_by_day",
        f"""SELECT day, count(*) FILTER (kind = 'taxi'), count(*) FILTER (kind = 'bike') FROM (
              SELECT pickup_at::DATE AS day, 'taxi' AS kind FROM {RAW_TRIPS}
              UNION ALL SELECT started_at::DATE, 'bike' FROM {RAW_RIDES}
            ) GROUP BY 1""",
    )


def test_trips_by_weather_hour(built_warehouse: Path) -> None:
    same(
        built_warehouse,
        "SELECT weather_at, taxi_trips, bike_trips FROM marts.agg_trips_by_weather_hour",
        # Trips meet the weather of their local New York hour: the hour's UTC instant is the weather's key.
        f"""SELECT timezone('UTC', time_utc) AT TIME ZONE 'America/New_York',
                   (SELECT count(*) FROM {RAW_TRIPS} WHERE date_trunc('hour', pickup_at)
                      = timezone('UTC', time_utc) AT TIME ZONE 'America/New_York'),
                   (SELECT count(*) FROM {RAW_RIDES} WHERE date_trunc('hour', started_at)
                      = timezone('UTC', time_utc) AT TIME ZONE 'America/New_York')
            FROM raw_weather.hourly""",
    )
