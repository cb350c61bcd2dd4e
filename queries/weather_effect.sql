-- How weather moves trips: average taxi trips and Citi Bike rides per hour, by precipitation and temperature band.
SELECT
  precipitation_type,
  temperature_band,
  count(*) AS hours,
  round(avg(taxi_trips), 1) AS taxi_trips_per_hour,
  round(avg(bike_trips), 1) AS bike_rides_per_hour,
  round(sum(bike_trips) / nullif(sum(taxi_trips + bike_trips), 0), 3) AS bike_share_of_trips
FROM marts.agg_trips_by_weather_hour
GROUP BY ALL
ORDER BY precipitation_type, temperature_band;
