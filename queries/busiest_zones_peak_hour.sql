-- The ten busiest taxi pickup zones, with each zone's busiest hour of the day.
WITH by_zone_hour AS (
  SELECT
    pickup_zone_id,
    hour(pickup_hour_at) AS hour_of_day,
    sum(trips) AS trips
  FROM marts.agg_taxi_demand_by_zone_hour
  GROUP BY ALL
), ranked AS (
  SELECT
    pickup_zone_id,
    hour_of_day,
    trips,
    sum(trips) OVER (PARTITION BY pickup_zone_id) AS zone_trips,
    row_number() OVER (PARTITION BY pickup_zone_id ORDER BY trips DESC, hour_of_day) AS rank_in_zone
  FROM by_zone_hour
)
SELECT
  zones.zone_name,
  zones.borough,
  ranked.zone_trips::BIGINT AS trips,
  ranked.hour_of_day AS peak_hour,
  ranked.trips::BIGINT AS trips_in_peak_hour
FROM ranked
JOIN marts.dim_zones AS zones
  ON zones.zone_id = ranked.pickup_zone_id
WHERE ranked.rank_in_zone = 1
ORDER BY ranked.zone_trips DESC
LIMIT 10;
