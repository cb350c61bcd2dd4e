/* Green taxi trips as published by the TLC, one row per raw row (trip), typed, renamed and flagged. */
MODEL (
  name staging.stg_tlc__green_trips,
  kind VIEW,
  owner analytics,
  grain trip_id,
  audits (
    unique_values(columns := [trip_id]),
    not_null(columns := [trip_id, source_month, is_valid]),
    assert_valid_rows_are_consistent(start_column := pickup_at, end_column := dropoff_at)
  )
);

SELECT
  @row_id(source_file, source_row) AS trip_id, /* stable hash of source_file and source_row */
  vendor_id::INT AS vendor_id, /* TLC vendor code, see seeds/vendors.csv */
  ratecode_id::INT AS rate_code_id, /* TLC rate code, see seeds/rate_codes.csv */
  payment_type::INT AS payment_type_id, /* TLC payment type, see seeds/payment_types.csv */
  trip_type::INT AS trip_type_id, /* 1 street-hail, 2 dispatch, see seeds/trip_types.csv */
  pu_location_id::INT AS pickup_zone_id, /* TLC taxi zone of the pickup */
  do_location_id::INT AS dropoff_zone_id, /* TLC taxi zone of the dropoff */
  @taxi_invalid_reason(
    lpep_pickup_datetime,
    lpep_dropoff_datetime,
    source_month,
    fare_amount,
    trip_distance,
    pu_location_id,
    do_location_id,
    passenger_count
  ) AS invalid_reason, /* first rule the row breaks, NULL when valid */
  source_file, /* file the row came from, relative to the upstream base */
  passenger_count::INT AS passenger_count, /* as entered by the driver; NULL when missing */
  trip_distance AS trip_distance_miles, /* taximeter distance in miles */
  @money(fare_amount) AS fare_amount, /* time-and-distance fare in dollars */
  @money(extra) AS extra_amount, /* rush hour and overnight extras in dollars */
  @money(mta_tax) AS mta_tax_amount, /* MTA tax in dollars */
  @money(tip_amount) AS tip_amount, /* tip in dollars (card tips only) */
  @money(tolls_amount) AS tolls_amount, /* tolls in dollars */
  @money(improvement_surcharge) AS improvement_surcharge_amount, /* improvement surcharge in dollars */
  @money(congestion_surcharge) AS congestion_surcharge_amount, /* NYS congestion surcharge in dollars */
  @money(COALESCE(ehail_fee, 0)) AS ehail_fee_amount, /* e-hail fee in dollars (unused since 2016) */
  @money(COALESCE(cbd_congestion_fee, 0)) AS cbd_congestion_fee_amount, /* MTA CBD toll in dollars, 0 before 2025 */
  @money(total_amount) AS total_amount, /* total charged to the passenger in dollars (cash tips excluded) */
  source_row, /* 0-based row number inside source_file */
  store_and_fwd_flag = 'Y' AS is_store_and_forward, /* trip record held in the vehicle before sending */
  @is_stray(lpep_pickup_datetime, source_month) AS is_stray, /* pickup outside the file's month */
  invalid_reason IS NULL AS is_valid, /* passes every rule; only valid trips reach the marts */
  source_month, /* first day of the month of the source file */
  lpep_pickup_datetime AS pickup_at, /* meter engaged, local New York time */
  lpep_dropoff_datetime AS dropoff_at, /* meter disengaged, local New York time */
  _dlt_load_id AS load_id /* dlt load that landed the row */
FROM raw_tlc.green_trips
