"""`make diff [BASE=main]`: the pull-request review of the working tree, in Markdown, against prod.

The working tree is the change and prod is what it would replace, as on a pull request: SQLMesh plans the project
files against prod and the review lists the models directly and indirectly modified with their category (breaking,
non-breaking), the SQL diff, the backfill prod would need, and for every model whose metadata changed (description,
column descriptions, owner, tags, grain, audits, signals, cron) the prod text beside the working tree's. The change
is then built in its own environment (`pr_<branch>`), each changed model is compared with prod row by row
(`Context.table_diff`: row counts, matches, sample differences), and the environment is invalidated and its views
dropped; the janitor reclaims its physical tables after the snapshot TTL, so building the same change in dev
meanwhile costs nothing. BASE only names the files changed since the branch left it
(`git diff $(git merge-base BASE HEAD)`, uncommitted and new files included).

    python -m ops.diff [--base main] [--start YYYY-MM-DD] [--keep] [--limit 5]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
from dataclasses import dataclass

import pandas as pd
from rich.console import Console as RichConsole
from sqlmesh import Context, configure_logging
from sqlmesh.core.console import SNAPSHOT_CHANGE_CATEGORY_STR, MarkdownConsole
from sqlmesh.core.environment import Environment, EnvironmentNamingInfo
from sqlmesh.core.model import Model
from sqlmesh.core.plan import Plan
from sqlmesh.core.snapshot import DeployabilityIndex, Snapshot, SnapshotChangeCategory
from sqlmesh.core.table_diff import TableDiff
from sqlmesh.utils.date import to_ds
from sqlmesh.utils.errors import SQLMeshError

from gateway.lock import EXIT_BUSY, WarehouseBusy, warehouse_lock
from ops.common import PROJECT_DIR, WorkflowError, pin_data_dir, prod_exists, sqlmesh_context

SAMPLE_ROWS = 5
CELL_WIDTH = 40


@dataclass(frozen=True)
class Change:
    """One model the change touches, as the prod plan sees it."""

    name: str
    kind: str  # directly modified, indirectly modified, added, removed
    category: str
    backfill: str


def git(*args: str) -> str:
    """The output of a git command in the project, or a WorkflowError naming it."""
    try:
        result = subprocess.run(["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        raise WorkflowError(f"`git {' '.join(args)}` failed: {detail.strip()}") from error
    return result.stdout.strip()


def branch_name() -> str:
    """The checked-out branch, or the short commit on a detached HEAD."""
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    return git("rev-parse", "--short", "HEAD") if branch == "HEAD" else branch


def changed_files(base: str) -> list[tuple[str, str]]:
    """(status, path) of every file changed since the branch left BASE, working tree and new files included."""
    fork = git("merge-base", base, "HEAD")
    rows = [line.split("\t", 1) for line in git("diff", "--name-status", "--no-renames", fork).splitlines() if line]
    rows += [["A", path] for path in git("ls-files", "--others", "--exclude-standard").splitlines() if path]
    return sorted((status, path) for status, path in rows)


def environment_name(branch: str) -> str:
    """The review environment of a branch: `pr_<branch>`, as SQLMesh spells environment names."""
    return Environment.sanitize_name(f"pr_{branch}")


def markdown_console() -> MarkdownConsole:
    """SQLMesh's Markdown console (the CI bot's): review text is captured, progress goes to stderr."""
    console = MarkdownConsole(width=1000, warning_capture_only=True, error_capture_only=True)
    console.console = RichConsole(file=sys.stderr, no_color=True, width=120)
    return console


def prod_plan(context: Context) -> Plan:
    """The plan that would deploy the working tree to prod (not applied)."""
    return context.plan_builder("prod", skip_tests=True, skip_linter=True).build()


def models_review(context: Context, console: MarkdownConsole, plan: Plan) -> str:
    """The CI bot's model summary: directly and indirectly modified models, categories, SQL diffs."""
    console.consume_captured_output()
    console.show_model_difference_summary(
        context_diff=plan.context_diff,
        environment_naming_info=plan.environment_naming_info,
        default_catalog=context.default_catalog,
        no_diff=False,
    )
    return console.consume_captured_output().strip()


def ready_batches(context: Context, plan: Plan, touched: list[Snapshot]) -> dict[str, list[tuple[int, int]]]:
    """The batches prod would run for the touched models, once signals drop the days with no landed data."""
    scheduler = context.create_scheduler(list(plan.snapshots.values()), context.snapshot_evaluator)
    deployability = DeployabilityIndex.all_deployable()
    ids = {snapshot.snapshot_id for snapshot in touched}
    missing = {
        snapshot: intervals
        for snapshot, intervals in scheduler.merged_missing_intervals(deployability_index=deployability).items()
        if snapshot.snapshot_id in ids
    }
    batches = scheduler.batch_intervals(missing, deployability, EnvironmentNamingInfo(name="prod"))
    return {snapshot.name: intervals for snapshot, intervals in batches.items() if intervals}


def backfill_text(snapshot: Snapshot, batches: dict[str, list[tuple[int, int]]]) -> str:
    """What prod would compute for one model: batches over the landed data, a view to recreate, or nothing."""
    if snapshot.is_view:
        return "recreate view"
    ready = batches.get(snapshot.name)
    if ready:
        return f"{len(ready)} batch(es), {to_ds(ready[0][0])} .. {to_ds(ready[-1][1] - 1)}"
    if snapshot.change_category == SnapshotChangeCategory.INDIRECT_NON_BREAKING:
        return "none (keeps the prod table)"
    return "none (already built)" if snapshot.intervals else "none (no landed data)"


def change_kind(plan: Plan, snapshot: Snapshot) -> str:
    """How the change reaches a model: directly, indirectly (through a parent), added or metadata only."""
    diff = plan.context_diff
    if snapshot.snapshot_id in diff.added:
        return "added"
    if diff.directly_modified(snapshot.name):
        return "directly modified"
    if diff.indirectly_modified(snapshot.name):
        return "indirectly modified"
    return "metadata only"


def changes(context: Context, plan: Plan) -> list[Change]:
    """Every model the prod plan adds, modifies or removes: directly modified first, then added, indirect, removed."""
    diff = plan.context_diff
    touched = [new for new, _ in diff.modified_snapshots.values()] + [diff.snapshots[s_id] for s_id in diff.added]
    touched = [snapshot for snapshot in touched if snapshot.is_model]
    batches = ready_batches(context, plan, touched)
    found = [
        Change(
            display(snapshot.name),
            change_kind(plan, snapshot),
            SNAPSHOT_CHANGE_CATEGORY_STR.get(snapshot.change_category, "Unknown"),
            backfill_text(snapshot, batches),
        )
        for snapshot in touched
    ]
    found += [Change(display(info.name), "removed", "-", "-") for info in diff.removed_snapshots.values()]
    order = ("directly modified", "added", "indirectly modified", "metadata only", "removed")
    return sorted(found, key=lambda change: (order.index(change.kind), change.name))


def calls(calls: list[tuple[str, dict]], dialect: str) -> str:
    """Audits or signals as `name(arg := value, ...)`, one per line, sorted."""
    rendered = [
        f"{name}({', '.join(f'{key} := {value.sql(dialect=dialect)}' for key, value in sorted(args.items()))})"
        for name, args in calls
    ]
    return "; ".join(sorted(rendered)) or "-"


def metadata_fields(model: Model) -> dict[str, str]:
    """A model's metadata as text, by the name the review shows: what SQLMesh counts as a metadata change."""
    fields = {
        "description": model.description or "-",
        "owner": model.owner or "-",
        "tags": ", ".join(sorted(model.tags)) or "-",
        "grain": ", ".join(grain.sql(dialect=model.dialect) for grain in model.grains) or "-",
        "audits": calls(model.audits, model.dialect),
        "signals": calls(model.signals, model.dialect),
        "cron": model.cron,
    }
    fields.update({f"column `{name}`": text or "-" for name, text in (model.column_descriptions or {}).items()})
    return fields


def metadata_changes(prod: Model, working: Model) -> list[tuple[str, str, str]]:
    """(field, prod text, working-tree text) for every metadata field that differs; a column described on one side
    only shows '-' on the other."""
    old, new = metadata_fields(prod), metadata_fields(working)
    names = list(old) + [name for name in new if name not in old]
    pairs = [(name, old.get(name, "-"), new.get(name, "-")) for name in names]
    return [(name, before, after) for name, before, after in pairs if before != after]


def metadata_review(plan: Plan) -> list[str]:
    """Markdown: for each modified model whose metadata changed, the prod text beside the working tree's. A
    metadata-only change in a field not listed here (start, batch size, properties, ...) is named by the SQL diff."""
    parts: list[str] = []
    for new, old in sorted(plan.context_diff.modified_snapshots.values(), key=lambda pair: pair[0].name):
        if not (new.is_model and old.is_model):
            continue
        rows = [[field, before, after] for field, before, after in metadata_changes(old.model, new.model)]
        if not rows and change_kind(plan, new) == "metadata only":
            rows = [["other metadata", "see the SQL diff above", "see the SQL diff above"]]
        if rows:
            table = markdown_table(["metadata", "prod", "working tree"], rows)
            parts += ["", f"### `{display(new.name)}`", "", table]
    return ["", "## Metadata changes", *parts] if parts else []


def display(fqn: str) -> str:
    """`"warehouse"."marts"."fct_taxi_trips"` as `marts.fct_taxi_trips`."""
    return ".".join(part.strip('"') for part in fqn.split(".")[-2:])


def build_environment(context: Context, environment: str, start: str | None) -> Plan:
    """Plans and applies the change in its own environment (backfilling the changed models only)."""
    plan = context.plan_builder(environment, skip_tests=True, skip_linter=True, start=start).build()
    context.apply(plan)
    return plan


def data_diffs(context: Context, environment: str, names: list[str], start: str | None, limit: int) -> list[TableDiff]:
    """prod against the environment, for every changed model with a new physical table (grain as the join key)."""
    diffs = []
    for name in names:
        model = context.get_model(name)
        where = None
        if start and model.time_column:
            where = f"{model.time_column.column.sql(dialect=model.dialect)} >= '{start}'"
        diffs += context.table_diff(
            source="prod", target=environment, select_models=[name], where=where, limit=limit, show=False
        )
    return diffs


def cell(value: object, width: int | None = None) -> str:
    """A value as a Markdown table cell, cut at `width` characters."""
    text = "NULL" if pd.api.types.is_scalar(value) and pd.isna(value) else str(value)
    return text[:width].replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: list[str], rows: list[list[object]], width: int | None = None) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(cell(column, width) for column in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(value, width) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def frame_table(frame: pd.DataFrame, limit: int) -> str:
    """The first rows of a pandas DataFrame as a Markdown table, long values cut."""
    head = frame.head(limit)
    return markdown_table([str(column) for column in head.columns], head.values.tolist(), CELL_WIDTH)


def render_data_diff(diff: TableDiff, limit: int) -> str:
    """One model's data diff: schema changes, row counts and matches, sample differing and one-sided rows."""
    rows, schema = diff.row_diff(), diff.schema_diff()
    name = display(rows.model_name or diff.source)
    source, target = (rows.source_alias or "source").upper(), (rows.target_alias or "target").upper()
    counts = [
        [f"{source} rows", rows.source_count],
        [f"{target} rows", rows.target_count],
        ["change", f"{rows.target_count - rows.source_count:+d} ({rows.count_pct_change:+.1f}%)"],
        ["joined on the grain, all columns equal", f"{rows.full_match_count} ({rows.full_match_pct}%)"],
        ["joined on the grain, some column differs", f"{rows.partial_match_count} ({rows.partial_match_pct}%)"],
        [f"only in {source}", f"{rows.s_only_count} ({rows.s_only_pct}%)"],
        [f"only in {target}", f"{rows.t_only_count} ({rows.t_only_pct}%)"],
    ]
    parts = ["", f"### `{name}`", "", markdown_table(["", "rows"], counts)]
    if schema.has_changes:
        columns = [[f"added `{c}`", str(t)] for c, t in schema.added]
        columns += [[f"removed `{c}`", str(t)] for c, t in schema.removed]
        columns += [[f"retyped `{c}`", f"{old} -> {new}"] for c, (old, new) in schema.modified.items()]
        parts += ["", "Schema changes:", "", markdown_table(["column", "type"], columns)]
    differing = rows.column_stats[rows.column_stats["pct_match"] < 100] if len(rows.column_stats) else []
    if len(differing):
        stats = [[column, f"{row['pct_match']:.1f}%"] for column, row in differing.iterrows()]
        parts += ["", "Columns that differ on joined rows:", "", markdown_table(["column", "rows equal"], stats)]
    for title, frame in (
        ("Sample of joined rows that differ", rows.joined_sample),
        (f"Sample of rows only in {source}", rows.s_sample),
        (f"Sample of rows only in {target}", rows.t_sample),
    ):
        if len(frame):
            parts += ["", f"{title}:", "", frame_table(frame, limit)]
    return "\n".join(parts)


def not_diffed(found: list[Change], diffed: set[str]) -> list[str]:
    """Lines naming the changed models without a data diff: new ones, and those that keep prod's table."""
    added = sorted(c.name for c in found if c.kind == "added" and c.name not in diffed)
    kept = sorted(c.name for c in found if c.kind.endswith("modified") and c.name not in diffed)
    lines = (
        ["", "New models (nothing in prod to compare): " + ", ".join(f"`{name}`" for name in added)] if added else []
    )
    if kept:
        lines += ["", "Same physical table as prod (no data change): " + ", ".join(f"`{name}`" for name in kept)]
    return lines


def drop_environment(context: Context, environment: str) -> None:
    """Invalidates the review environment, drops its views now, and lets the janitor collect expired snapshots."""
    context.invalidate_environment(environment, sync=True)
    context.run_janitor(ignore_ttl=False)


def review(base: str, start: str | None, keep: bool, limit: int) -> str:
    """The whole review as Markdown; builds and drops the review environment under the warehouse lock."""
    branch, files = branch_name(), changed_files(base)
    environment = environment_name(branch)
    parts = [f"# Plan diff: `{branch}` against prod", ""]
    parts += [f"Files changed since `{base}` ({len(files)}):", ""]
    parts += [f"- `{status}` {path}" for status, path in files] or ["- none"]
    console = markdown_console()
    with warehouse_lock(f"make diff ({environment})"), sqlmesh_context(console) as context:
        if not prod_exists(context):
            raise WorkflowError("There is no prod environment to compare with: build and promote it first (make demo).")
        plan = prod_plan(context)
        found = changes(context, plan)
        if not found:
            return "\n".join([*parts, "", "**No model changes: the project files match prod.**", ""])
        table = [[f"`{c.name}`", c.kind, c.category, c.backfill] for c in found]
        parts += ["", "## Models", "", markdown_table(["model", "change", "category", "backfill in prod"], table)]
        parts += ["", models_review(context, console, plan)]
        parts += metadata_review(plan)
        diffable = [c.name for c in found if c.kind in ("directly modified", "indirectly modified", "added")]
        print(f"Building environment {environment} for the data diff...", file=sys.stderr)
        try:
            build_environment(context, environment, start)
            diffs = data_diffs(context, environment, diffable, start, limit)
            parts += ["", f"## Data diff: prod against `{environment}`" + (f" (from {start})" if start else "")]
            parts += [render_data_diff(diff, limit) for diff in diffs] or ["", "No changed model has a new table."]
            parts += not_diffed(found, {display(diff.row_diff().model_name or diff.source) for diff in diffs})
        finally:
            if not keep:
                drop_environment(context, environment)
    note = f"kept: `sqlmesh invalidate {environment}` drops it" if keep else "dropped after the diff"
    return "\n".join([*parts, "", f"_Environment `{environment}` {note}._", ""])


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m ops.diff", description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="branch the change starts from (default main)")
    parser.add_argument("--start", help="build and compare from this date only, YYYY-MM-DD (default: all data)")
    parser.add_argument("--keep", action="store_true", help="keep the pr_<branch> environment for inspection")
    parser.add_argument("--limit", type=int, default=SAMPLE_ROWS, help="sample rows per table (default 5)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """Prints the review on stdout, progress on stderr; 2 when it cannot be made, 75 when the warehouse is busy."""
    args = parse_args(argv)
    pin_data_dir()
    configure_logging(log_file_dir=PROJECT_DIR / "logs")  # SQL and debug lines to logs/, as the sqlmesh CLI does
    try:
        with contextlib.redirect_stdout(sys.stderr):  # SQLMesh's live progress bars write to stdout
            text = review(args.base, args.start, args.keep, args.limit)
        print(text)
    except WarehouseBusy as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BUSY
    except (WorkflowError, SQLMeshError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
