"""make bench's ingest ratios: each source against DuckDB reading its files, Citi Bike also against unzipping them."""

from __future__ import annotations

import json

from ops.bench import NEXT_MONTH_STEP, ONE_DAY_STEP, ingest_rates, ratios


def test_citibike_is_also_measured_against_unzipping_its_files_and_reading_them(tmp_path):
    landed = [
        {"source": "yellow", "rows": 300, "seconds": 3.0},
        {"source": "citibike", "rows": 100, "seconds": 4.0},
        {"source": "citibike", "rows": 100, "seconds": 5.0},
    ]
    (tmp_path / "last_ingest.json").write_text(json.dumps({"landed": landed}))
    reference = {
        "yellow": {"rows": 300, "seconds": 2.0},
        "citibike": {"rows": 200, "seconds": 4.0, "unzip_seconds": 2.0},
    }

    rates = ingest_rates(tmp_path, reference)

    assert rates["yellow"]["ingest_vs_duckdb_ratio"] == 1.5
    assert "ingest_vs_unzip_and_duckdb_ratio" not in rates["yellow"]
    assert rates["citibike"]["ingest_vs_duckdb_ratio"] == 2.25  # 9 s against 4 s
    assert rates["citibike"]["ingest_vs_unzip_and_duckdb_ratio"] == 1.5  # 9 s against 2 + 4 s
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
    assert keys["ingest_vs_duckdb_citibike_ratio"] == 2.25
    assert keys["ingest_vs_unzip_and_duckdb_citibike_ratio"] == 1.5
    assert "ingest_vs_unzip_and_duckdb_yellow_ratio" not in keys
    assert keys["one_day_run_vs_full_backfill_ratio"] == 0.05
