/* Citi Bike rides with duration, straight-line distance, rider type and quality flags, one row per raw ride row.
   A flag marks a measure beyond a threshold of the validity policy (config.yaml variables); it never removes the row. */
MODEL (
  name intermediate.int_bike_trips_enriched,
  kind VIEW,
  owner analytics,
  grain bike_trip_id,
  audits (
    unique_values(columns := [bike_trip_id]),
    not_null(columns := [bike_trip_id, is_valid, is_plausible])
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
    invalid_reason,
    start_latitude,
    start_longitude,
    end_latitude,
    end_longitude,
    is_valid,
    source_month,
    started_at,
    ended_at
  FROM staging.stg_citibike__trips
), measured AS (
  SELECT
    *,
    DATE_DIFF('SECOND', started_at, ended_at) AS duration_seconds,
    2 * 3958.8 * ASIN(
      SQRT(
        POWER(SIN(RADIANS(end_latitude - start_latitude) / 2), 2) + COS(RADIANS(start_latitude)) * COS(RADIANS(end_latitude)) * POWER(SIN(RADIANS(end_longitude - start_longitude) / 2), 2)
      )
    ) AS straight_line_miles
  FROM rides
), flagged AS (
  SELECT
    *,
    COALESCE(duration_seconds > @VAR('bike_duration_max_seconds'), FALSE) AS has_implausible_duration,
    COALESCE(straight_line_miles > @VAR('bike_distance_max_miles'), FALSE) AS has_implausible_distance
  FROM measured
)
SELECT
  bike_trip_id, /* stable hash of source_file and source_row */
  ride_id, /* Citi Bike's own ride id */
  start_station_id, /* station id (text) at the start; NULL when the ride did not start at a dock */
  end_station_id, /* station id (text) at the end; NULL when the ride did not end at a dock */
  bike_type, /* classic_bike, electric_bike or docked_bike */
  rider_type, /* member, casual or unknown */
  invalid_reason, /* the rule that makes the row not a usable ride, NULL for a ride */
  duration_seconds, /* ended_at minus started_at */
  straight_line_miles, /* great-circle distance start to end in miles; NULL without end coordinates */
  rider_type = 'member' AS is_member, /* annual member rather than casual rider */
  bike_type = 'electric_bike' AS is_electric, /* e-bike */
  start_station_id IS NULL AS is_undocked_start, /* started away from a dock */
  end_station_id IS NULL AS is_undocked_end, /* ended away from a dock (or never returned) */
  has_implausible_duration, /* out longer than bike_duration_max_seconds */
  has_implausible_distance, /* straight line longer than bike_distance_max_miles */
  NOT (
    has_implausible_duration OR has_implausible_distance
  ) AS is_plausible, /* no quality flag: the ride's measures enter the marts' averages */
  is_valid, /* a usable ride (invalid_reason is NULL) */
  source_month, /* first day of the month of the source file */
  started_at, /* ride start, local time */
  ended_at /* ride end, local time */
FROM flagged
