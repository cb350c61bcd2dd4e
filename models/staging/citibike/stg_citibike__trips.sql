/* Citi Bike rides as published, one row per raw row, typed, renamed and flagged by the validity policy
   (docs/validity_policy.md): rows that are not usable rides get an invalid_reason and stay here. */
MODEL (
  name staging.stg_citibike__trips,
  kind VIEW,
  owner analytics,
  grain bike_trip_id,
  audits (
    unique_values(columns := [bike_trip_id]),
    not_null(columns := [bike_trip_id, source_month, is_valid, rider_type]),
    assert_valid_rows_are_consistent(start_column := started_at, end_column := ended_at)
  )
);

WITH renamed AS (
  SELECT
    @row_id(source_file, source_row) AS bike_trip_id,
    ride_id,
    start_station_id,
    end_station_id,
    rideable_type AS bike_type,
    CASE
      WHEN LOWER(member_casual) IN ('member', 'casual')
      THEN LOWER(member_casual)
      ELSE 'unknown'
    END AS rider_type,
    start_station_name,
    end_station_name,
    source_file,
    start_lat AS start_latitude,
    start_lng AS start_longitude,
    end_lat AS end_latitude,
    end_lng AS end_longitude,
    source_row,
    source_month,
    started_at,
    ended_at,
    _dlt_load_id AS load_id
  FROM raw_citibike.trips
), flagged AS (
  SELECT
    *,
    @bike_exclusion_reason() AS invalid_reason
  FROM renamed
)
SELECT
  bike_trip_id, /* stable hash of source_file and source_row */
  ride_id, /* Citi Bike's own ride id */
  start_station_id, /* station id as text (some look numeric, e.g. 6254.06); NULL for a ride not started at a dock */
  end_station_id, /* station id as text; NULL for a ride not ended at a dock */
  bike_type, /* classic_bike, electric_bike or docked_bike (before 2023) */
  rider_type, /* member (annual), casual, or unknown when not recorded */
  start_station_name, /* station name at the start */
  end_station_name, /* station name at the end */
  invalid_reason, /* the rule that makes the row not a usable ride, NULL for a ride */
  source_file, /* <zip>/<csv member> the row came from */
  start_latitude, /* degrees */
  start_longitude, /* degrees */
  end_latitude, /* degrees */
  end_longitude, /* degrees */
  source_row, /* 0-based row number inside the CSV member */
  @is_stray(started_at, source_month) AS is_stray, /* start outside the file's month */
  invalid_reason IS NULL AS is_valid, /* a usable ride: only these reach the facts */
  source_month, /* first day of the month of the source file */
  started_at, /* ride start, local New York time */
  ended_at, /* ride end, local New York time */
  load_id /* dlt load that landed the row */
FROM flagged
