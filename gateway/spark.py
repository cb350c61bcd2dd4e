"""The Spark gateway's session, built from config.yaml's `spark` connection so that ingest, the checks and SQLMesh
all talk to the same catalog with the same settings.

Locally Spark runs inside the Python process (pyspark needs Java 17) and keeps its catalog in an embedded Derby
metastore under `$MOBILITY_DATA_DIR/spark/`, which admits one process at a time: every writer holds the warehouse
lock (gateway/lock.py) as on DuckDB.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from gateway import PROJECT_DIR, GatewayError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

GATEWAY = "spark"
JVM_EXIT_SECONDS = 30
SPARK_COLUMNS_VIEW = "information_schema_columns"  # Spark 3.5 has no information_schema (checks/scan.py)
SUPPORTED_JAVA = ("17", "11")  # the Java releases Spark 3.5 runs on, 17 first (the one this project tests)


def _at_time_zone(node: exp.Expression) -> tuple[exp.Expression, exp.Expression] | None:
    """(timestamp, zone) of DuckDB's `t AT TIME ZONE zone` or `TIMEZONE(zone, t)`; None for anything else."""
    if isinstance(node, exp.AtTimeZone):
        return node.this, node.args["zone"]
    if isinstance(node, exp.Anonymous) and node.name.upper() == "TIMEZONE" and len(node.expressions) == 2:
        return node.expressions[1], node.expressions[0]
    return None


def spark_forms(node: exp.Expression) -> exp.Expression:
    """What SQLGlot does not carry from DuckDB to Spark by itself, in the forms the project's queries use.

    TIMEZONE(zone, naive) reads a naive time as wall-clock time in `zone` (DuckDB), which Spark's AT TIME ZONE
    rendering (FROM_UTC_TIMESTAMP) reverses: a pair of them converts between zones (CONVERT_TIMEZONE), a single one
    is the instant (TO_UTC_TIMESTAMP). Spark 3.5 has no information_schema: the scan registers its columns view.
    """
    outer = _at_time_zone(node)
    if outer is not None:
        inner = _at_time_zone(outer[0])
        if inner is not None:  # a replaced node's children are not visited again: transform them here
            return exp.ConvertTimezone(
                source_tz=inner[1], target_tz=outer[1], timestamp=inner[0].transform(spark_forms)
            )
        return exp.func("TO_UTC_TIMESTAMP", outer[0].transform(spark_forms), outer[1])
    if isinstance(node, exp.Table) and node.db.lower() == "information_schema" and node.name.lower() == "columns":
        view = exp.to_table(SPARK_COLUMNS_VIEW)
        return view.as_(node.alias) if node.alias else view
    return node


def to_spark(sql: str) -> str:
    """A query written in DuckDB's dialect (the checks, the read-only commands), as Spark SQL: one rendering for
    every caller."""
    return sqlglot.parse_one(sql, read="duckdb").transform(spark_forms).sql(dialect=GATEWAY)


def require_java() -> None:
    """Spark needs a Java runtime (17); a GatewayError says so instead of py4j's traceback."""
    java_home = os.path.join(os.environ.get("JAVA_HOME", ""), "bin")
    java = shutil.which("java", path=java_home + os.pathsep + os.environ.get("PATH", ""))
    if java is None:
        raise GatewayError(
            "The spark gateway needs Java 17 and none was found: install a JDK 17 (Debian: openjdk-17-jre-headless) "
            "or set JAVA_HOME, then run the command again."
        )
    version = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    if not any(f'"{major}' in version for major in SUPPORTED_JAVA):
        raise GatewayError(
            f"The spark gateway needs Java 17 (Spark 3.5 also runs on 11); {java} is: "
            f"{version.splitlines()[0] if version else '?'}. Install a JDK 17 or point JAVA_HOME at one."
        )


@functools.cache
def settings() -> dict[str, str]:
    """The Spark configuration of config.yaml's `spark` gateway, its environment variables resolved."""
    from sqlmesh.core.config import Config
    from sqlmesh.core.config.loader import load_config_from_paths

    config = load_config_from_paths(Config, [PROJECT_DIR / "config.yaml"])
    connection = config.gateways[GATEWAY].connection
    if connection is None or connection.type_ != "spark":
        raise GatewayError(f"config.yaml has no spark connection in gateway `{GATEWAY}`.")
    if connection.config_dir:
        os.environ["SPARK_CONF_DIR"] = connection.config_dir
    return {key: str(value) for key, value in connection.config.items()}


def session() -> SparkSession:
    """The process's Spark session with the gateway's settings (the one SQLMesh uses when it runs in this process)."""
    require_java()
    from pyspark.conf import SparkConf
    from pyspark.sql import SparkSession

    conf = SparkConf()
    for key, value in settings().items():
        conf.set(key, value)
    return SparkSession.builder.config(conf=conf).enableHiveSupport().getOrCreate()


def stop() -> None:
    """Stops the process's Spark session and its JVM, if any. The embedded metastore admits one JVM at a time, so
    a command that used Spark in-process (a scan, the approval) stops it before a `sqlmesh` subprocess starts its own;
    the next session() starts a new JVM."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()
    gateway = SparkContext._gateway
    if gateway is not None:
        gateway.shutdown()
        process = getattr(gateway, "proc", None)  # the JVM pyspark started: it exits when its stdin closes
        if process is not None:
            process.stdin.close()
            try:
                process.wait(timeout=JVM_EXIT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        SparkContext._gateway = None
        SparkContext._jvm = None


def release() -> None:
    """stop() on the spark gateway; nothing on the others (and pyspark is not imported)."""
    from gateway import engine

    if engine() == "spark":
        stop()


class SparkReader:
    """A read-only connection to the Spark warehouse with the calls the read-only commands make on DuckDB's
    (`execute(sql).fetchone()` / `.fetchall()`): each query is written in DuckDB's dialect and rendered for Spark by
    SQLGlot. A missing table raises duckdb.CatalogException, as on DuckDB, so callers handle one error."""

    def __init__(self) -> None:
        self.session = session()
        self.rows: list[tuple] = []

    def execute(self, sql: str) -> SparkReader:
        import duckdb
        from pyspark.errors import AnalysisException

        try:
            self.rows = [tuple(row) for row in self.session.sql(to_spark(sql)).collect()]
        except AnalysisException as error:
            if "TABLE_OR_VIEW_NOT_FOUND" in str(error):
                raise duckdb.CatalogException(str(error).splitlines()[0]) from None
            raise
        return self

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple]:
        return list(self.rows)

    def close(self) -> None:
        stop()

    def __enter__(self) -> SparkReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
