/* Taxi trips with their zones, duration, speed, fee totals and quality flags, one row per raw trip row. A flag
   marks a measure beyond a threshold of the validity policy (config.yaml variables); it never removes the row. */
MODEL (
  name intermediate.int_taxi_trips_enriched,
  kind VIEW,
  owner analytics,
  grain trip_id,
  audits (
    unique_values(columns := [trip_id]),
    not_null(
      columns := [trip_id, pickup_zone_id, dropoff_zone_id, pickup_borough, is_plausible]
    )
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
    invalid_reason,
    passenger_count,
    trip_distance_miles,
    fare_amount,
    extra_amount,
    mta_tax_amount,
    tip_amount,
    tolls_amount,
    improvement_surcharge_amount,
    congestion_surcharge_amount,
    airport_fee_amount,
    cbd_congestion_fee_amount,
    ehail_fee_amount,
    total_amount,
    is_valid,
    source_month,
    pickup_at,
    dropoff_at
  FROM intermediate.int_taxi_trips_unioned
), zones AS (
  SELECT
    zone_id,
    borough,
    is_airport
  FROM staging.stg_tlc__taxi_zones
), measured AS (
  SELECT
    *,
    DATE_DIFF('SECOND', pickup_at, dropoff_at) AS duration_seconds,
    trip_distance_miles * 3600 / NULLIF(DATE_DIFF('SECOND', pickup_at, dropoff_at), 0) AS speed_mph,
    extra_amount + mta_tax_amount + improvement_surcharge_amount + congestion_surcharge_amount + airport_fee_amount + cbd_congestion_fee_amount + ehail_fee_amount AS fees_amount
  FROM trips
), flagged AS (
  SELECT
    *,
    COALESCE(
      trip_distance_miles > @VAR('taxi_distance_max_miles') OR trip_distance_miles < 0,
      FALSE
    ) AS has_implausible_distance,
    COALESCE(duration_seconds > @VAR('taxi_duration_max_seconds'), FALSE) AS has_implausible_duration,
    COALESCE(speed_mph > @VAR('taxi_speed_max_mph'), FALSE) AS has_implausible_speed,
    COALESCE(fare_amount > @VAR('taxi_fare_max'), FALSE) AS has_implausible_fare
  FROM measured
)
SELECT
  flagged.trip_id, /* stable hash of source_file and source_row */
  flagged.service_type, /* yellow or green */
  flagged.vendor_id, /* TLC vendor code */
  flagged.rate_code_id, /* TLC rate code; NULL when not recorded */
  flagged.payment_type_id, /* TLC payment type; 0 Flex Fare, NULL when not recorded */
  flagged.trip_type_id, /* 1 street-hail, 2 dispatch; NULL for yellow */
  COALESCE(pickup_zone.zone_id, -1) AS pickup_zone_id, /* pickup zone, -1 when not in the zone lookup */
  COALESCE(dropoff_zone.zone_id, -1) AS dropoff_zone_id, /* dropoff zone, -1 when not in the zone lookup */
  COALESCE(pickup_zone.borough, 'Unknown') AS pickup_borough, /* borough of the pickup zone */
  COALESCE(dropoff_zone.borough, 'Unknown') AS dropoff_borough, /* borough of the dropoff zone */
  flagged.invalid_reason, /* the rule that makes the row not a usable trip, NULL for a trip */
  flagged.passenger_count, /* passengers; NULL when not recorded */
  flagged.trip_distance_miles, /* taximeter distance in miles */
  flagged.duration_seconds, /* dropoff minus pickup */
  flagged.speed_mph, /* average speed; NULL for a trip of zero seconds */
  flagged.fare_amount, /* time-and-distance fare in dollars */
  flagged.tip_amount, /* tip in dollars */
  flagged.tolls_amount, /* tolls in dollars */
  flagged.airport_fee_amount, /* LaGuardia/JFK pickup fee in dollars */
  flagged.cbd_congestion_fee_amount, /* MTA CBD toll in dollars */
  flagged.fees_amount, /* surcharges, taxes and fees in dollars (tolls and tips excluded) */
  flagged.total_amount, /* total charged in dollars */
  COALESCE(pickup_zone.is_airport OR dropoff_zone.is_airport, FALSE) AS is_airport_trip, /* starts or ends at EWR, JFK or LGA */
  flagged.has_implausible_distance, /* distance above taxi_distance_max_miles (or negative) */
  flagged.has_implausible_duration, /* longer than taxi_duration_max_seconds */
  flagged.has_implausible_speed, /* average speed above taxi_speed_max_mph */
  flagged.has_implausible_fare, /* fare above taxi_fare_max dollars */
  NOT (
    flagged.has_implausible_distance
    OR flagged.has_implausible_duration
    OR flagged.has_implausible_speed
    OR flagged.has_implausible_fare
  ) AS is_plausible, /* no quality flag: the trip's measures enter the marts' averages */
  flagged.is_valid, /* a usable trip (invalid_reason is NULL) */
  flagged.source_month, /* first day of the month of the source file */
  flagged.pickup_at, /* meter engaged, local time */
  flagged.dropoff_at /* meter disengaged, local time */
FROM flagged
LEFT JOIN zones AS pickup_zone
  ON flagged.pickup_zone_id = pickup_zone.zone_id
LEFT JOIN zones AS dropoff_zone
  ON flagged.dropoff_zone_id = dropoff_zone.zone_id
