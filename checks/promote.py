"""The promotion gate: `python -m checks.promote [--env dev] [--override NAME=VALUE,...]` (make promote [OVERRIDE=...]).

Prod changes only when ENV passed.

0. run     when prod exists and raw months landed that no passing scan has accepted yet, prod first runs them
           through the gate as `make run` does (ops/run.py: `sqlmesh run` on a candidate, Soda checks on those
           months, prod keeps the candidate only when they pass). A landed month thus never blocks a
           promotion, nor reaches prod unchecked through it; a month that fails its checks stops the gate here.
           Days due in prod (a day boundary passed since its last run) are run the same way: SQLMesh builds dev
           only as far as prod has run, so the build would miss them;
1. build   `sqlmesh plan ENV --auto-apply --no-prompts --include-unmodified`: unit tests and blocking audits run here
           (every model gets a view in ENV, so the checks read ENV's own snapshots, changed or not);
2. scan    the Soda checks (checks/scan.py) on ENV's views, read-only: a failed check or a Soda error stops here;
3. approve ENV's snapshots are recorded in gate.approved_snapshots, after checking that prod would not need to
           compute a single batch for them, and the raw months the scan saw in gate.accepted_months;
4. promote `sqlmesh plan --auto-apply --no-prompts` for prod: a virtual update, no model is recomputed. The
           before_all gate (macros/gate.py) lets it through because every snapshot is in the approval just written.

Before step 0, a promotion a killed process left unfinished is completed and pending restatements are reported
(ops/recover.py); after step 4, gate.promotions records when prod was switched to the approval.

The whole gate holds the warehouse lock (gateway.lock.warehouse_lock), so no ingest, run or other plan lands in
between the build, the scan and the promotion; its sqlmesh commands run as `python -m gateway.lock -- sqlmesh ...`,
which inherit that lock, and the scan opens the file read-only between them. Any failure exits non-zero with a
one-screen summary, and prod is left exactly as it was. Warnings are shown and do not block.

What the scan reads (ENV's schemas, the months, the data source, every threshold) is set by the gate and never by
the process environment (checks/scan.py). `--override` is the one way to change thresholds for a run: it is checked
before anything runs, printed in the scan report and in the summary, and recorded with the approval.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from checks.approvals import (
    GateError,
    approved_keys,
    environment_snapshots,
    pending_prod_batches,
    prod_keys,
    record_accepted_months,
    record_approval,
    record_promotion,
)
from checks.scan import (
    CHECKS_DIR,
    PROJECT_DIR,
    THRESHOLDS_FILE,
    ScanReport,
    ScanSetupError,
    format_overrides,
    load_thresholds,
    parse_overrides,
    run_scan,
    schema_variables,
)
from gateway import GatewayError, data_dir, faults
from gateway.children import Interrupted, forwarding
from gateway.lock import EXIT_BUSY, WarehouseBusy, warehouse_lock
from ingest.months import IngestError
from ops import recover
from ops.common import WorkflowError, sqlmesh_context
from ops.gated import gated_run, unchecked_months

OUTPUT_LINES = 16
DETAIL_LINES = 10
FAILURE_MARKERS = ("FAIL:", "**Failed", "Error:", "Linter")
BATCHES = re.compile(r"Executing model batches .*?(\d+)/\d+")


@dataclass
class Gate:
    """What happened at each step, for the closing summary."""

    env: str
    verbose: bool = False
    overrides: dict[str, str] = field(default_factory=dict)
    override_spec: str | None = None
    steps: list[tuple[str, str]] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)
    prod: str = "prod is exactly as it was"
    prod_before: set[tuple[str, str]] = field(default_factory=set)

    def passed(self, step: str, note: str) -> None:
        """Records a step that passed and prints it."""
        self.steps.append((step, f"ok    {note}"))
        print(f"[gate] {step}: {note}", flush=True)

    def failed(self, step: str, note: str, detail: list[str] | None = None) -> int:
        """Records the step that stopped the gate; returns the exit code."""
        self.steps.append((step, f"FAIL  {note}"))
        self.detail = detail or []
        return 1

    def summary(self, promoted: bool) -> str:
        """The closing screen: one line per step, what stopped the gate, and the state of prod."""
        verdict = "PROMOTED to prod" if promoted else f"NOT PROMOTED: {self.prod}"
        lines = ["", f"=== promotion gate {self.env} -> prod: {verdict} ==="]
        if self.overrides:
            lines.append(f"  OVERRIDE {format_overrides(self.overrides)} (asked for on the command line; recorded)")
        lines.extend(f"  {step:<8} {note}" for step, note in self.steps)
        lines.extend(f"  | {line}" for line in self.detail)
        return "\n".join(lines)


def sqlmesh_command() -> str:
    """The sqlmesh executable of this interpreter's environment."""
    candidate = Path(sys.executable).with_name("sqlmesh")
    return str(candidate) if candidate.exists() else "sqlmesh"


def run_sqlmesh(args: list[str], verbose: bool) -> tuple[int, list[str]]:
    """`python -m gateway.lock -- sqlmesh ARGS` in the project: exit code and output (echoed if verbose).

    The gate holds the lock, and the lock is handed down to the processes it starts (gateway/lock.py), so this goes
    ahead at once; run on its own, the same command would wait for the warehouse like any other writer.
    """
    environment = {**os.environ, "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1"}
    command = [sys.executable, "-m", "gateway.lock", "--", sqlmesh_command(), *args]
    with (
        subprocess.Popen(
            command, cwd=PROJECT_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as process,
        forwarding(process),
    ):
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if verbose:
                print(line, end="", flush=True)
    return process.returncode, lines


def output_tail(lines: list[str]) -> list[str]:
    """The part of sqlmesh's output that says what failed (failed tests, models, lint), capped at a screenful."""
    meaningful = [line.rstrip() for line in lines if line.strip() and "━" not in line and "SyntaxWarning" not in line]
    start = next(
        (index for index, line in enumerate(meaningful) if line.lstrip().startswith(FAILURE_MARKERS)),
        max(0, len(meaningful) - OUTPUT_LINES),
    )
    shown = meaningful[start : start + OUTPUT_LINES]
    return shown if meaningful[-1:] == shown[-1:] else [*shown, "...", meaningful[-1]]


def executed_batches(lines: list[str]) -> int | None:
    """How many model batches a plan's output says it executed, if it says."""
    counts = [int(match.group(1)) for line in lines if (match := BATCHES.search(line))]
    return max(counts) if counts else None


def scan_detail(report: ScanReport) -> list[str]:
    """The failing checks and errors of a scan, a screenful at most (the full report is printed above)."""
    failing = report.outcomes("fail")
    lines = [
        f"{result.name} [{result.location}]: "
        + (f"failing rows {result.value}" if result.failed_rows else f"value {result.value}")
        for result in failing
    ]
    lines += [f"Soda error: {error}" for error in report.errors]
    not_run = len(report.outcomes("not evaluated"))
    return lines[:DETAIL_LINES] + ([f"{not_run} checks not evaluated because of the errors"] if not_run else [])


def checks_summary(report: ScanReport) -> dict:
    """What the approval records about the scan."""
    return {
        "verdict": report.verdict,
        "passed": len(report.outcomes("pass")),
        "warned": len(report.outcomes("warn")),
        "failed": len(report.outcomes("fail")),
        "errors": len(report.errors),
        "warnings": [result.name for result in report.outcomes("warn")],
        "overrides": {
            name: {"value": value, "default": report.defaults.get(name)} for name, value in report.overrides.items()
        },
    }


def run_new_months(gate: Gate) -> int | None:
    """Step 0: when prod exists and raw months landed unchecked, or prod has days due (its cron passed a day
    boundary since its last run), `make run`'s gated run; an exit code on failure.

    SQLMesh builds a dev environment only as far as prod has run, so a day due in prod would otherwise be missing
    from the build and refused at approval as a batch the checks have not seen."""
    with sqlmesh_context(load=False) as context:
        if not prod_keys(context):
            return None
        due = pending_prod_batches(context, environment_snapshots(context, "prod"))
    new_months = bool(unchecked_months())
    if not new_months and not due:
        return None
    if gated_run(gate.override_spec, step="gate") != 0:
        if new_months:
            return gate.failed("run", "newly landed raw months failed their checks in a prod run (report above)")
        return gate.failed("run", "`sqlmesh run` of prod's due days failed (output above)")
    if new_months:
        gate.passed("run", "newly landed raw months ran into prod through the checks (make run)")
    else:
        gate.passed("run", f"prod's due days ran into prod ({len(due)} models; make run)")
    return None


def build(gate: Gate) -> int | None:
    """Step 1: build ENV with its unit tests and blocking audits; an exit code when it fails."""
    code, output = run_sqlmesh(["plan", gate.env, "--auto-apply", "--no-prompts", "--include-unmodified"], gate.verbose)
    if code != 0:
        return gate.failed(
            "build", f"`sqlmesh plan {gate.env}` failed (unit test, audit or model error)", output_tail(output)
        )
    gate.passed("build", f"`sqlmesh plan {gate.env}` built the environment; unit tests and audits passed")
    return None


def scan(gate: Gate) -> ScanReport | int:
    """Step 2: the Soda checks on ENV, report printed; an exit code when a check fails or Soda errs."""
    report = run_scan(gate.env, overrides=gate.overrides)
    print(report.render(), flush=True)
    if report.exit_code != 0:
        return gate.failed("scan", report.summary(), scan_detail(report))
    gate.passed("scan", report.summary())
    return report


def approve(gate: Gate, report: ScanReport) -> str | int:
    """Step 3: record ENV's snapshots as approved, unless prod would have to compute anything for them."""
    with sqlmesh_context(load=False) as context:
        snapshots = environment_snapshots(context, gate.env)
        pending = pending_prod_batches(context, snapshots)
        if pending:
            detail = [f"{name}: {count} batch(es)" for name, count in sorted(pending.items())]
            detail.append(
                f"Run prod's due days (make run), rebuild {gate.env} so the checks see that data, then promote again."
            )
            return gate.failed("approve", "prod would compute batches the checks have not seen", detail)
        approval_id = record_approval(context, gate.env, snapshots, checks_summary(report), gate.overrides)
        record_accepted_months(context.engine_adapter, approval_id)
        gate.prod_before = prod_keys(context)
    override = f", with OVERRIDE {format_overrides(gate.overrides)}" if gate.overrides else ""
    gate.passed("approve", f"{len(snapshots)} snapshots recorded as approval {approval_id}{override}")
    return approval_id


def promote(gate: Gate, approval_id: str) -> int | None:
    """Step 4: the prod plan, a virtual update of the approved snapshots; then prod is verified against them."""
    code, output = run_sqlmesh(["plan", "--auto-apply", "--no-prompts"], gate.verbose)
    with sqlmesh_context(load=False) as context:
        serving, approved = prod_keys(context), approved_keys(context, approval_id)
    if code != 0:
        if serving != gate.prod_before:
            gate.prod = (
                "the failed prod plan left prod mid-switch to this approval: the next make promote, run, restate or "
                "check completes it first (`python -m ops.recover` does it alone)"
            )
        return gate.failed("promote", "`sqlmesh plan` for prod failed", output_tail(output))
    if serving != approved:
        gate.prod = "prod changed, but does not serve the approved snapshots"
        return gate.failed(
            "promote", "prod does not serve the approved snapshots", sorted(n for n, _ in serving ^ approved)
        )
    with sqlmesh_context(load=False) as context:
        record_promotion(context, approval_id, "make promote")  # gate.promotions: whether and when prod switched
    batches = executed_batches(output)
    how = {0: "virtual update, no model batch executed", None: "no batch to run"}.get(batches, f"{batches} batches run")
    gate.passed("promote", f"prod now serves the {len(approved)} approved snapshots ({how})")
    return None


def run_gate(gate: Gate) -> int:
    """Run new months, build, scan, approve and promote, stopping at the first failure."""
    failure = run_new_months(gate) or build(gate)
    if failure is not None:
        return failure
    report = scan(gate)
    if isinstance(report, int):
        return report
    approval_id = approve(gate, report)
    if isinstance(approval_id, int):
        return approval_id
    failure = promote(gate, approval_id)
    return 0 if failure is None else failure


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m checks.promote", description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev", help="environment to build, check and promote (default dev)")
    parser.add_argument(
        "--override",
        metavar="NAME=VALUE[,NAME=VALUE]",
        help="thresholds of checks/thresholds.yml changed for this gate only (make promote OVERRIDE=...); recorded",
    )
    parser.add_argument("--verbose", action="store_true", help="stream sqlmesh's own output")
    return parser.parse_args(argv)


@faults.reported("make promote")
def main(argv: list[str]) -> int:
    """Runs the gate under the warehouse lock and prints the summary; non-zero unless prod was promoted."""
    args = parse_args(argv)
    if schema_variables(args.env)["marts_schema"] == "marts":
        print("error: promote from a development environment (--env dev), not from prod itself.", file=sys.stderr)
        return 2
    try:
        overrides = parse_overrides(args.override, load_thresholds(CHECKS_DIR / THRESHOLDS_FILE))
    except ScanSetupError as error:
        print(f"error: {error} Nothing was built or promoted.", file=sys.stderr)
        return 2
    gate = Gate(env=args.env, verbose=args.verbose, overrides=overrides, override_spec=args.override)
    os.environ["MOBILITY_DATA_DIR"] = str(data_dir())  # one absolute warehouse path for every step
    try:
        with warehouse_lock(f"make promote ({args.env} -> prod)"):
            recover.preflight("gate")
            code = run_gate(gate)
    except (Interrupted, KeyboardInterrupt) as error:
        stopped = error if isinstance(error, Interrupted) else Interrupted(signal.SIGINT)
        promoted = any(step == "promote" and note.startswith("ok") for step, note in gate.steps)
        if not promoted and gate.prod_before:
            gate.prod = "prod is as it was, or mid-switch: the next promote, run, restate or check completes it"
        gate.failed("stopped", f"{stopped} during the gate")
        print(gate.summary(promoted=promoted))
        return stopped.exit_code
    except WarehouseBusy as error:
        gate.failed("lock", str(error))
        code = EXIT_BUSY
    except GatewayError as error:  # a damaged warehouse file: its own words, and the exit code of a usage error
        gate.failed("gate", str(error))
        code = 2
    except (GateError, IngestError, WorkflowError) as error:
        code = gate.failed("gate", str(error))
    except Exception as error:  # any other failure still ends in the summary, prod untouched
        if message := faults.explain(error, "make promote"):  # a full disk, a read-only folder
            gate.failed("gate", message)
            code = faults.EXIT_IO
        else:
            code = gate.failed("gate", f"unexpected {type(error).__name__}: {error}")
    print(gate.summary(promoted=code == 0))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
