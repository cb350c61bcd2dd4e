/* Taxi zones, one row per TLC zone (264 Unknown and 265 Outside of NYC included, as trips use them) plus a member
   -1 for zone ids a trip carries that the lookup does not have (or none). Only 264 is called Unknown: -1 is named
   'Not in the TLC zone lookup' in zone_name, borough and service_zone, so the two never fall into one group. */
MODEL (
  name marts.dim_zones,
  kind FULL,
  owner analytics,
  grain zone_id,
  audits (
    unique_values(columns := [zone_id]),
    not_null(columns := [zone_id, zone_name, borough, service_zone]),
    accepted_values("column" := airport_code, is_in := ('EWR', 'JFK', 'LGA')),
    number_of_rows(threshold := 2, blocking := FALSE) /* 1 until the zone lookup has landed */
  )
);

WITH zones AS (
  SELECT
    zone_id,
    zone_name,
    borough,
    service_zone,
    airport_code,
    is_airport,
    is_known_zone
  FROM staging.stg_tlc__taxi_zones
), not_in_lookup_member AS (
  SELECT
    -1 AS zone_id,
    'Not in the TLC zone lookup' AS zone_name,
    'Not in the TLC zone lookup' AS borough,
    'Not in the TLC zone lookup' AS service_zone,
    NULL::TEXT AS airport_code,
    FALSE AS is_airport,
    FALSE AS is_known_zone
)
SELECT
  zone_id, /* TLC LocationID; -1 for ids not in the TLC zone lookup (or missing) */
  COALESCE(zone_name, 'Unknown') AS zone_name, /* TLC zone name, e.g. JFK Airport; Unknown for 264 (N/A in the lookup); 'Not in the TLC zone lookup' for -1 */
  COALESCE(borough, 'Unknown') AS borough, /* Manhattan, Brooklyn, Queens, Bronx, Staten Island, EWR, Unknown (264), Outside of NYC (265) or 'Not in the TLC zone lookup' (-1) */
  COALESCE(service_zone, 'Unknown') AS service_zone, /* Yellow Zone, Boro Zone, Airports, EWR, Unknown (N/A in the lookup) or 'Not in the TLC zone lookup' (-1) */
  airport_code, /* IATA code of an airport zone: EWR (1), JFK (132) or LGA (138); NULL for every other zone */
  is_airport, /* Newark (1), JFK (132) or LaGuardia (138) */
  is_known_zone /* a place in the city (1..263); FALSE for 264, 265 and -1 */
FROM zones
UNION ALL
SELECT
  zone_id,
  zone_name,
  borough,
  service_zone,
  airport_code,
  is_airport,
  is_known_zone
FROM not_in_lookup_member
