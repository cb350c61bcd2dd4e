"""make bench's ingest ratios: each source against DuckDB reading its files, Citi Bike also against unzipping them,
the median of paired runs on each side."""

from __future__ import annotations

import json

from ops.bench import NEXT_MONTH_STEP, ONE_DAY_STEP, ingest_rates, landed_seconds, ratios


def test_a_landing_counts_every_month_of_a_source(tmp_path):
    landed = [
        {"source": "yellow", "month": "2024-09", "rows": 300, "seconds": 3.0},
        {"source": "citibike", "month": "2024-09", "rows": 100, "seconds": 4.0},
        {"source": "citibike", "month": "2024-10", "rows": 100, "seconds": 5.0},
    ]
    (tmp_path / "last_ingest.json").write_text(json.dumps({"landed": landed}))

    assert landed_seconds(tmp_path) == {
        "yellow": {"rows": 300, "seconds": 3.0},
        "citibike": {"rows": 200, "seconds": 9.0},
    }


def test_each_side_counts_the_median_of_its_runs():
    landings = [
        {"yellow": {"rows": 300, "seconds": 3.0}, "citibike": {"rows": 200, "seconds": 9.0}},
        {"yellow": {"rows": 300, "seconds": 9.0}, "citibike": {"rows": 200, "seconds": 30.0}},
        {"yellow": {"rows": 300, "seconds": 4.0}, "citibike": {"rows": 200, "seconds": 10.0}},
    ]
    references = [
        {"yellow": {"rows": 300, "seconds": 2.0}, "citibike": {"rows": 200, "seconds": 4.0, "unzip_seconds": 3.0}},
        {"yellow": {"rows": 300, "seconds": 2.5}, "citibike": {"rows": 200, "seconds": 5.0, "unzip_seconds": 1.0}},
        {"yellow": {"rows": 300, "seconds": 8.0}, "citibike": {"rows": 200, "seconds": 4.0, "unzip_seconds": 2.0}},
    ]

    rates = ingest_rates(landings, references)

    assert rates["yellow"]["ingest_vs_duckdb_ratio"] == 1.6  # 4 s against 2.5 s, not the first pair's 1.5
    assert rates["yellow"]["ingest_runs_seconds"] == [3.0, 9.0, 4.0]
    assert rates["yellow"]["duckdb_runs_seconds"] == [2.0, 2.5, 8.0]
    assert "ingest_vs_unzip_and_duckdb_ratio" not in rates["yellow"]
    assert rates["citibike"]["ingest_vs_duckdb_ratio"] == 2.5  # 10 s against 4 s
    assert rates["citibike"]["ingest_vs_unzip_and_duckdb_ratio"] == 1.67  # 10 s against 2 + 4 s
    run = {
        "scale": 1,
        "months": "2024-09:2024-11",
        "steps": [],
        "ingest": rates,
        "taxi_queries": {},
        "promotion_seconds": 1.0,
    }
    steps = {"backfill (sqlmesh plan dev)": 100.0, NEXT_MONTH_STEP: 50.0, ONE_DAY_STEP: 5.0}
    run["steps"] = [{"name": name, "seconds": seconds, "peak_rss_mb": 1} for name, seconds in steps.items()]
    keys = ratios(run, None)
    assert keys["ingest_vs_duckdb_citibike_ratio"] == 2.5
    assert keys["ingest_vs_unzip_and_duckdb_citibike_ratio"] == 1.67
    assert "ingest_vs_unzip_and_duckdb_yellow_ratio" not in keys
    assert keys["one_day_run_vs_full_backfill_ratio"] == 0.05


def test_one_pair_is_its_own_ratio():
    rates = ingest_rates([{"weather": {"rows": 24, "seconds": 0.5}}], [{"weather": {"rows": 24, "seconds": 0.01}}])

    assert rates["weather"]["ingest_vs_duckdb_ratio"] == 50.0
    assert rates["weather"]["ingest_rows_per_s"] == 48
