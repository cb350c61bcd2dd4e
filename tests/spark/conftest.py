"""The workflow fixture of a git repository holding the project, for the Spark tests that run `make` as a user
does."""

from tests.workflows.conftest import repository  # noqa: F401
