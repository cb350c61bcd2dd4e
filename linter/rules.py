"""Project lint rules that SQLMesh does not ship (sqlmesh/core/linter/rules/builtin.py has the rest)."""

from __future__ import annotations

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
