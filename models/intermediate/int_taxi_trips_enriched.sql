/* Taxi trips with their zones, duration, speed and fee totals, one row per raw trip row. */
MODEL (
  name intermediate.int_taxi_trips_enriched,
  kind VIEW,
  owner analytics,
  grain trip_id,
  audits (
    unique_values(columns := [trip_id]),
    not_null(columns := [trip_id, pickup_zone_id, dropoff_zone_id, pickup_borough])
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
)
SELECT
  trips.trip_id, /* stable hash of source_file and source_row */
  trips.service_type, /* yellow or green */
  trips.vendor_id, /* TLC vendor code */
  trips.rate_code_id, /* TLC rate code */
  trips.payment_type_id, /* TLC payment type */
  trips.trip_type_id, /* 1 street-hail, 2 dispatch; NULL for yellow */
  COALESCE(pickup_zone.zone_id, -1) AS pickup_zone_id, /* pickup zone, -1 when not in the zone lookup */
  COALESCE(dropoff_zone.zone_id, -1) AS dropoff_zone_id, /* dropoff zone, -1 when not in the zone lookup */
  COALESCE(pickup_zone.borough, 'Unknown') AS pickup_borough, /* borough of the pickup zone */
  COALESCE(dropoff_zone.borough, 'Unknown') AS dropoff_borough, /* borough of the dropoff zone */
  trips.passenger_count, /* passengers */
  trips.trip_distance_miles, /* taximeter distance in miles */
  DATE_DIFF('SECOND', trips.pickup_at, trips.dropoff_at) AS duration_seconds, /* dropoff minus pickup */
  trips.trip_distance_miles * 3600 / NULLIF(DATE_DIFF('SECOND', trips.pickup_at, trips.dropoff_at), 0) AS speed_mph, /* average speed */
  trips.fare_amount, /* time-and-distance fare in dollars */
  trips.tip_amount, /* tip in dollars */
  trips.tolls_amount, /* tolls in dollars */
  trips.airport_fee_amount, /* LaGuardia/JFK pickup fee in dollars */
  trips.cbd_congestion_fee_amount, /* MTA CBD toll in dollars */
  trips.extra_amount + trips.mta_tax_amount + trips.improvement_surcharge_amount + trips.congestion_surcharge_amount + trips.airport_fee_amount + trips.cbd_congestion_fee_amount + trips.ehail_fee_amount AS fees_amount, /* surcharges, taxes and fees in dollars (tolls and tips excluded) */
  trips.total_amount, /* total charged in dollars */
  COALESCE(pickup_zone.is_airport OR dropoff_zone.is_airport, FALSE) AS is_airport_trip, /* starts or ends at EWR, JFK or LGA */
  trips.is_valid, /* passes every staging rule */
  trips.source_month, /* first day of the month of the source file */
  trips.pickup_at, /* meter engaged, local time */
  trips.dropoff_at /* meter disengaged, local time */
FROM trips
LEFT JOIN zones AS pickup_zone
  ON trips.pickup_zone_id = pickup_zone.zone_id
LEFT JOIN zones AS dropoff_zone
  ON trips.dropoff_zone_id = dropoff_zone.zone_id
