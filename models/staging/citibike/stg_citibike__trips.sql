/* Citi Bike rides as published, one row per raw row (ride), typed, renamed and flagged. */
MODEL (
  name staging.stg_citibike__trips,
  kind VIEW,
  owner analytics,
  grain bike_trip_id,
  audits (
    unique_values(columns := [bike_trip_id]),
    not_null(columns := [bike_trip_id, source_month, is_valid]),
    assert_valid_rows_are_consistent(start_column := started_at, end_column := ended_at)
  )
);

SELECT
  @row_id(source_file, source_row) AS bike_trip_id, /* stable hash of source_file and source_row */
  ride_id, /* Citi Bike's own ride id */
  start_station_id, /* station id as text (some look numeric, e.g. 6254.06) */
  end_station_id, /* station id as text; NULL for rides not docked */
  rideable_type AS bike_type, /* classic_bike or electric_bike */
  LOWER(member_casual) AS rider_type, /* member (annual) or casual */
  start_station_name, /* station name at the start */
  end_station_name, /* station name at the end */
  CASE
    WHEN @is_stray(started_at, source_month)
    THEN 'stray_start'
    WHEN ended_at IS NULL OR ended_at < started_at
    THEN 'ended_before_started'
    WHEN end_station_id IS NULL
    THEN 'missing_end_station'
    WHEN COALESCE(NOT LOWER(member_casual) IN ('member', 'casual'), TRUE)
    THEN 'unknown_rider_type'
  END AS invalid_reason, /* first rule the row breaks, NULL when valid */
  source_file, /* <zip>/<csv member> the row came from */
  start_lat AS start_latitude, /* degrees */
  start_lng AS start_longitude, /* degrees */
  end_lat AS end_latitude, /* degrees */
  end_lng AS end_longitude, /* degrees */
  source_row, /* 0-based row number inside the CSV member */
  @is_stray(started_at, source_month) AS is_stray, /* start outside the file's month */
  invalid_reason IS NULL AS is_valid, /* passes every rule; only valid rides reach the marts */
  source_month, /* first day of the month of the source file */
  started_at, /* ride start, local New York time */
  ended_at, /* ride end, local New York time */
  _dlt_load_id AS load_id /* dlt load that landed the row */
FROM raw_citibike.trips
