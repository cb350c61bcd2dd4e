-- Tip rate (tips over fares, from the month's sums) and revenue by taxi payment type, per month.
SELECT
  strftime(pickup_month, '%Y-%m') AS month,
  payment_type_name,
  sum(trips)::BIGINT AS trips,
  round(sum(revenue_amount), 2) AS revenue_amount,
  round(sum(tip_amount) / nullif(sum(fare_amount), 0), 4) AS tip_rate
FROM marts.agg_taxi_revenue_by_payment_month
GROUP BY ALL
ORDER BY month, trips DESC;
