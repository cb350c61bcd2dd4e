/* Yellow taxi trips as published by the TLC, one row per raw row, typed, renamed and flagged by the validity
   policy (docs/validity_policy.md): rows that are not usable trips get an invalid_reason and stay here. */
MODEL (
  name staging.stg_tlc__yellow_trips,
  kind VIEW,
  owner analytics,
  grain trip_id,
  audits (
    unique_values(columns := [trip_id]),
    not_null(columns := [trip_id, source_month, is_valid]),
    assert_valid_rows_are_consistent(start_column := pickup_at, end_column := dropoff_at)
  )
);

WITH renamed AS (
  SELECT
    @row_id(source_file, source_row) AS trip_id,
    TRY_CAST(vendor_id AS INT) AS vendor_id,
    TRY_CAST(ratecode_id AS INT) AS rate_code_id,
    TRY_CAST(payment_type AS INT) AS payment_type_id,
    TRY_CAST(pu_location_id AS INT) AS pickup_zone_id,
    TRY_CAST(do_location_id AS INT) AS dropoff_zone_id,
    source_file,
    TRY_CAST(passenger_count AS INT) AS passenger_count,
    trip_distance AS trip_distance_miles,
    @money(fare_amount) AS fare_amount,
    @money(extra) AS extra_amount,
    @money(mta_tax) AS mta_tax_amount,
    @money(tip_amount) AS tip_amount,
    @money(tolls_amount) AS tolls_amount,
    @money(improvement_surcharge) AS improvement_surcharge_amount,
    @money(congestion_surcharge) AS congestion_surcharge_amount,
    @money(COALESCE(airport_fee, 0)) AS airport_fee_amount,
    @money(COALESCE(cbd_congestion_fee, 0)) AS cbd_congestion_fee_amount,
    @money(total_amount) AS total_amount,
    source_row,
    store_and_fwd_flag = 'Y' AS is_store_and_forward,
    source_month,
    tpep_pickup_datetime AS pickup_at,
    tpep_dropoff_datetime AS dropoff_at,
    _dlt_load_id AS load_id
  FROM raw_tlc.yellow_trips
), flagged AS (
  SELECT
    *,
    @taxi_exclusion_reason() AS invalid_reason
  FROM renamed
)
SELECT
  trip_id, /* stable hash of source_file and source_row */
  vendor_id, /* TLC vendor code, see seeds/vendors.csv */
  rate_code_id, /* TLC rate code, see seeds/rate_codes.csv; NULL when not recorded (e.g. Flex Fare trips) */
  payment_type_id, /* TLC payment type, see seeds/payment_types.csv; 0 is a Flex Fare trip */
  pickup_zone_id, /* TLC taxi zone of the pickup; 264 Unknown, 265 Outside of NYC */
  dropoff_zone_id, /* TLC taxi zone of the dropoff; 264 Unknown, 265 Outside of NYC */
  invalid_reason, /* the rule that makes the row not a usable trip, NULL for a trip */
  source_file, /* file the row came from, relative to the upstream base */
  passenger_count, /* as entered by the driver; NULL when not recorded (e.g. Flex Fare trips) */
  trip_distance_miles, /* taximeter distance in miles */
  fare_amount, /* time-and-distance fare in dollars (negative on some Flex Fare trips) */
  extra_amount, /* rush hour and overnight extras in dollars */
  mta_tax_amount, /* MTA tax in dollars */
  tip_amount, /* tip in dollars (card tips only) */
  tolls_amount, /* tolls in dollars */
  improvement_surcharge_amount, /* improvement surcharge in dollars */
  congestion_surcharge_amount, /* NYS congestion surcharge in dollars */
  airport_fee_amount, /* LaGuardia/JFK pickup fee in dollars */
  cbd_congestion_fee_amount, /* MTA CBD toll in dollars, 0 before 2025 */
  total_amount, /* total charged to the passenger in dollars (cash tips excluded); negative on reversals */
  source_row, /* 0-based row number inside source_file */
  is_store_and_forward, /* trip record held in the vehicle before sending; NULL when not recorded */
  @is_stray(pickup_at, source_month) AS is_stray, /* pickup outside the file's month */
  invalid_reason IS NULL AS is_valid, /* a usable trip: only these reach the facts */
  source_month, /* first day of the month of the source file */
  pickup_at, /* meter engaged, local New York time */
  dropoff_at, /* meter disengaged, local New York time */
  load_id /* dlt load that landed the row */
FROM flagged
