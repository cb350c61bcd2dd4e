/* MTA CBD congestion fees charged on taxi trips by day, one row per pickup date (fees are 0 before 2025). */
MODEL (
  name marts.agg_cbd_congestion_fees_by_day,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column pickup_date,
    batch_size 31
  ),
  owner analytics,
  grain pickup_date,
  signals (
    raw_months_landed(tables := ['raw_tlc.yellow_trips', 'raw_tlc.green_trips'], landed_in := 'any')
  ),
  audits (
    unique_values(columns := [pickup_date]),
    not_null(columns := [pickup_date, trips, cbd_congestion_fee_amount]),
    accepted_range("column" := cbd_congestion_fee_amount, min_v := 0, blocking := FALSE),
    accepted_range("column" := trips_charged, min_v := 0)
  )
);

WITH trips AS (
  SELECT
    service_type,
    cbd_congestion_fee_amount,
    pickup_date
  FROM marts.fct_taxi_trips
  WHERE
    pickup_at BETWEEN @start_ts::TIMESTAMP AND @end_ts::TIMESTAMP
)
SELECT
  COUNT(*) AS trips, /* all taxi trips that day */
  COUNT(*) FILTER(WHERE
    cbd_congestion_fee_amount > 0) AS trips_charged, /* trips that paid the CBD fee */
  SUM(cbd_congestion_fee_amount) AS cbd_congestion_fee_amount, /* CBD fees in dollars */
  COALESCE(SUM(cbd_congestion_fee_amount) FILTER(WHERE
    service_type = 'yellow'), 0) AS yellow_cbd_congestion_fee_amount, /* yellow taxis, dollars */
  COALESCE(SUM(cbd_congestion_fee_amount) FILTER(WHERE
    service_type = 'green'), 0) AS green_cbd_congestion_fee_amount, /* green taxis, dollars */
  pickup_date /* local pickup date */
FROM trips
GROUP BY
  pickup_date
