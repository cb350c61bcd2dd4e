"""Workflow commands around the warehouse (`python -m ops.<name>`), each behind a make target.

diff (make diff), ui (make ui / ui-stop), run (make run), restate (make restate), bench (make bench). Every write to
the warehouse runs under the project's one-writer lock (`gateway.lock.warehouse_lock`); processes they start
inherit it.
"""
