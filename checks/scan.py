"""Soda checks against one SQLMesh environment, read-only: `python -m checks.scan --env dev|prod|NAME`.

The same SodaCL files (checks/raw.yml, marts.yml, reconciliation.yml) run against any environment: prod reads the
`marts`, `intermediate` and `staging` views, environment NAME reads `marts__NAME` and so on. The files are
templates rendered with the environment's schemas, the checked months and every threshold of checks/thresholds.yml,
and nothing else: Soda's own resolution reads environment variables first, so the gate renders the check files and
the data source configuration itself (checks.soda_core.pinned_templates) and scans with checks.soda_core.PinnedScan.
A name the gate does not define is an error naming the file. The one way to change a threshold for a run is
`--override NAME=VALUE[,NAME=VALUE]` (make check/promote OVERRIDE=...), shown in the report and in its summary.
The warehouse is opened read-only: scan between writers (ingest, plan, run).

On the spark gateway the same files run through soda-core-spark-df on the process's Spark session (gateway/spark.py):
their SQL is written in DuckDB's dialect, and every `fail query` and `fail condition` is rendered for Spark by
SQLGlot, as SQLMesh renders the models.

Exit code: 0 when every check passes or only warns, 1 when a check fails, 2 when Soda could not run the checks
(configuration, SQL or connection error). The promotion gate treats 1 and 2 alike.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml
from jinja2 import Environment, TemplateError, meta
from sqlglot import exp

import gateway
from checks.soda_core import (
    FAILED_ROWS_CHECKS,
    Check,
    Log,
    PinnedScan,
    SampleContext,
    Sampler,
    SampleRef,
    pinned_templates,
    telemetry_is_off,
)
from gateway import ACCEPTED_TABLE, PROJECT_DIR, warehouse_path
from gateway.spark import SPARK_COLUMNS_VIEW, to_spark
from ops.common import MONTHLY_RAW_TABLES
from ops.readiness import month_runs

CHECKS_DIR = PROJECT_DIR / "checks"
CHECK_FILES = ("raw.yml", "marts.yml", "reconciliation.yml")
CONFIGURATION_FILE = "configuration.yml"
THRESHOLDS_FILE = "thresholds.yml"
CONFIGURATION_ENV = ("MOBILITY_DATA_DIR",)  # the only env_var() the data source configuration may read
DATA_SOURCE = "warehouse"
LAYERS = ("staging", "intermediate", "marts")
SAMPLE_ROWS = 5
NOT_RUN_SHOWN = 3
LAST_MONTH = "9999-12-01"
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
NOT_COMPUTED = re.compile(r"Metrics '.*' were not computed for check")
SPARK_DIALECT = "spark"
NO_ACCEPTED_MONTHS = (
    "(SELECT NULL::VARCHAR AS raw_table, NULL::DATE AS source_month, NULL::BIGINT AS landed_rows WHERE FALSE)"
)
FINDING = "finding"  # a failed-rows query's column that says, per row, what is wrong (checks/raw.yml freshness)
SQL_KEYS = ("fail query", "warn query")  # SodaCL keys whose value is a query in the warehouse's SQL
CONDITION_KEYS = ("fail condition", "warn condition", "where")  # ... and a boolean SQL expression (where: a filter)


class ScanSetupError(Exception):
    """The scan could not start: a missing file, an unknown variable or override, an environment that is not built."""


@dataclass(frozen=True)
class Sample:
    """The first failing rows Soda fetched for a check."""

    columns: list[str]
    rows: list[tuple]
    total: int


@dataclass(frozen=True)
class CheckResult:
    """One evaluated check: its outcome, where it is defined, the measured value and sample failing rows."""

    outcome: str
    name: str
    dataset: str | None
    location: str
    value: object
    details: dict
    sample: Sample | None = None
    failed_rows: bool = False  # a failed-rows check: the value counts the rows its query returned


@dataclass
class ScanReport:
    """Everything a scan found, and the exit code it stands for."""

    env: str
    warehouse: Path
    variables: dict[str, str]
    overrides: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    months: list[str] | None = None  # the landed months (YYYY-MM) within the checked range; None when not read

    def outcomes(self, outcome: str) -> list[CheckResult]:
        """The results with this outcome (pass, warn, fail, not evaluated)."""
        return [result for result in self.results if result.outcome == outcome]

    @property
    def exit_code(self) -> int:
        """2 on a Soda error, 1 on a failed check, 0 otherwise (warnings included)."""
        if self.errors or self.outcomes("not evaluated"):
            return 2
        return 1 if self.outcomes("fail") else 0

    @property
    def verdict(self) -> str:
        """PASS, PASS WITH WARNINGS, FAIL or ERROR."""
        if self.exit_code == 2:
            return "ERROR"
        if self.exit_code == 1:
            return "FAIL"
        return "PASS WITH WARNINGS" if self.outcomes("warn") else "PASS"

    def summary(self) -> str:
        """One line: verdict and counts."""
        counts = ", ".join(
            f"{len(self.outcomes(outcome))} {label}"
            for outcome, label in (("fail", "failed"), ("warn", "warned"), ("pass", "passed"))
        )
        override = f" with OVERRIDE {format_overrides(self.overrides)}" if self.overrides else ""
        return f"Soda checks on '{self.env}': {self.verdict} ({counts}, {len(self.errors)} errors){override}"

    def months_text(self) -> str:
        """The months the scan covers: the landed months within the checked range, and that range when one was given."""
        start, end = self.variables["check_start_month"][:7], self.variables["check_end_month"][:7]
        asked = f" of {start}..{end} asked" if end != LAST_MONTH[:7] or start != models_start_month()[:7] else ""
        if self.months is None:
            return f"landed months not read{asked}"
        if not self.months:
            return f"no landed months{asked}"
        return f"landed months {month_runs(self.months)}{asked}"

    def render(self, verbose: bool = False) -> str:
        """The report: failures, warnings and errors with their values and sample rows, then the summary."""
        schemas = ", ".join(self.variables[f"{layer}_schema"] for layer in LAYERS)
        covered = self.months_text()
        lines = [f"Soda scan of {self.warehouse} (read-only), environment '{self.env}': {schemas}; {covered}"]
        lines.extend(
            f"OVERRIDE {name}={value} for this run (checks/thresholds.yml: {self.defaults.get(name, '?')})"
            for name, value in self.overrides.items()
        )
        for outcome in ("fail", "warn") + (("pass",) if verbose else ()):
            for result in self.outcomes(outcome):
                lines.extend(render_result(result))
        not_run = self.outcomes("not evaluated")
        if not_run:
            names = "; ".join(f"{result.name} [{result.location}]" for result in not_run[:NOT_RUN_SHOWN])
            more = f"; and {len(not_run) - NOT_RUN_SHOWN} more" if len(not_run) > NOT_RUN_SHOWN else ""
            lines.append(f"NOT RUN {len(not_run)} checks, because of the errors below: {names}{more}")
        lines.extend(f"ERROR   {error}" for error in self.errors)
        lines.append(self.summary())
        return "\n".join(lines)


def render_result(result: CheckResult) -> list[str]:
    """A check's lines in the report."""
    label = {"fail": "FAILED", "warn": "WARNED", "pass": "passed"}[result.outcome]
    where = f"{result.dataset}: " if result.dataset else ""
    lines = [f"{label:<8}{where}{result.name}  [{result.location}]"]
    lines.append(f"        failing rows: {result.value}" if result.failed_rows else f"        value: {result.value}")
    lines.extend(f"        {key}: {value}" for key, value in result.details.items())
    sample = result.sample
    if sample and sample.rows and FINDING in sample.columns:  # the query says what each row means: print that
        index = sample.columns.index(FINDING)
        lines.extend(f"        - {row[index]}" for row in sample.rows)
        if sample.total > len(sample.rows):
            lines.append(f"        - and {sample.total - len(sample.rows)} more")
    elif sample and sample.rows:
        lines.append(f"        sample ({len(result.sample.rows)} of {result.sample.total} failing rows):")
        lines.extend(f"          {row}" for row in format_table(result.sample.columns, result.sample.rows))
    return lines


def format_table(columns: list[str], rows: list[tuple]) -> list[str]:
    """Rows as aligned text columns, values cut at 40 characters."""
    cells = [[str(value)[:40] for value in row] for row in rows]
    widths = [max(len(column), *(len(row[index]) for row in cells)) for index, column in enumerate(columns)]
    header = " | ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True))
    body = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    return [header, *body]


def schema_variables(env: str) -> dict[str, str]:
    """The schemas SQLMesh gives an environment's views: `marts` in prod, `marts__<env>` elsewhere."""
    name = re.sub(r"\W", "_", env).lower()  # as sqlmesh's Environment.sanitize_name
    suffix = "" if name == "prod" else f"__{name}"
    return {f"{layer}_schema": f"{layer}{suffix}" for layer in LAYERS}


def format_overrides(overrides: dict[str, str]) -> str:
    """Overrides as the OVERRIDE= text that asked for them."""
    return ",".join(f"{name}={value}" for name, value in overrides.items())


def parse_overrides(spec: str | None, thresholds: dict[str, str]) -> dict[str, str]:
    """OVERRIDE=NAME=VALUE[,NAME=VALUE]: numbers for thresholds that checks/thresholds.yml defines, each once."""
    overrides: dict[str, str] = {}
    for pair in (spec or "").split(","):
        if not pair.strip():
            continue
        name, equals, value = (part.strip() for part in pair.partition("="))
        if not equals or not name or not value:
            raise ScanSetupError(
                f"OVERRIDE '{pair}' is not NAME=VALUE: write e.g. OVERRIDE=raw_volume_drop_fail_pct=100."
            )
        if name not in thresholds:
            raise ScanSetupError(
                f"OVERRIDE '{name}' is not a threshold of checks/thresholds.yml; the thresholds are: "
                f"{', '.join(thresholds)}."
            )
        if name in overrides:
            raise ScanSetupError(f"OVERRIDE names '{name}' twice: give each threshold once.")
        if not NUMBER.match(value):
            raise ScanSetupError(f"OVERRIDE {name}='{value}' is not a number: thresholds are numbers, e.g. {name}=100.")
        overrides[name] = value
    return overrides


def load_thresholds(path: Path) -> dict[str, str]:
    """checks/thresholds.yml as Soda variables (strings)."""
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ScanSetupError(f"Cannot read the thresholds {path}: {error}") from error
    if not isinstance(values, dict):
        raise ScanSetupError(f"{path} must map threshold names to values.")
    return {str(name): str(value) for name, value in values.items()}


def models_start_month() -> str:
    """The first month the models build (config.yaml model_defaults.start): raw months before it are not checked.

    config.yaml is a Jinja template over env_var(), as SQLMesh renders it; rendered here with jinja2 itself, so that
    a scan does not import SQLMesh (over a second at every gate)."""
    try:
        template = Environment().from_string((PROJECT_DIR / "config.yaml").read_text())
        config = yaml.safe_load(template.render(env_var=lambda name, default=None: os.environ.get(name, default)))
        start = str(config["model_defaults"]["start"])
    except (OSError, KeyError, TypeError, TemplateError, yaml.YAMLError):
        return "1900-01-01"
    return f"{start[:7]}-01"


def month_variables(start: str | None, end: str | None) -> dict[str, str]:
    """check_start_month and check_end_month as first days of months (YYYY-MM-01)."""
    for month in (start, end):
        if month and not MONTH.match(month):
            raise ScanSetupError(f"'{month}' is not a month: write it as YYYY-MM, for example 2024-09.")
    return {
        "check_start_month": f"{start}-01" if start else models_start_month(),
        "check_end_month": f"{end}-01" if end else LAST_MONTH,
    }


def render_template(path: Path, variables: dict[str, object]) -> str:
    """One Soda file with its `${...}` rendered from these variables only, never from the process environment."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ScanSetupError(f"Cannot read the check file {path}: {error}") from error
    templates = pinned_templates()
    try:
        unknown = sorted(meta.find_undeclared_variables(templates.parse(text)) - set(variables))
        if unknown:
            raise ScanSetupError(
                f"{path} uses {', '.join(unknown)}, which the gate does not define (checks/thresholds.yml, "
                f"{', '.join(f'{layer}_schema' for layer in LAYERS)}, check_start_month, check_end_month); "
                "the environment is never read for it."
            )
        return templates.from_string(text).render(variables)
    except TemplateError as error:
        raise ScanSetupError(f"Cannot render the variables of {path}: {error}") from error


def render_checks(checks_dir: Path, variables: dict[str, str]) -> dict[str, str]:
    """Each check file rendered with the gate's variables, refusing names that the gate does not define."""
    return {name: render_template(checks_dir / name, variables) for name in CHECK_FILES}


def render_configuration(checks_dir: Path, warehouse: Path) -> str:
    """checks/configuration.yml with its env_var('MOBILITY_DATA_DIR') pinned to the folder of the scanned warehouse."""
    path = checks_dir / CONFIGURATION_FILE
    pinned = {"MOBILITY_DATA_DIR": str(warehouse.parent)}

    def env_var(name: str, default: str | None = None) -> str:
        if name not in CONFIGURATION_ENV:
            raise ScanSetupError(f"{path} reads env_var('{name}'): the gate pins the data source, use a literal.")
        return pinned[name]

    return render_template(path, {"env_var": env_var})


def referenced_relations(texts: list[str], variables: dict[str, str]) -> set[tuple[str, str]]:
    """The (schema, table) pairs the rendered checks read in the environment's schemas."""
    schemas = "|".join(re.escape(variables[f"{layer}_schema"]) for layer in LAYERS)
    pattern = re.compile(rf"\b({schemas})\.(\w+)")
    return {(match.group(1), match.group(2)) for text in texts for match in pattern.finditer(text)}


def for_engine(text: str, dialect: str) -> str:
    """A rendered SodaCL file with its queries and conditions in `dialect` (the files are written for DuckDB; Spark's
    forms are gateway.spark.to_spark's)."""
    if dialect == "duckdb":
        return text

    def transpiled(key: str, value: object) -> object:
        if isinstance(value, str) and key in SQL_KEYS + CONDITION_KEYS:
            return to_spark(value)
        return convert(value)

    def convert(node: object) -> object:
        if isinstance(node, dict):
            return {key: transpiled(str(key), value) for key, value in node.items()}
        if isinstance(node, list):
            return [convert(item) for item in node]
        return node

    return yaml.safe_dump(convert(yaml.safe_load(text)), sort_keys=False, width=10_000, allow_unicode=True)


def register_spark_columns(session: object, schemas: list[str]) -> None:
    """The `information_schema.columns` the checks read (table_schema, table_name, column_name, data_type), as a
    temporary view of the Spark session, from its catalog."""
    rows = [
        (schema, table.name, column.name, column.dataType)
        for schema in schemas
        if session.catalog.databaseExists(schema)
        for table in session.catalog.listTables(schema)
        for column in session.catalog.listColumns(f"{schema}.{table.name}")
    ]
    columns = "table_schema string, table_name string, column_name string, data_type string"
    session.createDataFrame(rows, columns).createOrReplaceTempView(SPARK_COLUMNS_VIEW)


def spark_missing_relations(relations: set[tuple[str, str]]) -> list[str]:
    """The referenced views that Spark's catalog does not have."""
    from gateway import spark

    catalog = spark.session().catalog
    return sorted(f"{schema}.{table}" for schema, table in relations if not catalog.tableExists(f"{schema}.{table}"))


def missing_relations(path: Path, relations: set[tuple[str, str]]) -> list[str]:
    """The referenced views that do not exist, read from the warehouse read-only."""
    if gateway.engine() == "spark":
        return spark_missing_relations(relations)
    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            present = set(connection.sql("SELECT table_schema, table_name FROM information_schema.tables").fetchall())
    except duckdb.Error as error:
        if not gateway.is_lock_conflict(error):
            raise ScanSetupError(str(gateway.damaged(path, error))) from None
        raise ScanSetupError(
            f"Cannot open {path} read-only: {str(error).splitlines()[0]} "
            "A writer (ingest, sqlmesh plan/run, the UI) holds it: scan again when it has finished."
        ) from error
    return sorted(f"{schema}.{table}" for schema, table in relations - present)


def preflight(path: Path, rendered: dict[str, str], variables: dict[str, str], env: str) -> None:
    """Refuses to scan a warehouse that is missing or an environment whose views are not all there."""
    if gateway.engine() == "duckdb" and not path.exists():
        raise ScanSetupError(f"No warehouse at {path}: run `make ingest` and `sqlmesh plan {env}` first.")
    missing = missing_relations(path, referenced_relations(list(rendered.values()), variables))
    if missing:
        raise ScanSetupError(
            f"Environment '{env}' has no view for {', '.join(missing)}. Build it complete with "
            f"`sqlmesh plan {env} --include-unmodified` (make promote does), then scan again."
        )


class RecordingSampler(Sampler):
    """A Soda sampler that keeps the first failing rows of every check for the report (nothing leaves the process)."""

    def __init__(self, keep: int = SAMPLE_ROWS) -> None:
        self.keep = keep
        self.samples: dict[int, Sample] = {}

    def store_sample(self, sample_context: SampleContext) -> SampleRef:
        """Soda's hook: remember the rows, return a reference Soda attaches to the check."""
        sample = sample_context.sample
        schema = sample.get_schema()
        rows = [tuple(row) for row in sample.get_rows()[: self.keep]]
        total = sample.get_rows_count()
        reference = SampleRef(sample_context.sample_name, schema, total, len(rows), SampleRef.TYPE_NOT_PERSISTED)
        self.samples[id(reference)] = Sample([column.name for column in schema.columns], rows, total)
        return reference


def check_result(check: Check, sampler: RecordingSampler) -> CheckResult:
    """A Soda check as a CheckResult."""
    diagnostics = check.get_log_diagnostic_dict()
    value = diagnostics.pop("value", getattr(check, "check_value", None))
    details = {key: val for key, val in diagnostics.items() if key in ("freshness", "max_column_timestamp")}
    reference = getattr(check, "failed_rows_sample_ref", None)
    location = check.check_cfg.location
    return CheckResult(
        failed_rows=isinstance(check, FAILED_ROWS_CHECKS),
        outcome=check.outcome.value if check.outcome else "not evaluated",
        name=check.name,
        dataset=check.partition.table.table_name if check.partition else None,
        location=f"{Path(location.file_path).name}:{location.line}",
        value=value,
        details=details,
        sample=sampler.samples.get(id(reference)) if reference is not None else None,
    )


def error_text(log: Log) -> str:
    """A Soda error log as one or two lines."""
    message = log.message.strip().splitlines()[0]
    where = f" [{Path(log.location.file_path).name}:{log.location.line}]" if log.location else ""
    cause = str(log.exception).strip().splitlines()[0] if log.exception and str(log.exception).strip() else ""
    return f"{message}{where}" + (f"\n        {cause}" if cause and cause not in message else "")


def reported_errors(logs: list[Log]) -> list[str]:
    """Soda's error logs, without its echo of every check a failed query left without a value (listed as NOT RUN)."""
    return [error_text(log) for log in logs if not NOT_COMPUTED.match(log.message)]


def scan_variables(
    env: str, start_month: str | None, end_month: str | None, thresholds: dict[str, str], overrides: dict[str, str]
) -> dict[str, str]:
    """Every variable the check files may use, all set here: thresholds (with the overrides), schemas, months."""
    parse_overrides(format_overrides(overrides), thresholds)  # names and values checked again, whoever calls
    return {
        **thresholds,
        **overrides,
        **schema_variables(env),
        **month_variables(start_month, end_month),
        "accepted_months": accepted_months_relation(warehouse_path()),
    }


def accepted_months_relation(path: Path) -> str:
    """The raw months earlier passing scans accepted (macros/gate.py): the gate's table, or none before the first."""
    if gateway.engine() == "spark":
        from gateway import spark

        exists = spark.session().catalog.tableExists(ACCEPTED_TABLE)
        return ACCEPTED_TABLE if exists else NO_ACCEPTED_MONTHS
    try:
        schema, name = (exp.Literal.string(part).sql() for part in ACCEPTED_TABLE.split("."))
        with duckdb.connect(str(path), read_only=True) as connection:
            # No bound parameter: binding one makes DuckDB import pandas, 0.6 s of every scan.
            exists = connection.sql(
                f"SELECT count(*) FROM information_schema.tables WHERE table_schema = {schema} AND table_name = {name}"
            ).fetchone()[0]
    except duckdb.Error:
        exists = 0  # no readable warehouse: the preflight says so
    return ACCEPTED_TABLE if exists else NO_ACCEPTED_MONTHS


def landed_months_query(tables: list[str], variables: dict[str, str]) -> str:
    """The distinct landed months (YYYY-MM) of these raw tables within the checked range, in DuckDB's SQL."""
    union = " UNION ".join(f"SELECT DISTINCT source_month FROM {table}" for table in tables)
    return (
        f"SELECT DISTINCT STRFTIME(source_month, '%Y-%m') AS landed_month FROM ({union}) AS landed "
        f"WHERE source_month BETWEEN DATE '{variables['check_start_month']}' AND DATE '{variables['check_end_month']}'"
    )


def landed_months(path: Path, variables: dict[str, str]) -> list[str] | None:
    """The months the scan covers: those landed in any monthly raw table within the checked range, read-only;
    None when they cannot be read (the preflight or Soda then says why)."""
    if gateway.engine() == "spark":
        from gateway import spark

        session = spark.session()
        tables = [table for table in MONTHLY_RAW_TABLES if session.catalog.tableExists(table)]
        if not tables:
            return []
        query = to_spark(landed_months_query(tables, variables))
        return sorted(row[0] for row in session.sql(query).collect() if row[0])
    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            present = {
                f"{schema}.{name}"
                for schema, name in connection.sql(
                    "SELECT table_schema, table_name FROM information_schema.tables"
                ).fetchall()
            }
            tables = [table for table in MONTHLY_RAW_TABLES if table in present]
            if not tables:
                return []
            rows = connection.sql(landed_months_query(tables, variables)).fetchall()
    except duckdb.Error:
        return None
    return sorted(row[0] for row in rows if row[0])


def close_connections(scan: PinnedScan | None) -> None:
    """Closes the DuckDB connections Soda opened: Soda leaves them to the garbage collector, and until then no
    writer of this process (the gate's approval) can open the warehouse."""
    if gateway.engine() == "spark":
        from gateway import spark

        spark.stop()  # the next process (the approval, sqlmesh) needs the metastore
        return
    if scan is None:
        return
    for data_source in scan._data_source_manager.data_sources.values():  # Soda has no public close
        connection = getattr(data_source, "connection", None)
        delegate = getattr(connection, "_delegate", connection)
        if delegate is not None:
            delegate.close()


def run_scan(
    env: str,
    start_month: str | None = None,
    end_month: str | None = None,
    checks_dir: Path = CHECKS_DIR,
    overrides: dict[str, str] | None = None,
) -> ScanReport:
    """Runs every check file against one environment, read-only, and reports what it found."""
    engine = gateway.engine()
    path = warehouse_path() if engine == "duckdb" else gateway.spark_dir()
    overrides = dict(overrides or {})
    report = ScanReport(
        env=env,
        warehouse=path,
        variables={**schema_variables(env), **month_variables(None, None)},
        overrides=overrides,
    )
    scan = None
    try:
        if not telemetry_is_off():
            raise ScanSetupError("Soda usage telemetry is on: import Soda through checks.soda_core first.")
        report.defaults = load_thresholds(checks_dir / THRESHOLDS_FILE)
        variables = scan_variables(env, start_month, end_month, report.defaults, overrides)
        report.variables = variables
        logging.getLogger("soda").setLevel(logging.CRITICAL)  # the report below replaces Soda's console log
        rendered = render_checks(checks_dir, variables)
        preflight(path, rendered, variables, env)
        report.months = landed_months(path, variables)
        scan = PinnedScan()
        scan.set_data_source_name(DATA_SOURCE)
        scan.add_variables(variables)
        if engine == "spark":
            from gateway import spark

            session = spark.session()
            register_spark_columns(session, sorted(schema_variables(env).values()))
            scan.add_spark_session(session, data_source_name=DATA_SOURCE)
        else:
            configuration = render_configuration(checks_dir, path)
            scan.add_configuration_yaml_str(configuration, file_path=str(checks_dir / CONFIGURATION_FILE))
        for name, text in rendered.items():
            scan.add_sodacl_yaml_str(
                for_engine(text, SPARK_DIALECT if engine == "spark" else engine), file_name=name.removesuffix(".yml")
            )
        sampler = RecordingSampler()
        scan.sampler = sampler
        scan.execute()
        # Read while the connection lives: a Spark error's text comes from the JVM, stopped by close_connections.
        report.results = [check_result(check, sampler) for check in scan._checks]  # Soda has no public list
        report.errors = reported_errors(scan.get_error_logs())
    except ScanSetupError as error:
        report.errors.append(str(error))
        return report
    finally:
        close_connections(scan)
    if not report.results and not report.errors:
        report.errors.append("Soda evaluated no checks: is the configuration readable?")
    return report


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m checks.scan", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", help="SQLMesh environment: prod, dev or any other name (default dev)")
    parser.add_argument("--start-month", help="first month to reconcile, YYYY-MM (default: the models' start)")
    parser.add_argument("--end-month", help="last month to reconcile, YYYY-MM (default: every landed month)")
    parser.add_argument(
        "--override",
        metavar="NAME=VALUE[,NAME=VALUE]",
        help="thresholds of checks/thresholds.yml changed for this run only (make check OVERRIDE=...), reported",
    )
    parser.add_argument("--verbose", action="store_true", help="list the passed checks too")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Scans one environment and prints the report; the exit code says pass (0), fail (1) or error (2)."""
    args = parse_args(argv)
    try:
        overrides = parse_overrides(args.override, load_thresholds(CHECKS_DIR / THRESHOLDS_FILE))
    except ScanSetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        report = run_scan(args.env, args.start_month, args.end_month, overrides=overrides)
    except Exception as error:  # a scan that cannot run is an error result, never a pass
        print(f"error: the Soda scan of '{args.env}' could not run: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print(report.render(verbose=args.verbose))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
