"""`make run [MONTHS=YYYY-MM[:YYYY-MM]] [MIRROR=...]`: the scheduled run (cron, systemd timer) of the warehouse.

1. ingest  MONTHS when given (every source in SOURCES); otherwise, for each monthly source, the month after the
           newest one it has landed, when it has ended and is published (the file exists in the mirror or answers
           a HEAD request upstream; the weather archive a week after the month ends). A month not published yet
           is reported and skipped, so a daily schedule is quiet until upstream publishes;
2. restate the months awaiting restatement (gate.pending_restatements: gateway/pending.py), through the gate
           (ops/restate.py); `make ingest` is steps 0-2 (`--ingest-only`), landing and restating in one lock hold;
3. run     `sqlmesh run` for prod (on DuckDB SQLMesh's `Context.run` in this process), through the gate
           (ops/gated.py): raw months no passing scan has accepted yet are computed on a candidate
           (ops/candidate.py), checked by Soda and kept only when the checks pass; when they fail, prod is exactly
           as it was, does not show those months, and the run exits 1 naming them.

0. recover a promotion a killed process left unfinished, and report pending restatements (ops/recover.py).

The whole run holds the warehouse lock; the ingest and sqlmesh steps inherit it. Exit code: 0 when every step
passed, the first failing step's code otherwise (75 when another writer held the warehouse too long).
`OVERRIDE=name=value` (make run) changes a threshold of checks/thresholds.yml for this run's checks, printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import requests

from gateway import GatewayError, faults
from gateway.children import Interrupted, call
from gateway.lock import EXIT_BUSY, WarehouseBusy, warehouse_lock
from ingest import citibike, settings, tlc, weather
from ingest.__main__ import SOURCES, raw_reader, table_exists
from ingest.common import check_mirror
from ingest.months import IngestError, Month, parse_months
from ops import recover, restate
from ops.common import PROJECT_DIR, WorkflowError, pin_data_dir
from ops.gated import gated_run
from ops.restate import has_prod

WEATHER_ARCHIVE_DELAY = dt.timedelta(days=7)
MONTHLY_SOURCES = ("yellow", "green", "citibike", "weather")


def newest_landed(source: str) -> Month | None:
    """The newest month a monthly source has landed (the warehouse's raw table, or on Spark the lake's files),
    read-only; None before its first load."""
    spec = SOURCES[source]
    table = f"{spec.dataset}.{spec.table}"
    if not table_exists(table):
        return None
    with raw_reader(table) as (connection, relation):
        newest = connection.execute(f"SELECT max(source_month) FROM {relation}").fetchone()[0]
    return Month(newest.year, newest.month) if newest else None


def relative_path(source: str, month: Month, base: str) -> str:
    """Where a source publishes a month, relative to its base (the upstream layout)."""
    if source in ("yellow", "green"):
        return tlc.trip_file(source, month)
    if source == "citibike":
        return citibike.zip_file(month)
    return weather.request_path(month, base)


def is_published(source: str, month: Month, mirror: str | None, today: dt.date) -> bool:
    """True when the month has ended and its file is there (mirror folder, HEAD upstream, weather after a week)."""
    if month.last_day >= today:
        return False
    base = mirror or SOURCES[source].base
    if source == "weather" and base == settings.OPEN_METEO_BASE:
        return today - month.last_day >= WEATHER_ARCHIVE_DELAY
    if not urlparse(base).scheme:
        return (Path(base) / relative_path(source, month, base)).is_file()
    try:
        response = requests.head(f"{base}/{relative_path(source, month, base)}", timeout=30, allow_redirects=True)
    except requests.RequestException:
        return True  # the ingest itself retries and reports the failure
    return response.status_code not in (403, 404)


def due_months(sources: list[str], mirror: str | None, today: dt.date) -> dict[str, Month]:
    """For each monthly source with landed data, the next month if it is published; reports the others."""
    due = {}
    for source in sources:
        newest = newest_landed(source) if source in MONTHLY_SOURCES else None
        if newest is None:
            if source in MONTHLY_SOURCES:
                print(f"[run] {source}: nothing landed yet; land a first month with make ingest MONTHS=YYYY-MM")
            continue
        candidate = newest.next()
        if is_published(source, candidate, mirror, today):
            due[source] = candidate
        else:
            print(f"[run] {source}: {candidate} is not published yet (newest landed: {newest})")
    return due


def ingest(sources: list[str], months: str, mirror: str | None) -> int:
    """`python -m ingest` for these sources and months; it inherits the lock."""
    command = [sys.executable, "-m", "ingest", "--sources", ",".join(sources), "--months", months]
    command += ["--mirror", mirror] if mirror else []
    print(f"[run] {' '.join(command[1:])}", flush=True)
    return call(command, cwd=PROJECT_DIR, env=os.environ.copy())


def ingest_step(sources: list[str], months: str | None, mirror: str | None, override: str | None = None) -> int:
    """Lands the given or the due months, then restates the months whose content changed; the worst exit code."""
    if months:
        batches = {months: sources}
    else:
        batches = {}
        for source, month in due_months(sources, mirror, dt.date.today()).items():
            batches.setdefault(str(month), []).append(source)
    worst = 0
    for spec, names in batches.items():
        worst = worst or ingest(names, spec, mirror)
    changed = restate.changed_months()  # pending in the warehouse, from this ingest or an earlier one cut short
    if changed and has_prod():
        worst = restate.restate(sorted(set(changed), key=lambda m: m.first_day), override) or worst
    elif changed:
        print(f"[run] months {', '.join(map(str, changed))} changed; no prod yet, so nothing to restate")
    return worst


def run(
    sources: list[str], months: str | None, mirror: str | None, override: str | None = None, ingest_only: bool = False
) -> int:
    """Ingest, restate and `sqlmesh run` through the gate, under one hold of the warehouse lock.

    `ingest_only` (make ingest) lands and restates, in the same hold, so no other writer comes in between."""
    with warehouse_lock(f"make {'ingest' if ingest_only else 'run'} {months or 'next months'}"):
        recover.preflight("ingest" if ingest_only else "run")
        worst = ingest_step(sources, months, mirror, override)
        if ingest_only:
            return worst
        if not has_prod():
            raise WorkflowError("There is no prod environment to run: build and promote it first (make demo).")
        return gated_run(override) or worst


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m ops.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default=",".join(MONTHLY_SOURCES), help="sources to ingest (default: monthly)")
    parser.add_argument("--months", help="YYYY-MM[:YYYY-MM] to ingest (default: each source's next month)")
    parser.add_argument("--mirror", help="a mirror folder or http(s) URL instead of the upstream")
    parser.add_argument("--override", metavar="NAME=VALUE,...", help="thresholds of checks/thresholds.yml, this run")
    parser.add_argument("--ingest-only", action="store_true", help="land and restate only (make ingest)")
    return parser.parse_args(argv)


@faults.reported(lambda argv: "make ingest" if "--ingest-only" in argv else "make run")
def main(argv: list[str]) -> int:
    """Runs the scheduled steps; prints one clear line when the warehouse is busy or not built."""
    args = parse_args(argv)
    pin_data_dir()
    try:
        sources = [name.strip() for name in args.sources.split(",") if name.strip()]
        unknown = [name for name in sources if name not in SOURCES]
        if unknown or not sources:
            raise WorkflowError(f"SOURCES='{args.sources}' names unknown sources; choose from {', '.join(SOURCES)}.")
        if args.months:
            parse_months(args.months)
        return run(sources, args.months, check_mirror(args.mirror), args.override, args.ingest_only)
    except Interrupted as error:
        print(f"[run] {error}; the step it was running stopped with it (nothing half-written reaches prod).")
        return error.exit_code
    except WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except (IngestError, WorkflowError, GatewayError) as error:  # GatewayError: a damaged warehouse, its own words
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
