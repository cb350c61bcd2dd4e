"""Fault injection for tests/reliability: with FAULT_KILL_AFTER_PROD_VIEWS=N in its environment, a Python process
that promotes snapshots into prod SIGKILLs itself right after the Nth prod view is switched, the window in which a
killed `make promote` leaves prod serving a mix of versions. Loaded by Python at start-up from PYTHONPATH."""

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
