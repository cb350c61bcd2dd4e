/* Yellow and green taxi trips, one row per trip, by pickup time: every raw row that is a usable trip
   (docs/validity_policy.md), unknown values and quality flags included. */
MODEL (
  name marts.fct_taxi_trips,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column pickup_at,
    partition_by_time_column FALSE, /* a timestamp: a partition per value (Spark's metastore refuses it) */
    batch_size 7 /* a week per query: about 0.7M trips at real volume */
  ),
  partitioned_by pickup_date, /* Spark overwrites a batch's days (dynamic partition overwrite) */
  owner analytics,
  grain trip_id,
  depends_on [marts.dim_zones],
  signals (
    raw_months_landed(tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips'], landed_in := 'any')
  ),
  audits (
    unique_values(columns := [trip_id]),
    not_null(
      columns := [
        trip_id,
        service_type,
        pickup_zone_id,
        dropoff_zone_id,
        pickup_at,
        dropoff_at,
        is_plausible
      ]
    ),
    assert_references_dim_zones("column" := pickup_zone_id),
    assert_references_dim_zones("column" := dropoff_zone_id)
  )
);

SELECT
  trip_id, /* stable hash of source_file and source_row */
  service_type, /* yellow or green */
  vendor_id, /* TLC vendor, see staging.seed_tlc__vendors */
  rate_code_id, /* TLC rate code, see staging.seed_tlc__rate_codes; NULL when not recorded */
  payment_type_id, /* TLC payment type, see staging.seed_tlc__payment_types; 0 Flex Fare, NULL when not recorded */
  trip_type_id, /* green only: 1 street-hail, 2 dispatch */
  pickup_zone_id, /* pickup zone, references marts.dim_zones (264 Unknown, 265 Outside of NYC) */
  dropoff_zone_id, /* dropoff zone, references marts.dim_zones (264 Unknown, 265 Outside of NYC) */
  passenger_count, /* passengers; NULL when not recorded */
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
  has_implausible_distance, /* distance above taxi_distance_max_miles */
  has_implausible_duration, /* longer than taxi_duration_max_seconds */
  has_implausible_speed, /* average speed above taxi_speed_max_mph */
  has_implausible_fare, /* fare above taxi_fare_max dollars */
  is_plausible, /* no quality flag: counts in the marts' averages */
  pickup_at::DATE AS pickup_date, /* local date of the pickup, references marts.dim_date */
  pickup_at, /* meter engaged, local time */
  dropoff_at /* meter disengaged, local time */
FROM intermediate.int_taxi_trips_enriched
WHERE
  is_valid
  AND pickup_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
  AND /* usable trips always sit in their file's month: lets DuckDB skip other months' row groups */ source_month BETWEEN DATE_TRUNC('MONTH', @start_date)::DATE AND DATE_TRUNC('MONTH', @end_date)::DATE
