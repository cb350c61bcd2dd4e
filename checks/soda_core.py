"""Soda Core, imported with its global settings pointed at checks/soda_config.yml, so usage telemetry stays off.

Soda reads `send_anonymous_usage_stats` once, when `soda.scan` is first imported, from the first settings file it
finds (~/.soda/config.yml by default, which it creates with telemetry on). Every module of this project imports
Soda through this one, which names the project's settings file first.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from soda.common.config_helper import ConfigHelper

SETTINGS = Path(__file__).resolve().with_name("soda_config.yml")
ConfigHelper.get_instance(str(SETTINGS))

# Soda's own modules only after its settings are fixed: importing them starts its telemetry singleton.
from soda.common.log import Log  # noqa: E402
from soda.data_sources.duckdb_data_source import DuckDBDataSource  # noqa: E402
from soda.execution.check.check import Check  # noqa: E402
from soda.sampler.sample_context import SampleContext  # noqa: E402
from soda.sampler.sample_ref import SampleRef  # noqa: E402
from soda.sampler.sampler import Sampler  # noqa: E402
from soda.scan import Scan  # noqa: E402

__all__ = ["Check", "Log", "SampleContext", "SampleRef", "Sampler", "Scan", "telemetry_is_off"]


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
