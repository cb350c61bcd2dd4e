-- Taxi trips against Citi Bike rides per day, the last two weeks in the warehouse.
SELECT
  trip_date,
  dayname(trip_date) AS day_of_week,
  taxi_trips,
  bike_trips,
  round(bike_share_of_trips, 3) AS bike_share_of_trips
FROM marts.agg_taxi_vs_bike_by_day
ORDER BY trip_date DESC
LIMIT 14;
