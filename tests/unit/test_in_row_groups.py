"""in_row_groups re-cuts Arrow streams into whole DuckDB row groups without losing, reordering or mixing rows."""

from __future__ import annotations

import pyarrow as pa

from ingest.common import in_row_groups


def numbers(start: int, stop: int, name: str = "n") -> pa.Table:
    return pa.table({name: pa.array(range(start, stop), pa.int64())})


def test_batches_of_any_size_become_tables_of_exactly_the_row_group_size() -> None:
    batches = [numbers(0, 7), numbers(7, 8), numbers(8, 30), numbers(30, 31)]
    out = list(in_row_groups(iter(batches), rows=10))
    assert [table.num_rows for table in out] == [10, 10, 10, 1]
    assert pa.concat_tables(out).column("n").to_pylist() == list(range(31))


def test_a_change_of_schema_ends_a_table() -> None:
    out = list(in_row_groups(iter([numbers(0, 5), numbers(5, 8, "m"), numbers(8, 9, "m")]), rows=4))
    assert [(table.column_names, table.num_rows) for table in out] == [(["n"], 4), (["n"], 1), (["m"], 4)]
