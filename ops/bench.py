"""`python -m ops.bench [--scale 1] [--months 2024-09:2024-11]` (make bench): what the warehouse costs, measured.

Runs the real commands on a sample mirror of the given scale, in a folder of its own under
`$MOBILITY_DATA_DIR/bench/`, and writes `report.md` and `report.json` beside it. Every figure is measured in this
run, and every comparison is a ratio against a reference measured in the same run (DuckDB's own reads of the same
files, the full backfill, the smaller scale): keys ending in `_ratio` in report.json. Nothing here is asserted.

Steps, each a subprocess timed with its peak RSS (sampled from /proc while it runs):
  sample     python -m ingest.sample            the mirror (months plus the next one, for the scheduled run)
  ingest     python -m ingest                   dlt, per source rows/s next to DuckDB read_parquet/read_csv/read_json
                                                (Citi Bike's zips also next to unzipping them plus read_csv); landed
                                                INGEST_REPEATS times in all, each landing followed by DuckDB's reads,
                                                and each side's median compared
  backfill   sqlmesh plan dev                   every model over every landed day
  gate       python -m checks.promote           scan dev with Soda, approve, promote prod (virtual update)
  next month python -m ops.run --months <next>   the scheduled run (make run): ingest, run on a copy, checks, swap
  one day    sqlmesh run                        prod with one more day due: the newest day, forgotten by the state
                                                (ONE_DAY_REPEATS times, the median)
Then the four classic taxi queries on marts.fct_taxi_trips and on the raw tables, and the fixed cost of a landed month:
weather, then green, landed for one month and for twelve from small files, each in a fresh folder
(`ingest_12_vs_1_month_<source>_ratio`). Last, restatement by month: one warehouse of three months and then of
twelve (RESTATE_SCALE), the same month restated in each (`restate_12m_vs_3m_ratio`), next to building that month
anew with `sqlmesh run` once its intervals are forgotten (`restate_vs_build_month_ratio`); each the median of
RESTATE_REPEATS runs, as a restatement of a small month is mostly fixed cost and one run varies by a second.

With the spark gateway (make bench GATEWAY=spark SCALE=0.1), one mirror is landed, backfilled and promoted through
the gate on each gateway in turn, `local` (DuckDB) then `spark`, and the report sets them side by side
(`spark_vs_duckdb_backfill_ratio`, `spark_vs_duckdb_promotion_ratio`, `spark_vs_duckdb_ingest_ratio`).
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import duckdb

import gateway as gateways
from gateway import GATEWAY_VARIABLE, PROJECT_DIR
from ingest.months import IngestError, Month, parse_months

REFERENCE_SCALE = 0.1
QUERY_REPEATS = 3
RSS_SAMPLE_SECONDS = 0.1
MONTHS_SCALE = 0.01  # small files: landing them is dominated by what each load costs whatever its size
MONTHS_REPEATS = 3
INGEST_REPEATS = 3  # landings of the mirror, each paired with DuckDB's reads of its files: each side's median counts
ONE_DAY_REPEATS = 3  # the same day, forgotten and run again: the median counts
MONTHS_SPANS = {"1": "2024-01", "12": "2024-01:2024-12"}
RESTATE_SCALE = 0.05
RESTATE_SPANS = {"3": "2024-01:2024-03", "12": "2024-01:2024-12"}
RESTATED_MONTH = "2024-02"
RESTATE_REPEATS = 3  # restating (or building) the same month again changes nothing: each figure is their median
NEXT_MONTH_STEP = "scheduled run of the next month (make run)"
ONE_DAY_STEP = "one more day (sqlmesh run)"
DAY_MS = 24 * 60 * 60 * 1000
RAW_TRIPS = """(
  SELECT 'yellow' AS service_type, passenger_count, tpep_pickup_datetime AS pickup_at, trip_distance, total_amount
  FROM raw_tlc.yellow_trips
  UNION ALL
  SELECT 'green', passenger_count, lpep_pickup_datetime, trip_distance, total_amount FROM raw_tlc.green_trips
)"""
FACT_TRIPS = """(
  SELECT service_type, passenger_count, pickup_at, trip_distance_miles AS trip_distance, total_amount
  FROM marts.fct_taxi_trips
)"""
TAXI_QUERIES = {
    "q1_trips_by_type": "SELECT service_type, count(*) FROM {trips} GROUP BY 1",
    "q2_avg_total_by_passengers": "SELECT passenger_count, avg(total_amount) FROM {trips} GROUP BY 1",
    "q3_trips_by_passengers_year": "SELECT passenger_count, year(pickup_at), count(*) FROM {trips} GROUP BY 1, 2",
    "q4_by_passengers_year_distance": (
        "SELECT passenger_count, year(pickup_at) AS pickup_year, round(trip_distance)::INT AS distance, count(*) AS n "
        "FROM {trips} GROUP BY 1, 2, 3 ORDER BY pickup_year, n DESC"
    ),
}


@dataclass
class Step:
    """One measured command."""

    name: str
    seconds: float
    peak_rss_mb: float
    returncode: int


def peak_rss_mb(pid: int) -> float:
    """The largest peak RSS (VmHWM, counted from exec) among a process and its descendants, in MB."""
    peak = 0.0
    for candidate in [pid, *descendants(pid)]:
        try:
            status = Path(f"/proc/{candidate}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def run_step(name: str, command: list[str], data: Path, log: Path, gateway: str | None = None) -> Step:
    """Runs a command against `data`, logging its output with elapsed seconds; returns wall time and peak RSS.

    Peak RSS is sampled from /proc (VmHWM of the command and everything it starts) while it runs; ru_maxrss is not
    used because it also counts the bench process's own memory, inherited at fork.
    """
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data), "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1"}
    if gateway is not None:
        environment[GATEWAY_VARIABLE] = gateway
    started = time.perf_counter()
    peak = [0.0]
    with open(log, "a") as output:
        output.write(f"\n$ {' '.join(command)}\n")
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        done = threading.Event()

        def sample() -> None:
            while not done.wait(RSS_SAMPLE_SECONDS):
                peak[0] = max(peak[0], peak_rss_mb(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for line in process.stdout:
            output.write(f"[{time.perf_counter() - started:8.2f}] {line}")
        returncode = process.wait()
        done.set()
        sampler.join()
    seconds = time.perf_counter() - started
    step = Step(name, round(seconds, 2), round(peak[0], 1), returncode)
    print(f"  {name:<28} {step.seconds:8.1f} s  peak {step.peak_rss_mb:8.1f} MB  rc={step.returncode}", flush=True)
    if step.returncode != 0:
        raise IngestError(f"bench step '{name}' failed (exit {step.returncode}); see {log}")
    return step


def python(*args: str) -> list[str]:
    """A command line for this interpreter."""
    return [sys.executable, *args]


def sqlmesh(*args: str) -> list[str]:
    """A sqlmesh command line from this environment."""
    return [str(Path(sys.executable).with_name("sqlmesh")), *args]


def duckdb_reference(mirror: Path, months: list[Month], scratch: Path) -> dict[str, dict]:
    """DuckDB's own CREATE TABLE AS over the same files, per source: rows and seconds."""
    files = {
        "yellow": [mirror / f"trip-data/yellow_tripdata_{month}.parquet" for month in months],
        "green": [mirror / f"trip-data/green_tripdata_{month}.parquet" for month in months],
        "weather": [mirror / f"v1/archive/{month}.json" for month in months],
    }
    csv_dir = scratch / "citibike-csv"
    shutil.rmtree(csv_dir, ignore_errors=True)  # each reference unzips into a fresh folder
    csv_dir.mkdir(parents=True)
    started = time.perf_counter()
    for month in months:
        with zipfile.ZipFile(mirror / f"{month.year:04d}{month.month:02d}-citibike-tripdata.zip") as archive:
            archive.extractall(csv_dir, [name for name in archive.namelist() if not name.startswith("__MACOSX")])
    unzip_seconds = time.perf_counter() - started
    readers = {
        "yellow": "read_parquet({files})",
        "green": "read_parquet({files})",
        "citibike": "read_csv({files})",
        "weather": "(SELECT unnest(hourly.time) AS time, unnest(hourly.temperature_2m) AS t FROM read_json({files}))",
    }
    files["citibike"] = sorted(csv_dir.glob("*.csv"))
    out = {}
    with duckdb.connect(str(scratch / "reference.duckdb")) as connection:
        for source, reader in readers.items():
            listed = "[" + ", ".join(f"'{path}'" for path in files[source]) + "]"
            started = time.perf_counter()
            connection.execute(f"CREATE OR REPLACE TABLE {source} AS SELECT * FROM {reader.format(files=listed)}")
            seconds = time.perf_counter() - started
            rows = connection.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
            out[source] = {"rows": rows, "seconds": round(seconds, 3)}
    (scratch / "reference.duckdb").unlink()
    # DuckDB cannot read a zip: reading Citi Bike's files takes unzipping them first, timed apart (zipfile, to disk)
    out["citibike"]["unzip_seconds"] = round(unzip_seconds, 3)
    return out


def landed_seconds(data: Path) -> dict[str, dict[str, float]]:
    """Rows and seconds per source of the landing last_ingest.json in `data` records (a source's months summed)."""
    landed = json.loads((data / "last_ingest.json").read_text())["landed"]
    out: dict[str, dict[str, float]] = {}
    for entry in landed:
        total = out.setdefault(entry["source"], {"rows": 0, "seconds": 0.0})
        total["rows"] += entry["rows"]
        total["seconds"] += entry["seconds"]
    return out


def ingest_rates(landings: list[dict[str, dict]], references: list[dict[str, dict]]) -> dict[str, dict]:
    """Rows/s per source next to DuckDB's rows/s on the same files: the median of the landings against the median of
    the references (paired runs, INGEST_REPEATS of each), with every run's seconds kept."""
    out = {}
    for source in references[0]:
        rows = landings[0][source]["rows"]
        runs = [landing[source]["seconds"] for landing in landings]
        reference_runs = [reference[source]["seconds"] for reference in references]
        seconds, reference = statistics.median(runs), statistics.median(reference_runs)
        out[source] = {
            "rows": rows,
            "ingest_seconds": round(seconds, 2),
            "ingest_rows_per_s": round(rows / seconds),
            "duckdb_seconds": round(reference, 3),
            "duckdb_rows_per_s": round(references[0][source]["rows"] / reference),
            "ingest_vs_duckdb_ratio": round(seconds / reference, 2),
            "ingest_runs_seconds": [round(run, 2) for run in runs],
            "duckdb_runs_seconds": reference_runs,
        }
        if "unzip_seconds" in references[0][source]:
            unzip = statistics.median([reference[source]["unzip_seconds"] for reference in references])
            out[source]["unzip_seconds"] = round(unzip, 3)
            out[source]["ingest_vs_unzip_and_duckdb_ratio"] = round(seconds / (unzip + reference), 2)
    return out


def paired_ingest_rates(data: Path, months: list[Month], log: Path) -> dict[str, dict]:
    """ingest_rates of INGEST_REPEATS paired runs: the landing already in `data` then DuckDB reading the same files,
    and again, each further landing in a fresh folder (deleted after), so a slow moment weighs on one pair only."""
    span = f"{months[0]}:{months[-1]}"
    landings = [landed_seconds(data)]
    references = [duckdb_reference(data / "mirror", months, data / "reference")]
    for repeat in range(1, INGEST_REPEATS):
        again = data / "ingest-again"
        shutil.rmtree(again, ignore_errors=True)
        again.mkdir()
        command = python("-m", "ingest", "--months", span, "--mirror", str(data / "mirror"))
        run_step(f"ingest again ({repeat + 1} of {INGEST_REPEATS})", command, again, log)
        landings.append(landed_seconds(again))
        shutil.rmtree(again)
        references.append(duckdb_reference(data / "mirror", months, data / "reference"))
    return ingest_rates(landings, references)


def timed_query(connection: duckdb.DuckDBPyConnection, sql: str) -> float:
    """The median wall time of a query over QUERY_REPEATS runs."""
    times = []
    for _ in range(QUERY_REPEATS):
        started = time.perf_counter()
        connection.execute(sql).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def taxi_queries(data: Path) -> dict[str, dict]:
    """The four classic taxi queries on the fact and on the raw tables, read-only."""
    out = {}
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as connection:
        for name, sql in TAXI_QUERIES.items():
            mart = timed_query(connection, sql.format(trips=FACT_TRIPS))
            raw = timed_query(connection, sql.format(trips=RAW_TRIPS))
            out[name] = {
                "mart_seconds": round(mart, 4),
                "raw_seconds": round(raw, 4),
                "mart_vs_raw_ratio": round(mart / raw, 2),
            }
    return out


def pipeline(scale: float, months: list[Month], root: Path) -> dict:
    """Sample, ingest, backfill, gate and one more day at one scale; every step measured."""
    data = root / f"scale-{scale:g}"
    data.mkdir(parents=True, exist_ok=True)
    log = data / "bench.log"
    span = f"{months[0]}:{months[-1]}"
    after = months[-1].next()
    print(f"scale {scale:g}, months {span} (+{after} for the scheduled run) in {data}", flush=True)
    steps = [
        run_step(
            "sample",
            python(
                "-m",
                "ingest.sample",
                "--months",
                f"{months[0]}:{after}",
                "--scale",
                f"{scale:g}",
                "--out",
                str(data / "mirror"),
            ),
            data,
            log,
        ),
        run_step("ingest", python("-m", "ingest", "--months", span, "--mirror", str(data / "mirror")), data, log),
    ]
    rates = paired_ingest_rates(data, months, log)
    steps.append(
        run_step("backfill (sqlmesh plan dev)", sqlmesh("plan", "dev", "--auto-apply", "--no-prompts"), data, log)
    )
    steps.append(run_step("gate and promote", python("-m", "checks.promote", "--env", "dev"), data, log))
    queries = taxi_queries(data)
    scheduled = python("-m", "ops.run", "--months", str(after), "--mirror", str(data / "mirror"))
    steps.append(run_step(NEXT_MONTH_STEP, scheduled, data, log))
    one_day, one_day_runs = one_day_run(data, log)
    steps.append(one_day)
    return {
        "scale": scale,
        "months": span,
        "steps": [asdict(step) for step in steps],
        "ingest": rates,
        "one_day_runs_seconds": one_day_runs,
        "taxi_queries": queries,
        "promotion_seconds": gate_step_seconds(log, "promote", "approve"),
    }


def forget_newest_day() -> None:
    """Removes the newest built day of every daily incremental model prod serves from SQLMesh's state (its table keeps
    the rows), so that day, and only it, is due and ready for the next `sqlmesh run`, which builds it again.

    Raw data lands a month at a time, so no single new day can land; the data folder is MOBILITY_DATA_DIR."""
    from sqlmesh import Context

    context = Context(paths=str(PROJECT_DIR), load=False)
    prod = context.state_sync.get_environment("prod")
    daily = [
        snapshot
        for snapshot in context.state_sync.get_snapshots(prod.snapshots).values()
        if snapshot.is_incremental and snapshot.model.cron == "@daily" and snapshot.intervals
    ]
    context.state_sync.remove_intervals(
        [(snapshot, (snapshot.intervals[-1][1] - DAY_MS, snapshot.intervals[-1][1])) for snapshot in daily]
    )


def one_day_run(data: Path, log: Path) -> tuple[Step, list[float]]:
    """`sqlmesh run` of prod with exactly one more day due (forget_newest_day, not timed): what one more day costs.

    Run ONE_DAY_REPEATS times, the same day each time: the step is their median (its peak RSS the largest), returned
    with each run's seconds."""
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data), "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1"}
    forget = python("-c", "from ops.bench import forget_newest_day; forget_newest_day()")
    runs = []
    for repeat in range(ONE_DAY_REPEATS):
        subprocess.run(forget, cwd=PROJECT_DIR, env=environment, check=True, stdout=subprocess.DEVNULL)
        runs.append(run_step(f"{ONE_DAY_STEP} ({repeat + 1} of {ONE_DAY_REPEATS})", sqlmesh("run", "prod"), data, log))
    median = Step(
        ONE_DAY_STEP, statistics.median([run.seconds for run in runs]), max(run.peak_rss_mb for run in runs), 0
    )
    return median, [run.seconds for run in runs]


def forget_month(month: str) -> None:
    """Removes one month of every incremental model prod serves from SQLMesh's state (its table keeps the rows), so
    that the next `sqlmesh run` builds that month again, and only it; the data folder is MOBILITY_DATA_DIR."""
    from sqlmesh import Context

    first = Month(*map(int, month.split("-")))
    start, end = (calendar.timegm(day.timetuple()) * 1000 for day in (first.first_day, first.next().first_day))
    context = Context(paths=str(PROJECT_DIR), load=False)
    prod = context.state_sync.get_environment("prod")
    built = [
        snapshot
        for snapshot in context.state_sync.get_snapshots(prod.snapshots).values()
        if snapshot.is_incremental and snapshot.intervals
    ]
    context.state_sync.remove_intervals([(snapshot, (start, end)) for snapshot in built])


def restate_by_month(root: Path) -> dict:
    """Restating one month of a warehouse of three months, then of the same warehouse grown to twelve; and building
    that month anew in the twelve-month one (`sqlmesh run` after forget_month), all in this run, each RESTATE_REPEATS
    times (the median counts)."""
    base = root / "restate"
    mirror = base / "mirror"
    log = base / "bench.log"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    print(f"scale {RESTATE_SCALE:g}, restating {RESTATED_MONTH} in 3 and in 12 months, in {base}", flush=True)
    sample = python("-m", "ingest.sample", "--months", RESTATE_SPANS["12"], "--scale", f"{RESTATE_SCALE:g}")
    run_step("sample", [*sample, "--out", str(mirror)], base, log)
    data = base / "warehouse"
    data.mkdir()
    run_step(
        "ingest 3 months", python("-m", "ingest", "--months", RESTATE_SPANS["3"], "--mirror", str(mirror)), data, log
    )
    run_step("backfill 3 months", sqlmesh("plan", "dev", "--auto-apply", "--no-prompts"), data, log)
    run_step("promote 3 months", python("-m", "checks.promote", "--env", "dev"), data, log)
    restate = python("-m", "ops.restate", "--month", RESTATED_MONTH)

    def restated(count: str) -> list[float]:
        return [
            run_step(f"restate {RESTATED_MONTH} of {count} months ({repeat + 1})", restate, data, log).seconds
            for repeat in range(RESTATE_REPEATS)
        ]

    runs = {"3": restated("3")}
    sizes = {"3": round((data / "warehouse.duckdb").stat().st_size / 2**20, 1)}
    grow = python("-m", "ops.run", "--months", "2024-04:2024-12", "--mirror", str(mirror))
    run_step("run to 12 months", grow, data, log)
    runs["12"] = restated("12")
    sizes["12"] = round((data / "warehouse.duckdb").stat().st_size / 2**20, 1)
    environment = {**os.environ, "MOBILITY_DATA_DIR": str(data), "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1"}
    forget = python("-c", f"from ops.bench import forget_month; forget_month('{RESTATED_MONTH}')")
    builds = []
    for repeat in range(RESTATE_REPEATS):
        subprocess.run(forget, cwd=PROJECT_DIR, env=environment, check=True, stdout=subprocess.DEVNULL)
        name = f"build {RESTATED_MONTH} of 12 months (sqlmesh run) ({repeat + 1})"
        builds.append(run_step(name, sqlmesh("run", "prod"), data, log).seconds)
    seconds = {count: round(statistics.median(times), 2) for count, times in runs.items()}
    build = round(statistics.median(builds), 2)
    return {
        "scale": RESTATE_SCALE,
        "month": RESTATED_MONTH,
        "restate_seconds": seconds,
        "restate_runs_seconds": runs,
        "build_month_seconds": build,
        "build_month_runs_seconds": builds,
        "warehouse_mb": sizes,
        "ratios": {
            "restate_12m_vs_3m_ratio": round(seconds["12"] / seconds["3"], 2),
            "restate_vs_build_month_ratio": round(seconds["12"] / build, 2),
        },
    }


def ingest_months(root: Path) -> dict:
    """Wall time of landing twelve months of weather, and of green, against landing one month, in the same run.

    Each ingest starts from a fresh data folder, over a mirror of small files (MONTHS_SCALE), so the ratio shows the
    fixed cost each landed month adds; the median of MONTHS_REPEATS runs.
    """
    base = root / "months"
    mirror = base / "mirror"
    log = base / "bench.log"
    base.mkdir(parents=True, exist_ok=True)
    span = MONTHS_SPANS["12"]
    print(f"scale {MONTHS_SCALE:g}, one month against twelve ({span}) in {base}", flush=True)
    run_step(
        "sample",
        python("-m", "ingest.sample", "--months", span, "--scale", f"{MONTHS_SCALE:g}", "--out", str(mirror)),
        base,
        log,
    )
    seconds: dict[str, dict[str, float]] = {}
    for source in ("weather", "green"):
        seconds[source] = {}
        for count, months in MONTHS_SPANS.items():
            runs = []
            for repeat in range(MONTHS_REPEATS):
                data = base / f"{source}-{count}-{repeat}"
                shutil.rmtree(data, ignore_errors=True)
                data.mkdir()
                command = python("-m", "ingest", "--sources", source, "--months", months, "--mirror", str(mirror))
                runs.append(run_step(f"ingest {source} {months}", command, data, log, "local").seconds)
                shutil.rmtree(data)
            seconds[source][months] = statistics.median(runs)
    ratios = {
        f"ingest_12_vs_1_month_{source}_ratio": round(times[MONTHS_SPANS["12"]] / times[MONTHS_SPANS["1"]], 2)
        for source, times in seconds.items()
    }
    return {"scale": MONTHS_SCALE, "seconds": seconds, "ratios": ratios}


def engine_comparison(scale: float, months: list[Month], root: Path) -> dict:
    """One mirror landed, backfilled and promoted through the gate on DuckDB and on Spark, each step timed."""
    span = f"{months[0]}:{months[-1]}"
    base = root / f"engines-scale-{scale:g}"
    base.mkdir(parents=True, exist_ok=True)
    mirror = base / "mirror"
    print(f"scale {scale:g}, months {span}: DuckDB and Spark in {base}", flush=True)
    sample = python("-m", "ingest.sample", "--months", span, "--scale", f"{scale:g}", "--out", str(mirror))
    run_step("sample", sample, base, base / "bench.log")
    engines = {}
    for name in ("local", "spark"):
        data = base / name
        data.mkdir(exist_ok=True)
        log = data / "bench.log"
        print(f"{name}:", flush=True)
        steps = [
            run_step("ingest", python("-m", "ingest", "--months", span, "--mirror", str(mirror)), data, log, name),
            run_step(
                "backfill (sqlmesh plan dev)", sqlmesh("plan", "dev", "--auto-apply", "--no-prompts"), data, log, name
            ),  # fmt: skip
            run_step("gate and promote", python("-m", "checks.promote", "--env", "dev"), data, log, name),
        ]
        engines[name] = {
            "steps": [asdict(step) for step in steps],
            "promotion_seconds": gate_step_seconds(log, "promote", "approve"),
        }
    return {"scale": scale, "months": span, "engines": engines}


def engine_ratios(comparison: dict) -> dict[str, float]:
    """Spark's time for each step over DuckDB's, measured in the same run."""
    seconds = {
        name: {step["name"]: step["seconds"] for step in run["steps"]} for name, run in comparison["engines"].items()
    }
    duckdb_run, spark_run = seconds["local"], seconds["spark"]
    return {
        "spark_vs_duckdb_ingest_ratio": round(spark_run["ingest"] / duckdb_run["ingest"], 2),
        "spark_vs_duckdb_backfill_ratio": round(
            spark_run["backfill (sqlmesh plan dev)"] / duckdb_run["backfill (sqlmesh plan dev)"], 2
        ),
        "spark_vs_duckdb_gate_ratio": round(spark_run["gate and promote"] / duckdb_run["gate and promote"], 2),
        "spark_vs_duckdb_promotion_ratio": round(
            comparison["engines"]["spark"]["promotion_seconds"] / comparison["engines"]["local"]["promotion_seconds"],
            2,
        ),
    }


def engine_markdown(comparison: dict, ratios: dict[str, float]) -> str:
    """The DuckDB and Spark runs side by side."""
    lines = [
        "# nyc-mobility benchmark: DuckDB and Spark",
        "",
        f"Scale {comparison['scale']:g}, months {comparison['months']}; the same mirror on each gateway.",
        "",
        "| step | DuckDB s | Spark s | Spark peak MB |",
        "|---|---:|---:|---:|",
    ]
    local, spark = (comparison["engines"][name]["steps"] for name in ("local", "spark"))
    for duckdb_step, spark_step in zip(local, spark, strict=True):
        lines.append(
            f"| {duckdb_step['name']} | {duckdb_step['seconds']} | {spark_step['seconds']} | "
            f"{spark_step['peak_rss_mb']} |"
        )
    lines.append(
        f"| promotion to prod inside the gate | {comparison['engines']['local']['promotion_seconds']} | "
        f"{comparison['engines']['spark']['promotion_seconds']} | |"
    )
    lines += ["", "| key | value |", "|---|---:|"] + [f"| `{key}` | {value} |" for key, value in ratios.items()]
    return "\n".join(lines) + "\n"


def gate_step_seconds(log: Path, step: str, previous: str) -> float:
    """Seconds between two steps the gate reports (`[gate] approve: ...` then `[gate] promote: ...`) in the log."""
    stamps = {}
    for line in log.read_text().splitlines():
        for name in (step, previous):
            if f"] [gate] {name}:" in line:
                stamps[name] = float(line[1 : line.index("]")])
    return round(stamps[step] - stamps[previous], 2)


def machine() -> dict:
    """Cores, memory and the versions that produced the figures."""
    memory_kb = int(
        next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1]
    )
    packages = ("duckdb", "sqlmesh", "dlt", "pyarrow", "soda-core-duckdb")
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **{package: version(package) for package in packages},
    }


def ratios(main: dict, reference: dict | None) -> dict[str, float]:
    """Every comparison of the report as one flat `<what>_ratio` key."""
    steps = {step["name"]: step["seconds"] for step in main["steps"]}
    out = {
        f"ingest_vs_duckdb_{source}_ratio": rate["ingest_vs_duckdb_ratio"] for source, rate in main["ingest"].items()
    }
    out |= {
        f"ingest_vs_unzip_and_duckdb_{source}_ratio": rate["ingest_vs_unzip_and_duckdb_ratio"]
        for source, rate in main["ingest"].items()
        if "ingest_vs_unzip_and_duckdb_ratio" in rate
    }
    out["next_month_run_vs_full_backfill_ratio"] = round(
        steps[NEXT_MONTH_STEP] / steps["backfill (sqlmesh plan dev)"], 3
    )
    out["one_day_run_vs_full_backfill_ratio"] = round(steps[ONE_DAY_STEP] / steps["backfill (sqlmesh plan dev)"], 3)
    out |= {f"{name}_mart_vs_raw_ratio": query["mart_vs_raw_ratio"] for name, query in main["taxi_queries"].items()}
    if reference is not None:
        out[f"promotion_scale_{main['scale']:g}_vs_{reference['scale']:g}_ratio"] = round(
            main["promotion_seconds"] / reference["promotion_seconds"], 2
        )
    return out


def markdown(report: dict) -> str:
    """The report as Markdown tables."""
    main, host = report["runs"][0], report["machine"]
    lines = [
        "# nyc-mobility benchmark",
        "",
        f"Scale {main['scale']:g}, months {main['months']}; {host['cores']} cores, {host['memory_gib']} GiB; "
        f"Python {host['python']}, DuckDB {host['duckdb']}, SQLMesh {host['sqlmesh']}, dlt {host['dlt']}, "
        f"pyarrow {host['pyarrow']}, soda-core-duckdb {host['soda-core-duckdb']}.",
        "",
        f"## Ingest (dlt) next to DuckDB reading the same files (medians of {INGEST_REPEATS} paired runs)",
        "",
        "| source | rows | ingest s | ingest rows/s | DuckDB s | DuckDB rows/s | ratio | ingest runs s | DuckDB runs s"
        " |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for source, rate in main["ingest"].items():
        lines.append(
            f"| {source} | {rate['rows']:,} | {rate['ingest_seconds']} | {rate['ingest_rows_per_s']:,} | "
            f"{rate['duckdb_seconds']} | {rate['duckdb_rows_per_s']:,} | {rate['ingest_vs_duckdb_ratio']} | "
            f"{', '.join(map(str, rate['ingest_runs_seconds']))} | {', '.join(map(str, rate['duckdb_runs_seconds']))} |"
        )
    for source, rate in main["ingest"].items():
        if "unzip_seconds" in rate:
            lines += [
                "",
                f"DuckDB reads {source}'s CSVs once they are unzipped ({rate['unzip_seconds']} s, not in the table): "
                f"against unzipping and reading, ingest's ratio is {rate['ingest_vs_unzip_and_duckdb_ratio']}.",
            ]
    for run in report["runs"]:
        lines += [
            "",
            f"## Steps at scale {run['scale']:g} (wall time, peak RSS)",
            "",
            "| step | s | peak MB |",
            "|---|---:|---:|",
        ]
        lines += [f"| {step['name']} | {step['seconds']} | {step['peak_rss_mb']} |" for step in run["steps"]]
        lines.append(f"| promotion to prod inside the gate | {run['promotion_seconds']} | |")
        lines += ["", f"{ONE_DAY_STEP}: the median of {', '.join(map(str, run['one_day_runs_seconds']))} s."]
    demo = report["demo"]
    lines += [
        "",
        f"End to end (sample, ingest, backfill, gate and promote): {demo['seconds']} s, "
        f"largest step peak {demo['peak_rss_mb']} MB.",
        "",
        f"## Taxi benchmark queries (median of {QUERY_REPEATS})",
        "",
        "| query | fct_taxi_trips s | raw s | ratio |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {q['mart_seconds']} | {q['raw_seconds']} | {q['mart_vs_raw_ratio']} |"
        for name, q in main["taxi_queries"].items()
    ]
    restated = report["restatement"]
    lines += [
        "",
        f"## Restating {restated['month']} (scale {restated['scale']:g})",
        "",
        "| warehouse | MB | restate s (median) | runs s |",
        "|---|---:|---:|---|",
        *(
            f"| {count} months | {restated['warehouse_mb'][count]} | {seconds} | "
            f"{', '.join(map(str, restated.get('restate_runs_seconds', {}).get(count, [])))} |"
            for count, seconds in restated["restate_seconds"].items()
        ),
        f"| building {restated['month']} anew in 12 months (sqlmesh run) | | {restated['build_month_seconds']} | "
        f"{', '.join(map(str, restated.get('build_month_runs_seconds', [])))} |",
    ]
    lines += ["", "## Ratios", "", "| key | value |", "|---|---:|"]
    lines += [f"| `{key}` | {value} |" for key, value in report["ratios"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark at SCALE (and at the reference scale for promotion) and writes the report."""
    parser = argparse.ArgumentParser(prog="python -m ops.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--months", default="2024-09:2024-11")
    parser.add_argument("--out", default=str(Path(os.environ.get("MOBILITY_DATA_DIR", "data")) / "bench"))
    args = parser.parse_args(argv)
    try:
        months = parse_months(args.months)
        if args.scale <= 0:
            raise IngestError(f"SCALE={args.scale:g} must be above 0")
        out = Path(args.out).resolve()
        gateways.own_data_dir(inside=out)
        out.mkdir(parents=True, exist_ok=True)
        if gateways.engine() == "spark":
            comparison = engine_comparison(args.scale, months, out)
            report = {"machine": machine(), "engines": comparison, "ratios": engine_ratios(comparison)}
            (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
            (out / "report.md").write_text(engine_markdown(comparison, report["ratios"]))
            print(f"wrote {out / 'report.md'} and {out / 'report.json'}")
            return 0
        runs = [pipeline(args.scale, months, out)]
        reference = pipeline(REFERENCE_SCALE, months, out) if args.scale != REFERENCE_SCALE else None
        if reference:
            runs.append(reference)
        months_cost = ingest_months(out)
        restatement = restate_by_month(out)
    except IngestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    demo_steps = [
        step
        for step in runs[0]["steps"]
        if step["name"] in ("sample", "ingest", "backfill (sqlmesh plan dev)", "gate and promote")
    ]
    report = {
        "machine": machine(),
        "runs": runs,
        "demo": {
            "seconds": round(sum(s["seconds"] for s in demo_steps), 1),
            "peak_rss_mb": max(s["peak_rss_mb"] for s in demo_steps),
            "steps": demo_steps,
        },
        "ingest_months": months_cost,
        "restatement": restatement,
        "ratios": ratios(runs[0], reference) | months_cost["ratios"] | restatement["ratios"],
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(markdown(report))
    print(f"wrote {out / 'report.md'} and {out / 'report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
