AUDIT (
  name assert_valid_rows_are_consistent,
  blocking TRUE
);

SELECT
  *
FROM @this_model
WHERE
  is_valid
  AND (
    NOT invalid_reason IS NULL OR is_stray OR @end_column < @start_column
  )
