"""`make docs`: writes docs/data_dictionary.md from the models themselves; `make lint` fails when it is stale.

For every mart: its description, grain, kind, owner, audits, every column with its type and description (the
models' own comments), and one example question with its SQL (a saved query of queries/ that reads the mart, or the
example below). Then the code tables (the seeds behind payment types, rate codes, vendors and trip types) and the
validity rules with their exclusion reasons (the tables of docs/validity_policy.md, the policy's own words).

    python -m ops.docs            # write docs/data_dictionary.md
    python -m ops.docs --check    # exit 1 when the file differs from what the models say
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

from sqlglot import exp
from sqlmesh.core.model import Model

from ops.common import PROJECT_DIR, sqlmesh_context

OUT = PROJECT_DIR / "docs" / "data_dictionary.md"
POLICY = PROJECT_DIR / "docs" / "validity_policy.md"
QUERIES = PROJECT_DIR / "queries"
# Validity sections of the policy reproduced here (their tables), in this order.
POLICY_SECTIONS = (
    "Taxi (yellow and green): rows left out of the fact",
    "Taxi quality flags (the trip stays)",
    "Citi Bike: rows left out of the fact",
    "Citi Bike quality flags",
)
# The example of a mart no saved query reads: (question, SQL).
EXAMPLES = {
    "marts.fct_taxi_trips": (
        "How long and how far is a plausible yellow taxi trip, per day?",
        "SELECT pickup_date, count(*) AS trips, round(avg(duration_seconds) / 60, 1) AS minutes,\n"
        "  round(avg(trip_distance_miles), 2) AS miles\nFROM marts.fct_taxi_trips\n"
        "WHERE service_type = 'yellow' AND is_plausible\nGROUP BY pickup_date\nORDER BY pickup_date;",
    ),
    "marts.fct_bike_trips": (
        "How do members and casual riders differ in ride length?",
        "SELECT rider_type, count(*) AS rides, round(median(duration_seconds) / 60, 1) AS median_minutes\n"
        "FROM marts.fct_bike_trips\nWHERE is_plausible\nGROUP BY rider_type\nORDER BY rides DESC;",
    ),
    "marts.dim_zones": (
        "How many taxi zones does each borough have?",
        "SELECT borough, count(*) AS zones\nFROM marts.dim_zones\nGROUP BY borough\nORDER BY zones DESC;",
    ),
    "marts.dim_date": (
        "Which days of the first month in the warehouse were weekends?",
        "SELECT calendar_date, dayname(calendar_date) AS day\nFROM marts.dim_date\n"
        "WHERE calendar_date BETWEEN (SELECT min(pickup_date) FROM marts.fct_taxi_trips)\n"
        "  AND (SELECT min(pickup_date) + 30 FROM marts.fct_taxi_trips)\n"
        "  AND dayofweek(calendar_date) IN (0, 6)\nORDER BY calendar_date;",
    ),
    "marts.agg_taxi_revenue_by_payment_day": (
        "Which weekday brings the most card revenue?",
        "SELECT dayname(pickup_date) AS day, round(sum(revenue_amount), 2) AS revenue_amount\n"
        "FROM marts.agg_taxi_revenue_by_payment_day\nWHERE payment_type_name = 'Credit card'\n"
        "GROUP BY day\nORDER BY revenue_amount DESC;",
    ),
    "marts.agg_taxi_vs_bike_by_borough_month": (
        "Where do taxi trips start, by borough, next to the month's Citi Bike rides?",
        "SELECT trip_month, borough, taxi_trips, bike_trips\nFROM marts.agg_taxi_vs_bike_by_borough_month\n"
        "ORDER BY trip_month, coalesce(taxi_trips, bike_trips) DESC;",
    ),
    "marts.agg_cbd_congestion_fees_by_day": (
        "How much did the Congestion Relief Zone fee raise per month?",
        "SELECT date_trunc('month', pickup_date) AS month, sum(trips)::BIGINT AS trips,\n"
        "  round(sum(cbd_congestion_fee_amount), 2) AS cbd_congestion_fee_amount\n"
        "FROM marts.agg_cbd_congestion_fees_by_day\nGROUP BY month\nORDER BY month;",
    ),
}


def short(model: Model) -> str:
    """schema.table of a model (its name without the catalog or quotes)."""
    return ".".join(part.strip('"') for part in model.name.split(".")[-2:])


def one_line(text: str | None) -> str:
    """Text on one line, for a table cell."""
    return re.sub(r"\s+", " ", text or "").strip().replace("|", "\\|")


def audit(name: str, arguments: dict[str, exp.Expression]) -> str:
    """An audit as the model declares it: `name(argument := value, ...)`."""
    listed = ", ".join(f"{key} := {value.sql(dialect='duckdb')}" for key, value in arguments.items())
    return f"`{name}({listed})`"


def kind(model: Model) -> str:
    """The model's kind, with its time column when it has one."""
    time_column = getattr(model.kind, "time_column", None)
    column = f" on `{time_column.column.name}`" if time_column is not None else ""
    return f"{model.kind.name}{column}, cron `{model.cron}`"


def example(name: str) -> tuple[str, str] | None:
    """The question and SQL of the first saved query that reads the mart, else the example above."""
    for path in sorted(QUERIES.glob("*.sql")):
        text = path.read_text()
        if re.search(rf"\b{re.escape(name)}\b", text):
            question, _, sql = text.partition("\n")
            return f"{question.removeprefix('--').strip()} (`make query Q={path.stem}`)", sql.strip()
    return EXAMPLES.get(name)


def mart_section(model: Model) -> list[str]:
    """The dictionary entry of one mart."""
    name = short(model)
    grain = ", ".join(f"`{grain.sql(dialect='duckdb')}`" for grain in model.grains) or "not declared"
    lines = [f"### {name}", "", one_line(model.description), ""]
    lines += [f"- **Grain:** one row per {grain}", f"- **Kind:** {kind(model)}", f"- **Owner:** {model.owner}"]
    if model.audits:
        lines.append("- **Audits** (run by every plan): " + ", ".join(audit(n, a) for n, a in model.audits))
    lines += ["", "| column | type | description |", "|---|---|---|"]
    types = model.columns_to_types or {}
    for column, data_type in types.items():
        described = one_line(model.column_descriptions.get(column))
        lines.append(f"| `{column}` | {data_type.sql(dialect='duckdb')} | {described} |")
    found = example(name)
    if found:
        question, sql = found
        lines += ["", f"**Example:** {question}", "", "```sql", sql, "```"]
    return [*lines, ""]


def code_table(model: Model) -> list[str]:
    """A seed as a Markdown table, under its model name."""
    with open(PROJECT_DIR / "seeds" / Path(model.kind.path).name, newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    lines = [f"### {short(model)}", "", one_line(model.description), ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return [*lines, ""]


def policy_tables() -> list[str]:
    """The validity sections of docs/validity_policy.md: heading and table of each, verbatim."""
    text = POLICY.read_text()
    lines: list[str] = []
    for heading in POLICY_SECTIONS:
        match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
        if match is None:
            raise SystemExit(f"docs/validity_policy.md has no section '## {heading}': update POLICY_SECTIONS")
        table = [line for line in match.group(1).splitlines() if line.startswith("|")]
        lines += [f"### {heading}", "", *table, ""]
    return lines


def render() -> str:
    """The whole dictionary, from the loaded project."""
    with sqlmesh_context() as context:
        models = sorted(context.models.values(), key=short)
    marts = [model for model in models if short(model).startswith("marts.")]
    seeds = [model for model in models if model.kind.is_seed]
    lines = [
        "# Data dictionary",
        "",
        "Written by `make docs` from the models themselves (descriptions, column comments, grains, audits); "
        "`make lint` fails when it is stale. Prod's marts are `marts.<name>` (`make sql` opens them read-only), a "
        "development environment's are `marts__<env>.<name>`. Which raw rows become trips is "
        "[the validity policy](validity_policy.md); its rules and exclusion reasons are repeated at the end.",
        "",
        "## Marts",
        "",
        "| mart | grain | what it holds |",
        "|---|---|---|",
    ]
    for model in marts:
        grain = ", ".join(f"`{grain.sql(dialect='duckdb')}`" for grain in model.grains)
        anchor = short(model).replace(".", "")
        first = one_line(model.description).split(". ")[0].rstrip(".")
        lines.append(f"| [{short(model)}](#{anchor}) | {grain} | {first} |")
    lines.append("")
    for model in marts:
        lines += mart_section(model)
    lines += ["## Code tables", "", "The codes the TLC files carry, as the marts' `*_id` columns hold them.", ""]
    for model in seeds:
        lines += code_table(model)
    lines += ["## Validity rules and exclusion reasons", ""]
    counted = "`marts.agg_row_accounting_by_month` counts the rows each rule leaves out"
    lines += [f"From [docs/validity_policy.md](validity_policy.md); {counted}.", ""]
    lines += policy_tables()
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/data_dictionary.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print("error: docs/data_dictionary.md is stale: the models changed. Run `make docs` and commit it.")
            return 1
        print("docs/data_dictionary.md matches the models.")
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(PROJECT_DIR)} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
