"""Fault injection for tests/reliability and tests/workflows/test_restate.py, loaded by Python at start-up from
PYTHONPATH. With FAULT_KILL_AFTER_PROD_VIEWS=N in its environment, a Python process that promotes snapshots into
prod SIGKILLs itself right after the Nth prod view is switched, the window in which a killed `make promote` leaves
prod serving a mix of versions."""

import os
import signal

AFTER = int(os.environ.get("FAULT_KILL_AFTER_PROD_VIEWS") or 0)

if AFTER:
    from sqlmesh.core.snapshot import evaluator

    switched: list[str] = []
    promote_one = evaluator.SnapshotEvaluator._promote_snapshot

    def _promote_then_die(self, snapshot, environment_naming_info, *args, **kwargs):
        promote_one(self, snapshot, environment_naming_info, *args, **kwargs)
        if environment_naming_info.name == "prod" and snapshot.is_model:
            switched.append(snapshot.name)
            if len(switched) >= AFTER:
                os.kill(os.getpid(), signal.SIGKILL)

    evaluator.SnapshotEvaluator._promote_snapshot = _promote_then_die

# With FAULT_KILL_AFTER_RESTATED=<model name>, a prod restatement SIGKILLs `make restate` right after that model's
# table holds the restated rows: the window in which the warehouse holds restated months that have not passed their
# checks. The plan runs in the restating process on DuckDB; where it is a `sqlmesh plan` child (Spark), the process
# that started it goes first.
RESTATED = os.environ.get("FAULT_KILL_AFTER_RESTATED")

if RESTATED:
    import sys

    from sqlmesh.core.snapshot import evaluator as snapshot_evaluator

    evaluate_one = snapshot_evaluator.SnapshotEvaluator.evaluate

    def _evaluate_then_die(self, snapshot, *args, **kwargs):
        result = evaluate_one(self, snapshot, *args, **kwargs)
        if snapshot.name.endswith(f'."{RESTATED}"'):
            if os.path.basename(sys.argv[0]) == "sqlmesh":
                os.kill(os.getppid(), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    snapshot_evaluator.SnapshotEvaluator.evaluate = _evaluate_then_die

# With FAULT_CLOCK_AHEAD_DAYS=N, every Python process reads its clock N days later (time-machine): the next day's
# `make promote` of a warehouse built today, without waiting for midnight.
AHEAD = int(os.environ.get("FAULT_CLOCK_AHEAD_DAYS") or 0)

if AHEAD:
    import datetime

    import time_machine

    time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=AHEAD), tick=True).start()
