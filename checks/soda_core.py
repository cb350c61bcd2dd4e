"""Soda Core, imported with its global settings pointed at checks/soda_config.yml, so usage telemetry stays off.

Soda reads `send_anonymous_usage_stats` once, when `soda.scan` is first imported, from the first settings file it
finds (~/.soda/config.yml by default, which it creates with telemetry on). Every module of this project imports
Soda through this one, which names the project's settings file first.

Soda resolves `${name}` from the process environment before the scan's own variables (soda/common/jinja.py
`OsContext`, soda/scan.py `Scan.get_variable`), and its first Scan loads a `.env` file into os.environ. The gate
uses `pinned_templates()` and `PinnedScan` instead: only the variables the gate sets can render.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from soda.common.config_helper import ConfigHelper

SETTINGS = Path(__file__).resolve().with_name("soda_config.yml")
ConfigHelper.get_instance(str(SETTINGS))

# Soda's own modules only after its settings are fixed: importing them starts its telemetry singleton.
from soda.common.log import Log  # noqa: E402
from soda.data_sources.duckdb_data_source import DuckDBDataSource  # noqa: E402
from soda.execution.check.check import Check  # noqa: E402
from soda.execution.check.user_defined_failed_rows_check import UserDefinedFailedRowsCheck  # noqa: E402
from soda.execution.check.user_defined_failed_rows_expression_check import (  # noqa: E402
    UserDefinedFailedRowsExpressionCheck,
)
from soda.sampler.sample_context import SampleContext  # noqa: E402
from soda.sampler.sample_ref import SampleRef  # noqa: E402
from soda.sampler.sampler import Sampler  # noqa: E402
from soda.scan import Scan  # noqa: E402

# The checks whose value is the number of rows a query or condition found (`failed rows` in SodaCL).
FAILED_ROWS_CHECKS = (UserDefinedFailedRowsCheck, UserDefinedFailedRowsExpressionCheck)

__all__ = [
    "Check",
    "FAILED_ROWS_CHECKS",
    "Log",
    "PinnedScan",
    "SampleContext",
    "SampleRef",
    "Sampler",
    "Scan",
    "pinned_templates",
    "telemetry_is_off",
]


def _rollback_if_in_transaction(data_source: DuckDBDataSource) -> None:
    """Soda rolls back after every failed query; DuckDB >= 1.1 raises when no transaction is open."""
    try:
        data_source.connection.rollback()
    except duckdb.TransactionException:
        pass


# soda-core-duckdb 3.5 was built for duckdb < 1.1 (pyproject.toml overrides it to 1.5). Without this, one failing
# query ends the whole scan with "cannot rollback - no transaction is active" and every other check goes unreported.
DuckDBDataSource.rollback = _rollback_if_in_transaction


def telemetry_is_off() -> bool:
    """True when Soda was set up from checks/soda_config.yml (or other settings) that send no usage statistics."""
    return ConfigHelper.get_instance().send_anonymous_usage_stats is False


def pinned_templates() -> SandboxedEnvironment:
    """Soda's `${name}` template syntax without its lookup in os.environ: an undefined name is an error, not ''."""
    return SandboxedEnvironment(variable_start_string="${", variable_end_string="}", undefined=StrictUndefined)


class PinnedScan(Scan):
    """A Soda scan whose `${name}` values come only from add_variables, never from the process environment."""

    def __init__(self) -> None:
        environment = dict(os.environ)
        super().__init__()  # the first Scan of a process loads a .env file into os.environ (override=True): undone
        os.environ.clear()
        os.environ.update(environment)
        self.templates = pinned_templates()

    def jinja_resolve(self, definition: str, variables: dict | None = None, location: object = None) -> str | None:
        """Soda's hook for every query and name it renders, resolved from the scan's variables only."""
        if not isinstance(definition, str) or "${" not in definition:
            return definition
        try:
            return self.templates.from_string(definition).render({**self._variables, **(variables or {})})
        except Exception as error:  # as Soda's own: an error log, the check is not evaluated
            self._logs.error(message=f"Error resolving {definition}: {error}", location=location, exception=error)
            return None

    def build_scan_results(self) -> dict:
        """Soda's results document for Soda Cloud and get_scan_results(), which the gate does not use: it reads the
        checks themselves (checks/scan.py). Building it dumps every check's definition to YAML, 0.7 s a scan."""
        return {}

    def get_variable(self, variable_name: str, default_value: str | None = None) -> str | None:
        """Soda's lookup of a scan variable (freshness checks' NOW), without os.environ first."""
        return self._variables.get(variable_name, default_value)
