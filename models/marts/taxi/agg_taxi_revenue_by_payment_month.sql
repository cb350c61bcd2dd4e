/* Taxi revenue and tip rate by month, taxi type and payment type, one row per pickup month, service type and
   payment type. The monthly sibling of marts.agg_taxi_revenue_by_payment_day: the tip rate is the ratio of the
   month's sums, not an average of daily rates. */
MODEL (
  name marts.agg_taxi_revenue_by_payment_month,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column pickup_month,
    batch_size 1 /* a month per query */
  ),
  cron '@monthly', /* intervals are whole months: a month is built once, from all of its days */
  owner analytics,
  grain (pickup_month, service_type, payment_type_id),
  signals (
    raw_months_landed(tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips'], landed_in := 'any')
  ),
  audits (
    unique_combination_of_columns(columns := [pickup_month, service_type, payment_type_id]),
    not_null(
      columns := [pickup_month, service_type, payment_type_id, payment_type_name, trips]
    ),
    accepted_values("column" := service_type, is_in := ('yellow', 'green')),
    accepted_range("column" := tip_rate, min_v := 0, max_v := 10, blocking := FALSE)
  )
);

WITH trips AS (
  SELECT
    service_type,
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
), by_month AS (
  SELECT
    DATE_TRUNC('MONTH', pickup_date)::DATE AS pickup_month,
    service_type,
    payment_type_id,
    COUNT(*)::BIGINT AS trips,
    SUM(total_amount) AS revenue_amount,
    SUM(fare_amount) AS fare_amount,
    SUM(tip_amount) AS tip_amount
  FROM trips
  GROUP BY
    DATE_TRUNC('MONTH', pickup_date)::DATE,
    service_type,
    payment_type_id
)
SELECT
  by_month.service_type, /* yellow or green */
  by_month.payment_type_id, /* TLC payment type code */
  COALESCE(payment_types.payment_type_name, 'Unknown') AS payment_type_name, /* e.g. Credit card, Cash */
  by_month.trips, /* trips paid this way */
  by_month.revenue_amount, /* total charged in dollars */
  by_month.fare_amount, /* fares in dollars */
  by_month.tip_amount, /* tips in dollars (card tips only; cash tips are not recorded) */
  by_month.tip_amount::DOUBLE / NULLIF(by_month.fare_amount, 0) AS tip_rate, /* the month's tips as a share of its fares (ratio of sums) */
  by_month.pickup_month /* first day of the local pickup month */
FROM by_month
LEFT JOIN payment_types
  ON by_month.payment_type_id = payment_types.payment_type_id
