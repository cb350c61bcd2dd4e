"""Equal answers on both engines: `python -m ops.parity [--months ...] [--scale ...] [--out DIR]` (make parity).

Writes one sample mirror, lands it with dlt on each gateway (`local`: the DuckDB file; `spark`: Parquet in the lake,
registered in Spark's catalog), builds `dev` from the same model files with `sqlmesh plan dev` on each, then
compares every mart of dev, every column, row by row in grain order:

- integers, text, dates, times and booleans exactly;
- DECIMAL (money) to the cent;
- other floating-point numbers to 1e-9 relative.

Prints one line per mart and, for a mart that differs, the columns and a row that shows it; exits 1 on any
difference (a missing mart, other row counts, one value), 2 when a build fails. `--compare-only` compares two
warehouses already built in DIR/local and DIR/spark.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from gateway import GATEWAY_VARIABLE, GatewayError
from ops.common import PROJECT_DIR, sqlmesh_executable

GATEWAYS = ("local", "spark")
ENVIRONMENT = "dev"
MARTS_SCHEMA = "marts"
RELATIVE_TOLERANCE = 1e-9
CENT = 0.005  # half a cent: money rounds to the same cent
INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
FLOAT_TYPES = ("FLOAT", "REAL", "DOUBLE")
TIME_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")


@dataclass
class MartParity:
    """How one mart compares: rows on each engine and the columns that differ, with an example."""

    mart: str
    duckdb_rows: int | None
    spark_rows: int | None
    columns: int = 0
    differences: dict[str, tuple[int, str]] = field(default_factory=dict)  # column: (rows differing, example)
    problem: str | None = None

    @property
    def equal(self) -> bool:
        return self.problem is None and not self.differences

    def line(self) -> str:
        rows = lambda count: "-" if count is None else f"{count:,}"  # noqa: E731
        verdict = "equal" if self.equal else (self.problem or f"{len(self.differences)} column(s) differ")
        return f"{self.mart:<40} {rows(self.duckdb_rows):>12} {rows(self.spark_rows):>12} {self.columns:>8}  {verdict}"


def column_kind(duckdb_type: str) -> str:
    """integer, money, float, time or exact, from the DuckDB column type of the mart."""
    if duckdb_type in INTEGER_TYPES:
        return "integer"
    if duckdb_type.startswith("DECIMAL"):
        return "money"
    if duckdb_type in FLOAT_TYPES:
        return "float"
    if duckdb_type in TIME_TYPES:
        return "time"
    return "exact"


def _number(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA else float(value)


def values_equal(kind: str, left: object, right: object) -> bool:
    """One value of DuckDB against the same of Spark, by the column's kind."""
    if kind in ("integer", "money", "float"):
        a, b = _number(left), _number(right)
        if a is None or b is None:
            return a is None and b is None
        if kind == "integer":
            return a == b
        if kind == "money":
            return abs(a - b) < CENT
        return a == b or abs(a - b) <= RELATIVE_TOLERANCE * max(abs(a), abs(b))
    if pd.isna(left) or pd.isna(right):
        return bool(pd.isna(left) and pd.isna(right))
    if kind == "time":
        a, b = pd.Timestamp(left), pd.Timestamp(right)
        a = a.tz_convert("UTC").tz_localize(None) if a.tzinfo else a
        b = b.tz_convert("UTC").tz_localize(None) if b.tzinfo else b
        return a == b
    return str(left) == str(right)


def compare_frames(
    mart: str, kinds: dict[str, str], grain: list[str], left: pd.DataFrame, right: pd.DataFrame
) -> MartParity:
    """Compares a mart's rows from DuckDB (left) and Spark (right), in grain order."""
    result = MartParity(mart, len(left), len(right), columns=len(kinds))
    missing = sorted(set(kinds) - set(right.columns))
    if missing:
        result.problem = f"Spark lacks column(s) {', '.join(missing)}"
        return result
    if len(left) != len(right):
        result.problem = "row counts differ"
        return result
    order = [column for column in grain if column in kinds] or list(kinds)
    left = left.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)
    right = right[list(left.columns)].sort_values(order, kind="stable", na_position="first").reset_index(drop=True)
    for column, kind in kinds.items():
        differing = [
            index
            for index, (a, b) in enumerate(zip(left[column].tolist(), right[column].tolist(), strict=True))
            if not values_equal(kind, a, b)
        ]
        if differing:
            row = differing[0]
            key = ", ".join(f"{name}={left.at[row, name]}" for name in order[:3])
            example = f"{key}: DuckDB {left.at[row, column]!r}, Spark {right.at[row, column]!r}"
            result.differences[column] = (len(differing), example)
    return result


def mart_columns(connection: duckdb.DuckDBPyConnection, schema: str) -> dict[str, dict[str, str]]:
    """Every mart view of an environment in the DuckDB warehouse, with its columns' kinds."""
    rows = connection.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
        "ORDER BY table_name, ordinal_position",
        [schema],
    ).fetchall()
    marts: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        marts.setdefault(table, {})[column] = column_kind(data_type)
    return marts


def model_grains() -> dict[str, list[str]]:
    """The grain columns of every mart model, from the models themselves."""
    from ops.common import sqlmesh_context

    with sqlmesh_context() as context:
        return {
            model.name.split(".")[-1].strip('"'): [grain.name for grain in model.grains]
            for model in context.models.values()
            if model.name.split(".")[-2].strip('"') == MARTS_SCHEMA
        }


def spark_frame(session, schema: str, mart: str) -> pd.DataFrame | None:  # noqa: ANN001 (pyspark is optional)
    """A mart of the Spark warehouse as a pandas frame, or None when Spark has no such table or view."""
    if not session.catalog.tableExists(f"{schema}.{mart}"):
        return None
    return session.table(f"{schema}.{mart}").toPandas()


def compare(out: Path, environment: str = ENVIRONMENT) -> list[MartParity]:
    """Compares every mart of `environment` in out/local (DuckDB) and out/spark (Spark)."""
    schema = MARTS_SCHEMA if environment == "prod" else f"{MARTS_SCHEMA}__{environment}"
    grains = model_grains()
    with duckdb.connect(str(out / "local" / "warehouse.duckdb"), read_only=True) as connection:
        marts = mart_columns(connection, schema)
        frames = {mart: connection.sql(f'SELECT * FROM {schema}."{mart}"').df() for mart in marts}
    os.environ["MOBILITY_DATA_DIR"] = str(out / "spark")
    os.environ[GATEWAY_VARIABLE] = "spark"
    from gateway import spark

    session = spark.session()
    session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    results = []
    for mart, kinds in marts.items():
        right = spark_frame(session, schema, mart)
        if right is None:
            missing = MartParity(
                f"{MARTS_SCHEMA}.{mart}", len(frames[mart]), None, len(kinds), problem="missing on Spark"
            )
            results.append(missing)
            continue
        results.append(compare_frames(f"{MARTS_SCHEMA}.{mart}", kinds, grains.get(mart, []), frames[mart], right))
    session.stop()
    return results


def report(results: list[MartParity]) -> str:
    """The parity table, then what differs."""
    lines = [f"{'mart':<40} {'DuckDB rows':>12} {'Spark rows':>12} {'columns':>8}  verdict", "-" * 88]
    lines += [result.line() for result in results]
    for result in results:
        for column, (count, example) in result.differences.items():
            lines.append(f"  {result.mart}.{column}: {count:,} row(s) differ, e.g. {example}")
    equal = sum(result.equal for result in results)
    lines.append(f"{equal} of {len(results)} marts equal on DuckDB and Spark.")
    return "\n".join(lines)


def step(description: str, command: list[str], environment: dict[str, str]) -> None:
    """Runs one build step, its output kept in a log beside the warehouse; a failure stops parity with its tail."""
    log = Path(environment["MOBILITY_DATA_DIR"]) / "parity.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"  {description}", flush=True)
    with log.open("a") as handle:
        handle.write(f"\n$ {' '.join(command)}\n")
        handle.flush()
        status = subprocess.call(command, cwd=PROJECT_DIR, env=environment, stdout=handle, stderr=subprocess.STDOUT)
    if status != 0:
        tail = log.read_text().splitlines()[-15:]
        raise GatewayError(f"{description} failed (exit {status}); the end of {log}:\n" + "\n".join(tail))


def build(out: Path, months: str, scale: float) -> None:
    """The sample mirror, then raw and dev on each gateway."""
    mirror = out / "mirror"
    python = sys.executable
    base = {**os.environ, "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1", "RUNTIME__DLTHUB_TELEMETRY": "false"}
    base["MOBILITY_DATA_DIR"] = str(out)
    step(f"sample mirror {months} at scale {scale}", [python, "-m", "ingest.sample", "--months", months,
         "--scale", str(scale), "--out", str(mirror)], base)  # fmt: skip
    for gateway in GATEWAYS:
        environment = {**base, GATEWAY_VARIABLE: gateway, "MOBILITY_DATA_DIR": str(out / gateway)}
        print(f"{gateway}:", flush=True)
        step("ingest", [python, "-m", "ingest", "--months", months, "--mirror", str(mirror)], environment)
        plan = [python, "-m", "gateway.lock", "--", sqlmesh_executable(), "plan", ENVIRONMENT, "--auto-apply",
                "--no-prompts"]  # fmt: skip
        step(f"sqlmesh plan {ENVIRONMENT}", plan, environment)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ops.parity", description=__doc__.splitlines()[0])
    parser.add_argument("--months", default="2024-09:2024-10")
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--out", type=Path, help="folder of the parity build (default: $MOBILITY_DATA_DIR/parity)")
    parser.add_argument("--compare-only", action="store_true", help="compare the warehouses already built in --out")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from gateway import data_dir, own_data_dir

    out = (args.out or data_dir() / "parity").resolve()
    own_data_dir(inside=out)
    try:
        if not args.compare_only:
            print(f"Building the same sample on DuckDB and Spark in {out}")
            build(out, args.months, args.scale)
        results = compare(out)
    except GatewayError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(report(results))
    return 0 if all(result.equal for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
