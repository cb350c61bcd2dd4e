/* Taxi revenue and tip rate by payment type and day, one row per payment type and pickup date. */
MODEL (
  name marts.agg_taxi_revenue_by_payment_day,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column pickup_date,
    batch_size 31
  ),
  owner analytics,
  grain (payment_type_id, pickup_date),
  signals (
    raw_months_landed(tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips'], landed_in := 'any')
  ),
  audits (
    unique_combination_of_columns(columns := [payment_type_id, pickup_date]),
    not_null(columns := [payment_type_id, payment_type_name, pickup_date, trips]),
    accepted_range("column" := tip_rate, min_v := 0, max_v := 10, blocking := FALSE)
  )
);

WITH trips AS (
  SELECT
    COALESCE(payment_type_id, 5) AS payment_type_id, /* a code not recorded counts as 5 (Unknown) */
    fare_amount,
    tip_amount,
    total_amount,
    pickup_date
  FROM marts.fct_taxi_trips
  WHERE
    pickup_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
), payment_types AS (
  SELECT
    payment_type_id,
    payment_type_name
  FROM staging.seed_tlc__payment_types
)
SELECT
  trips.payment_type_id, /* TLC payment type code */
  COALESCE(payment_types.payment_type_name, 'Unknown') AS payment_type_name, /* e.g. Credit card, Cash */
  COUNT(*) AS trips, /* trips paid this way */
  SUM(trips.total_amount) AS revenue_amount, /* total charged in dollars */
  SUM(trips.fare_amount) AS fare_amount, /* fares in dollars */
  SUM(trips.tip_amount) AS tip_amount, /* tips in dollars (card tips only; cash tips are not recorded) */
  SUM(trips.tip_amount)::DOUBLE / NULLIF(SUM(trips.fare_amount), 0) AS tip_rate, /* tips as a share of fares */
  trips.pickup_date /* local pickup date */
FROM trips
LEFT JOIN payment_types
  ON trips.payment_type_id = payment_types.payment_type_id
GROUP BY
  trips.payment_type_id,
  payment_types.payment_type_name,
  trips.pickup_date
