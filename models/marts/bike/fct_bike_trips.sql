/* Citi Bike rides, one row per ride, by start time: every raw row that is a usable ride
   (docs/validity_policy.md), rides away from a dock, of unknown rider type and with quality flags included. */
MODEL (
  name marts.fct_bike_trips,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column started_at,
    partition_by_time_column FALSE, /* a timestamp: a partition per value (Spark's metastore refuses it) */
    batch_size 7 /* a week per query: about 1M rides at real volume */
  ),
  partitioned_by started_date, /* Spark overwrites a batch's days (dynamic partition overwrite) */
  owner analytics,
  grain bike_trip_id,
  signals (
    raw_months_landed(tables := ['raw_citibike.trips'])
  ),
  audits (
    unique_values(columns := [bike_trip_id]),
    not_null(columns := [bike_trip_id, rider_type, started_at, ended_at, is_plausible]),
    accepted_values("column" := rider_type, is_in := ('member', 'casual', 'unknown'))
  )
);

SELECT
  bike_trip_id, /* stable hash of source_file and source_row */
  ride_id, /* Citi Bike's own ride id */
  start_station_id, /* station id (text) at the start; NULL when not started at a dock */
  end_station_id, /* station id (text) at the end; NULL when not ended at a dock */
  bike_type, /* classic_bike, electric_bike or docked_bike */
  rider_type, /* member, casual or unknown */
  duration_seconds, /* ride length in seconds */
  straight_line_miles, /* great-circle distance start to end in miles */
  is_member, /* annual member rather than casual rider */
  is_electric, /* e-bike */
  is_undocked_start, /* started away from a dock */
  is_undocked_end, /* ended away from a dock (or never returned) */
  has_implausible_duration, /* out longer than bike_duration_max_seconds */
  has_implausible_distance, /* straight line longer than bike_distance_max_miles */
  is_plausible, /* no quality flag */
  started_at::DATE AS started_date, /* local date of the start, references marts.dim_date */
  started_at, /* ride start, local time */
  ended_at /* ride end, local time */
FROM intermediate.int_bike_trips_enriched
WHERE
  is_valid
  AND started_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
  AND /* usable rides always sit in their file's month: lets DuckDB skip other months' row groups */ source_month BETWEEN DATE_TRUNC('MONTH', @start_date)::DATE AND DATE_TRUNC('MONTH', @end_date)::DATE
