/* Taxi demand by pickup zone and hour, one row per pickup zone and local hour with at least one trip. Counts and
   sums take every trip; the averages take only trips without a quality flag (is_plausible). */
MODEL (
  name marts.agg_taxi_demand_by_zone_hour,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column pickup_hour_at,
    partition_by_time_column FALSE, /* a timestamp: a partition per value (Spark's metastore refuses it) */
    batch_size 31
  ),
  partitioned_by pickup_date, /* Spark overwrites a batch's days (dynamic partition overwrite) */
  owner analytics,
  grain (pickup_zone_id, pickup_hour_at),
  depends_on [marts.dim_zones],
  signals (
    raw_months_landed(tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips'], landed_in := 'any')
  ),
  audits (
    unique_combination_of_columns(columns := [pickup_zone_id, pickup_hour_at]),
    not_null(columns := [pickup_zone_id, pickup_hour_at, trips]),
    accepted_range("column" := trips, min_v := 1),
    accepted_range("column" := plausible_trips, min_v := 0),
    assert_references_dim_zones("column" := pickup_zone_id)
  )
);

WITH trips AS (
  SELECT
    pickup_zone_id,
    passenger_count,
    trip_distance_miles,
    duration_seconds,
    fare_amount,
    total_amount,
    is_plausible,
    pickup_at
  FROM marts.fct_taxi_trips
  WHERE
    pickup_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
)
SELECT
  pickup_zone_id, /* pickup zone, references marts.dim_zones */
  COUNT(*) AS trips, /* trips picked up */
  SUM(passenger_count)::BIGINT AS passengers, /* passengers picked up */
  SUM(total_amount) AS revenue_amount, /* total charged in dollars */
  COUNT(*) FILTER(WHERE
    is_plausible) AS plausible_trips, /* trips without a quality flag, the base of the averages */
  AVG(fare_amount::DOUBLE) FILTER(WHERE
    is_plausible) AS average_fare_amount, /* mean fare in dollars, trips without a quality flag (unrounded: rounding a mean that falls on half a cent differs between engines) */
  AVG(duration_seconds) FILTER(WHERE
    is_plausible) AS average_duration_seconds, /* mean trip duration in seconds, trips without a quality flag */
  AVG(trip_distance_miles) FILTER(WHERE
    is_plausible) AS average_distance_miles, /* mean trip distance in miles, trips without a quality flag */
  DATE_TRUNC('HOUR', pickup_at) AS pickup_hour_at, /* start of the local pickup hour */
  DATE_TRUNC('HOUR', pickup_at)::DATE AS pickup_date /* local date of the pickup hour */
FROM trips
GROUP BY
  pickup_zone_id,
  DATE_TRUNC('HOUR', pickup_at)
