/* Valid yellow and green taxi trips, one row per trip, by pickup time. */
MODEL (
  name marts.fct_taxi_trips,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column pickup_at,
    batch_size 7 /* a week per query: about 0.7M trips at real volume */
  ),
  owner analytics,
  grain trip_id,
  depends_on [marts.dim_zones],
  signals (
    raw_months_landed(tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips'])
  ),
  audits (
    unique_values(columns := [trip_id]),
    not_null(columns := [trip_id, service_type, pickup_zone_id, dropoff_zone_id, pickup_at]),
    accepted_range("column" := fare_amount, min_v := 0, max_v := 10000),
    accepted_range("column" := total_amount, min_v := -100, max_v := 10000),
    accepted_range("column" := trip_distance_miles, min_v := 0, max_v := 1000, inclusive := FALSE),
    accepted_range("column" := duration_seconds, min_v := 0, max_v := 86400 * 2),
    assert_references_dim_zones("column" := pickup_zone_id),
    assert_references_dim_zones("column" := dropoff_zone_id)
  )
);

WITH trips AS (
  SELECT
    trip_id,
    service_type,
    vendor_id,
    rate_code_id,
    payment_type_id,
    trip_type_id,
    pickup_zone_id,
    dropoff_zone_id,
    passenger_count,
    trip_distance_miles,
    duration_seconds,
    speed_mph,
    fare_amount,
    tip_amount,
    tolls_amount,
    airport_fee_amount,
    cbd_congestion_fee_amount,
    fees_amount,
    total_amount,
    is_airport_trip,
    pickup_at,
    dropoff_at
  FROM intermediate.int_taxi_trips_enriched
  WHERE
    is_valid
    AND pickup_at BETWEEN @start_dt AND @end_dt
    AND /* valid trips always sit in their file's month: lets DuckDB skip other months' row groups */ source_month BETWEEN DATE_TRUNC('MONTH', @start_dt) AND DATE_TRUNC('MONTH', @end_dt)
)
SELECT
  trip_id, /* stable hash of source_file and source_row */
  service_type, /* yellow or green */
  vendor_id, /* TLC vendor, see staging.seed_tlc__vendors */
  rate_code_id, /* TLC rate code, see staging.seed_tlc__rate_codes */
  payment_type_id, /* TLC payment type, see staging.seed_tlc__payment_types */
  trip_type_id, /* green only: 1 street-hail, 2 dispatch */
  pickup_zone_id, /* pickup zone, references marts.dim_zones */
  dropoff_zone_id, /* dropoff zone, references marts.dim_zones */
  passenger_count, /* passengers */
  trip_distance_miles, /* taximeter distance in miles */
  duration_seconds, /* dropoff minus pickup in seconds */
  speed_mph, /* average speed in mph */
  fare_amount, /* time-and-distance fare in dollars */
  tip_amount, /* tip in dollars (card tips only) */
  tolls_amount, /* tolls in dollars */
  airport_fee_amount, /* LaGuardia/JFK pickup fee in dollars */
  cbd_congestion_fee_amount, /* MTA CBD congestion toll in dollars (0 before 2025) */
  fees_amount, /* surcharges, taxes and fees in dollars (tips and tolls excluded) */
  total_amount, /* total charged in dollars */
  is_airport_trip, /* starts or ends at EWR, JFK or LGA */
  pickup_at::DATE AS pickup_date, /* local date of the pickup, references marts.dim_date */
  pickup_at, /* meter engaged, local time */
  dropoff_at /* meter disengaged, local time */
FROM trips
