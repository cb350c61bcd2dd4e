/* Valid Citi Bike rides, one row per ride, by start time. */
MODEL (
  name marts.fct_bike_trips,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column started_at,
    batch_size 7 /* a week per query: about 1M rides at real volume */
  ),
  owner analytics,
  grain bike_trip_id,
  signals (
    raw_months_landed(tables := ['raw_citibike.trips'])
  ),
  audits (
    unique_values(columns := [bike_trip_id]),
    not_null(columns := [bike_trip_id, rider_type, start_station_id, started_at, ended_at]),
    accepted_range("column" := duration_seconds, min_v := 0, max_v := 86400 * 7),
    accepted_range("column" := straight_line_miles, min_v := 0, max_v := 100),
    accepted_values("column" := rider_type, is_in := ('member', 'casual'))
  )
);

WITH rides AS (
  SELECT
    bike_trip_id,
    ride_id,
    start_station_id,
    end_station_id,
    bike_type,
    rider_type,
    duration_seconds,
    straight_line_miles,
    is_member,
    is_electric,
    started_at,
    ended_at
  FROM intermediate.int_bike_trips_enriched
  WHERE
    is_valid
    AND started_at BETWEEN @start_dt AND @end_dt
    AND /* valid rides always sit in their file's month: lets DuckDB skip other months' row groups */ source_month BETWEEN DATE_TRUNC('MONTH', @start_dt) AND DATE_TRUNC('MONTH', @end_dt)
)
SELECT
  bike_trip_id, /* stable hash of source_file and source_row */
  ride_id, /* Citi Bike's own ride id */
  start_station_id, /* station id (text) at the start */
  end_station_id, /* station id (text) at the end */
  bike_type, /* classic_bike or electric_bike */
  rider_type, /* member or casual */
  duration_seconds, /* ride length in seconds */
  straight_line_miles, /* great-circle distance start to end in miles */
  is_member, /* annual member rather than casual rider */
  is_electric, /* e-bike */
  started_at::DATE AS started_date, /* local date of the start, references marts.dim_date */
  started_at, /* ride start, local time */
  ended_at /* ride end, local time */
FROM rides
