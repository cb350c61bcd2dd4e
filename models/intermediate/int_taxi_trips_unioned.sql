/* Yellow and green taxi trips in one shape (the columns both share, plus airport, e-hail and trip type), one row per raw trip row, tagged with service_type. */
MODEL (
  name intermediate.int_taxi_trips_unioned,
  kind VIEW,
  owner analytics,
  grain trip_id,
  audits (
    unique_values(columns := [trip_id]),
    not_null(columns := [trip_id, service_type, is_valid])
  )
);

@DEF(trip_columns, [
  trip_id,
  vendor_id,
  rate_code_id,
  payment_type_id,
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
  cbd_congestion_fee_amount,
  total_amount,
  is_valid,
  source_month,
  pickup_at,
  dropoff_at
]);

SELECT
  'yellow' AS service_type, /* yellow (medallion) or green (street-hail livery) */
  @EACH(@trip_columns, trip_column -> trip_column), /* as in staging */
  airport_fee_amount, /* LaGuardia/JFK pickup fee in dollars, 0 for green */
  @money(0) AS ehail_fee_amount, /* e-hail fee in dollars, 0 for yellow */
  NULL::INT AS trip_type_id /* 1 street-hail, 2 dispatch; NULL for yellow */
FROM staging.stg_tlc__yellow_trips
UNION ALL
SELECT
  'green' AS service_type,
  @EACH(@trip_columns, trip_column -> trip_column),
  @money(0) AS airport_fee_amount,
  ehail_fee_amount,
  trip_type_id
FROM staging.stg_tlc__green_trips
