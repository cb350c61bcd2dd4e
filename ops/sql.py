"""`make sql` / `make query Q=name`: the DuckDB SQL client on the warehouse, read-only, prod's marts first.

`make sql` opens the DuckDB CLI (the `duckdb-cli` package, the same DuckDB version as the warehouse) on
`$MOBILITY_DATA_DIR/warehouse.duckdb` read-only, with `marts` (or `marts__dev` for ENV=dev) first on the search path,
so `SELECT * FROM fct_taxi_trips LIMIT 5` works as written. `make query Q=name` runs `queries/name.sql` the same way
and exits; `make query` lists the saved queries. A warehouse that is missing, damaged or held by a writer is
refused with its own message before the client starts.

    python -m ops.sql [--env prod|dev] [--query NAME | --list]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import gateway
from gateway import GatewayError, open_read_only, warehouse_path
from ops.common import PROJECT_DIR, pin_data_dir

QUERIES_DIR = PROJECT_DIR / "queries"
SCHEMAS = {"prod": "marts,staging,intermediate,main", "dev": "marts__dev,staging__dev,intermediate__dev,main"}


def client() -> Path:
    """The DuckDB CLI installed beside this interpreter (.venv/bin/duckdb)."""
    return Path(sys.executable).with_name("duckdb")


def saved() -> dict[str, str]:
    """Every saved query's name and the question its first comment line asks."""
    found = {}
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        first = path.read_text().splitlines()[0] if path.read_text().strip() else ""
        found[path.stem] = first.removeprefix("--").strip()
    return found


def command(env: str, query: str | None) -> list[str]:
    """The DuckDB CLI's argument list: read-only, the environment's schemas on the search path, a query file or not."""
    arguments = [str(client()), "-readonly", str(warehouse_path()), "-cmd", f"SET search_path = '{SCHEMAS[env]}'"]
    if query is None:
        return arguments
    return [*arguments, "-bail", "-f", str(QUERIES_DIR / f"{query}.sql")]


def listing() -> str:
    """The saved queries, one line each."""
    width = max(map(len, saved()), default=0)
    lines = [f"  make query Q={name:<{width}}  {question}" for name, question in saved().items()]
    return "Saved queries (queries/*.sql):\n" + "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.sql", description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=tuple(SCHEMAS), default="prod")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--query", help="a saved query of queries/ by name (without .sql)")
    choice.add_argument("--list", action="store_true", help="list the saved queries")
    args = parser.parse_args(argv)
    if args.list or args.query == "":
        print(listing())
        return 0
    if args.query is not None and args.query not in saved():
        print(f"error: no saved query named '{args.query}'.\n{listing()}", file=sys.stderr)
        return 2
    pin_data_dir()
    try:
        if gateway.engine() != "duckdb":
            raise GatewayError(
                f"make sql opens the DuckDB warehouse; the {gateway.name()} gateway's tables are read with its own "
                "SQL client (for Spark: spark-sql with the same warehouse dir and metastore)."
            )
        open_read_only("make sql").close()  # missing, damaged or held: its own message, before the client starts
    except GatewayError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not client().exists():
        print(f"error: {client()} is missing: run `make setup` (requirements.lock has duckdb-cli).", file=sys.stderr)
        return 2
    arguments = command(args.env, args.query)
    os.execv(arguments[0], arguments)  # the client takes over the terminal; its exit code is the command's


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
