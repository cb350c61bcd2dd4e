"""The command line: which months, at what scale, where; writes every file and the manifest."""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from gateway import faults, own_data_dir
from ingest.months import IngestError, Month
from ingest.months import parse_months as months_of
from ingest.sample.citibike import make_stations, write_citibike
from ingest.sample.common import CHUNK_ROWS, FileEntry, atomic_path, scaled_rows
from ingest.sample.tlc import write_taxi
from ingest.sample.weather import write_weather
from ingest.sample.zones import write_zones

FIRST_MONTH = (2021, 2)  # Citi Bike's 13-column schema starts here; older months are refused
MAX_WORKERS = 4  # each worker holds up to about 1 GB while it writes a SCALE=1 file
PARALLEL_FROM_COST = CHUNK_ROWS  # smaller mirrors are written before worker processes would have started
DESCRIPTION = "Deterministic sample mirror of the upstream NYC mobility sources, as dirty as the real ones."


def parse_months(spec: str) -> list[Month]:
    """Parses YYYY-MM or an inclusive range YYYY-MM:YYYY-MM (as `make ingest` does), refusing months before Citi Bike's
    current schema."""
    try:
        months = months_of(spec)
    except IngestError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if months[0].key < FIRST_MONTH:
        raise argparse.ArgumentTypeError(f"{months[0]} is too early: the sample starts at 2021-02")
    return months


def parse_scale(text: str) -> float:
    """Parses a finite scale > 0."""
    try:
        scale = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(scale) or scale <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a number > 0 (1 = real volume)")
    return scale


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m ingest.sample", description=DESCRIPTION)
    parser.add_argument("--months", required=True, type=parse_months, help="YYYY-MM or YYYY-MM:YYYY-MM")
    parser.add_argument("--scale", type=parse_scale, default=0.01, help="1 = real volume (default 0.01)")
    parser.add_argument("--out", type=Path, default=Path("data/mirror"), help="mirror folder (data/mirror)")
    parser.add_argument("--seed", type=int, default=42, help="base seed (default 42)")
    return parser


def generate(out: Path, months: list[Month], scale: float, seed: int) -> dict:
    """Writes every file of the mirror, the monthly files in parallel, and its manifest; returns the manifest."""
    entries = [report(out, timed(write_zones, out))]
    jobs = monthly_jobs(out, months, scale, seed)
    done = {index: report(out, written) for index, written in run_jobs(jobs)}
    entries += [done[index] for index in range(len(jobs))]  # the manifest keeps the month order
    manifest = {
        "generator": "ingest.sample",
        "seed": seed,
        "scale": scale,
        "months": [str(month) for month in months],
        "files": {entry.path: entry.as_json() for entry, _ in entries},
    }
    part = atomic_path(out / "manifest.json")
    part.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(part, out / "manifest.json")
    print(f"{out / 'manifest.json'}\t{len(entries)} files", flush=True)
    return manifest


def monthly_jobs(out: Path, months: list[Month], scale: float, seed: int) -> list[tuple[tuple, int]]:
    """((writer, arguments...), cost in taxi rows) of every monthly file, in the manifest's order."""
    stations = make_stations()
    jobs = []
    for month in months:
        jobs.append(((write_taxi, out, "yellow", month, scale, seed), scaled_rows("yellow", scale)))
        jobs.append(((write_taxi, out, "green", month, scale, seed), scaled_rows("green", scale)))
        # A Citi Bike row costs about twice a taxi row: thirteen text columns, then deflate.
        jobs.append(((write_citibike, out, month, scale, seed, stations), 2 * scaled_rows("citibike", scale)))
        jobs.append(((write_weather, out, month, seed), 0))
    return jobs


def run_jobs(jobs: list[tuple[tuple, int]]) -> Iterator[tuple[int, tuple[FileEntry, float]]]:
    """(index, written file) of each job as it completes, the longest first, in worker processes when it pays."""
    order = sorted(range(len(jobs)), key=lambda index: -jobs[index][1])
    workers = min(os.cpu_count() or 1, MAX_WORKERS, len(jobs))
    if workers == 1 or sum(cost for _, cost in jobs) < PARALLEL_FROM_COST:
        for index in order:
            yield index, timed(*jobs[index][0])
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(timed, *jobs[index][0]): index for index in order}
        for future in as_completed(futures):
            yield futures[future], future.result()


def timed(writer: Callable[..., FileEntry], *args: object) -> tuple[FileEntry, float]:
    """Runs one file's writer; returns its manifest entry and the seconds it took."""
    started = time.perf_counter()
    entry = writer(*args)
    return entry, time.perf_counter() - started


def report(out: Path, written: tuple[FileEntry, float]) -> tuple[FileEntry, float]:
    """Prints the progress line of a written file: path, rows, bytes and seconds, separated by tabs."""
    entry, seconds = written
    size = (out / entry.path).stat().st_size
    print(f"{out / entry.path}\t{entry.rows} rows\t{size:,} bytes\t{seconds:.1f} s", flush=True)
    return written


@faults.reported("Writing the sample mirror")
def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m ingest.sample`."""
    args = build_parser().parse_args(argv)
    own_data_dir(inside=Path(args.out))
    generate(args.out, args.months, args.scale, args.seed)
    return 0
