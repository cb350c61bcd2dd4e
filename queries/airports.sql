-- Taxi trips, airport fees and revenue per airport and month.
SELECT
  strftime(pickup_date, '%Y-%m') AS month,
  airport_code,
  airport_name,
  sum(trips)::BIGINT AS trips,
  round(sum(airport_fee_amount), 2) AS airport_fee_amount,
  round(sum(revenue_amount), 2) AS revenue_amount
FROM marts.agg_airport_trips_by_day
GROUP BY ALL
ORDER BY month, trips DESC;
