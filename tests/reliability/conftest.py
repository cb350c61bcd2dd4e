"""The workflow fixtures (a git repository of the project, one promoted warehouse, private copies) for the fault
tests that run `make` as an operator does."""

from tests.workflows.conftest import clone, data, promoted, repository  # noqa: F401
