AUDIT (
  name assert_references_dim_zones,
  blocking TRUE
);

SELECT
  *
FROM @this_model AS facts
WHERE
  NOT EXISTS(
    SELECT
      1
    FROM marts.dim_zones AS zones
    WHERE
      zones.zone_id = facts.@column
  )
