"""Project lint rules that SQLMesh does not ship (sqlmesh/core/linter/rules/builtin.py has the rest)."""

from __future__ import annotations

from sqlmesh.core.dialect import MacroVar
from sqlmesh.core.linter.rule import Rule, RuleViolation
from sqlmesh.core.model import ExternalModel, Model


class NoMissingOwner(Rule):
    """Every model names an `owner`, so a failing audit or run has someone to page."""

    def check_model(self, model: Model) -> RuleViolation | None:
        if isinstance(model, ExternalModel) or model.owner:
            return None
        return self.violation(f"Model {model.name} has no `owner`.")


class NoMissingGrain(Rule):
    """Every model declares its `grain` (the columns that make a row unique)."""

    def check_model(self, model: Model) -> RuleViolation | None:
        if isinstance(model, ExternalModel) or model.grains:
            return None
        return self.violation(f"Model {model.name} has no `grain`.")


class NoMissingDescription(Rule):
    """Every model has a description (the comment above MODEL) that states its grain."""

    def check_model(self, model: Model) -> RuleViolation | None:
        if isinstance(model, ExternalModel) or (model.description or "").strip():
            return None
        return self.violation(f"Model {model.name} has no description: add a comment above MODEL.")


ZONED_INTERVAL_VARIABLES = ("start_dt", "end_dt", "start_tstz", "end_tstz")


class NoZonedIntervalFilter(Rule):
    """An interval filter compares naive timestamps: `@start_ts::TIMESTAMP`, `@start_date`, not `@start_dt`.

    `@start_dt` and `@end_dt` render as TIMESTAMPTZ literals. Against a TIMESTAMP column DuckDB then casts every row
    to TIMESTAMPTZ before comparing, so it cannot skip row groups by their min/max: a one-day batch reads the whole
    table (a full scan of the trips fact for each day it adds).
    """

    def check_model(self, model: Model) -> RuleViolation | None:
        query = getattr(model, "query", None)
        if isinstance(model, ExternalModel) or query is None:
            return None
        zoned = sorted({f"@{var.this}" for var in query.find_all(MacroVar) if var.this in ZONED_INTERVAL_VARIABLES})
        if not zoned:
            return None
        return self.violation(
            f"Model {model.name} filters by {', '.join(zoned)}, a TIMESTAMPTZ that makes DuckDB cast every row: "
            "compare with @start_ts::TIMESTAMP / @end_ts::TIMESTAMP (or @start_date / @end_date) instead."
        )
