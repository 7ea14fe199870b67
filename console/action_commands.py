"""The ``action`` command: guarded cloud changes from the command line, through the same pipeline
as the GUI (``console.actions``).

    incident-console action scale-connector CONNECTOR [--min-instances N] [--max-instances N]
                                                      [--machine-type TYPE]
    incident-console action scale-service SERVICE [--min-instances N] [--max-instances N]
    incident-console action route-traffic SERVICE (--to-revisions REV=PCT[,...] | --to-latest)

each with ``[--plan | --yes [--confirm RESOURCE_NAME]] [--json] [--watch DURATION] [--read-only]
[--demo | --config FILE]``. ``--plan`` (or neither flag) prints the plan, the checks and the gcloud
equivalent and sends nothing: exit 0, or 2 when a check refuses. ``--yes`` executes; in production
only together with ``--confirm`` and the resource's name. The result and the audit entries are
printed (``--json``: as JSON). Exit codes: 0 done, 1 the cloud failed it (or it conflicted, or
another action holds the resource), 2 bad input, a refusal, a missing confirmation or a read-only
session. Each run on the demo starts a fresh simulation on a virtual clock (so ``--watch`` is
fast-forwarded).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.actions.checks import CheckResult
from console.actions.commands import (
    Command,
    CommandError,
    RouteTraffic,
    ScaleConnector,
    ScaleService,
    parse_split,
)
from console.actions.executor import ExecutorError
from console.actions.pipeline import (
    ActionEngine,
    ActionResult,
    ConfirmationError,
    PlannedAction,
    ReadOnlySessionError,
)
from console.actions.target import UnknownResourceError
from console.cli_arguments import positive_duration_argument
from console.clock import SystemClock, VirtualClock
from console.durations import format_duration
from console.session import Session

Handler = Callable[[argparse.Namespace], int]

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
#: Simulated (or real) seconds between looks at the metrics while ``--watch`` runs.
WATCH_STEP_S = 10.0
VERDICT_SYMBOLS = {"pass": "✔", "warn": "▲", "refuse": "✖"}


class ActionUsageError(Exception):
    """Bad input to an action command: printed as one message, exit code 2."""


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _common_options(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--plan", action="store_true", help="print the plan and checks; send nothing (default)"
    )
    mode.add_argument("--yes", action="store_true", help="execute (production: with --confirm)")
    parser.add_argument(
        "--confirm",
        metavar="RESOURCE_NAME",
        help="production: the resource's cloud name, typed to confirm",
    )
    parser.add_argument("--json", action="store_true", help="print the plan and result as JSON")
    parser.add_argument(
        "--watch",
        type=positive_duration_argument,
        metavar="DURATION",
        help="after success, watch the affected services for DURATION (e.g. 5m) and report",
    )
    parser.add_argument(
        "--read-only", action="store_true", help="open the session read-only (refuses every action)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--config", metavar="FILE", type=Path, help="workspace TOML file")
    where.add_argument("--demo", action="store_true", help="the built-in demo incident")


def add_action_commands(subparsers: argparse._SubParsersAction) -> dict[str, Handler]:
    """Add ``action`` and its three subcommands to ``subparsers``; returns its handler."""
    action = subparsers.add_parser(
        "action",
        help="scale a connector or service, or move traffic, guarded (plan, checks, confirm)",
        description="Change the cloud through the console's guarded pipeline: plan, pre-flight "
        "checks, dry run, confirmation, execution, verification and audit.",
    )
    kinds = action.add_subparsers(dest="action_name", metavar="ACTION", required=True)

    connector = kinds.add_parser(
        "scale-connector", help="change a VPC connector's min/max instances or machine type"
    )
    connector.add_argument("connector", metavar="CONNECTOR", help="workspace id or connector name")
    connector.add_argument("--min-instances", type=_count, metavar="N")
    connector.add_argument("--max-instances", type=_count, metavar="N")
    connector.add_argument(
        "--machine-type", metavar="TYPE", help="f1-micro, e2-micro, e2-standard-4"
    )
    _common_options(connector)

    service = kinds.add_parser(
        "scale-service", help="change a Cloud Run service's service-level min/max instances"
    )
    service.add_argument(
        "service", metavar="SERVICE", help="workspace id or Cloud Run service name"
    )
    service.add_argument("--min-instances", type=_count, metavar="N")
    service.add_argument("--max-instances", type=_count, metavar="N")
    _common_options(service)

    traffic = kinds.add_parser("route-traffic", help="move a Cloud Run service's traffic")
    traffic.add_argument(
        "service", metavar="SERVICE", help="workspace id or Cloud Run service name"
    )
    where = traffic.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--to-revisions",
        metavar="REV=PCT[,REV=PCT...]",
        help="the split; percents sum to 100; a revision by full name, suffix or LATEST",
    )
    where.add_argument(
        "--to-latest", action="store_true", help="all traffic to the latest revision"
    )
    _common_options(traffic)
    return {"action": cmd_action}


def build_command(args: argparse.Namespace) -> Command:
    """The command the arguments describe. Raises ``ActionUsageError`` on bad input."""
    try:
        if args.action_name == "scale-connector":
            return ScaleConnector(
                args.connector, args.min_instances, args.max_instances, args.machine_type
            )
        if args.action_name == "scale-service":
            return ScaleService(args.service, args.min_instances, args.max_instances)
        if args.to_latest:
            return RouteTraffic(args.service, to_latest=True)
        return RouteTraffic(args.service, parse_split(args.to_revisions))
    except CommandError as exc:
        raise ActionUsageError(str(exc)) from None


def cli_line(command: Command, workspace_flag: str) -> str:
    """The ``incident-console action ...`` line that plans ``command``."""
    words = ["incident-console", "action", command.name, command.resource]
    if isinstance(command, ScaleConnector | ScaleService):
        if command.min_instances is not None:
            words.append(f"--min-instances={command.min_instances}")
        if command.max_instances is not None:
            words.append(f"--max-instances={command.max_instances}")
    if isinstance(command, ScaleConnector) and command.machine_type is not None:
        words.append(f"--machine-type={command.machine_type}")
    if isinstance(command, RouteTraffic):
        if command.to_latest:
            words.append("--to-latest")
        else:
            words.append("--to-revisions=" + ",".join(f"{r}={p}" for r, p in command.split))
    if workspace_flag:
        words.append(workspace_flag)
    return " ".join(words)


# ---- output -------------------------------------------------------------------------------------


def _utc(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def planned_as_dict(planned: PlannedAction, workspace_flag: str) -> dict[str, Any]:
    """The plan, checks and dry run as JSON-ready data."""
    plan = planned.plan
    suggestion = planned.suggestion
    return {
        "action_id": planned.id,
        "command": plan.command.name,
        "resource": plan.target.service_id,
        "resource_name": plan.target.resource,
        "environment": plan.target.environment,
        "project": plan.target.project,
        "region": plan.target.region,
        "read_at": _utc(plan.read_at),
        "etag": plan.etag,
        "before": plan.before.settings(),
        "after": plan.after,
        "changes": [
            {"field": c.field, "before": c.before, "after": c.after, "changed": c.changed}
            for c in plan.changes
        ],
        "blast_radius": {
            "services": list(plan.blast_radius.services),
            "golden_path_steps": list(plan.blast_radius.steps),
        },
        "checks": [c.as_dict() for c in planned.checks],
        "refused": planned.refused,
        "suggestion": cli_line(suggestion, workspace_flag) if suggestion else None,
        "dry_run": None
        if planned.dry_run is None
        else {
            "supported": planned.dry_run.supported,
            "ok": planned.dry_run.ok,
            "message": planned.dry_run.message,
        },
        "gcloud": plan.gcloud,
    }


def _check_line(check: CheckResult) -> str:
    return f"  {VERDICT_SYMBOLS[check.verdict]} {check.rule}: {check.message}"


def format_plan_text(planned: PlannedAction, workspace_flag: str) -> str:
    """The plan as a terminal reads it."""
    plan = planned.plan
    target = plan.target
    where = "/".join(p for p in (target.project, target.region) if p) or "-"
    lines = [
        f"Plan: {plan.command.name} {target.resource} ({target.kind_word} '{target.name}', "
        f"{target.environment}, {where})",
        f"  read {_utc(plan.read_at)}, etag {plan.etag or '-'}",
    ]
    width = max((len(c.label) for c in plan.changes), default=0)
    for change in plan.changes:
        before = "default" if change.before is None else change.before
        after = "default" if change.after is None else change.after
        value = f"{before} → {after}" if change.changed else f"{before} (unchanged)"
        lines.append(f"  {change.label + ':':<{width + 1}} {value}")
    lines.append(f"Blast radius: {plan.blast_radius.text()}")
    lines.append("Checks:")
    for check in planned.checks:
        lines.append(_check_line(check))
        if check.suggestion_text:
            lines.append(f"      suggestion: {check.suggestion_text}")
            if check.suggestion is not None:
                lines.append(f"      {cli_line(check.suggestion, workspace_flag)}")
    if planned.dry_run is not None:
        lines.append(f"Dry run: {planned.dry_run.message}")
    lines.append("gcloud equivalent:")
    lines.append(f"  {plan.gcloud}")
    return "\n".join(lines)


def _audit_entries(session: Session, action_id: str) -> list[dict[str, Any]]:
    session.drain()
    entries = []
    for entry in session.timeline:
        if entry.kind == "action" and entry.fields.get("action_id") == action_id:
            entries.append({"t": _utc(entry.t), "text": entry.text, "fields": entry.fields})
    return entries


# ---- the handler --------------------------------------------------------------------------------


def cmd_action(args: argparse.Namespace) -> int:
    """``action scale-connector|scale-service|route-traffic ...``."""
    from console.cli import resolve_workspace
    from console.session_factory import build_session

    command = build_command(args)
    if args.confirm is not None and not args.yes:
        raise ActionUsageError("--confirm goes with --yes (it confirms an execution)")
    workspace = resolve_workspace(args.config, args.demo)
    workspace_flag = "--demo" if args.demo else (f"--config {args.config}" if args.config else "")
    clock: VirtualClock | SystemClock
    clock = VirtualClock(SystemClock().now()) if workspace.is_demo else SystemClock()
    session = build_session(workspace, clock, read_only=args.read_only)
    try:
        try:
            engine = ActionEngine(session, watch_s=args.watch or 300.0)
        except ReadOnlySessionError as exc:
            raise ActionUsageError(str(exc)) from None
        if workspace.is_demo or args.watch:
            session.poll_sources()
            session.drain()
        return _run(engine, session, command, args, workspace_flag)
    finally:
        session.stop()


def _run(
    engine: ActionEngine,
    session: Session,
    command: Command,
    args: argparse.Namespace,
    workspace_flag: str,
) -> int:
    try:
        planned = engine.plan(command)
    except UnknownResourceError as exc:
        raise ActionUsageError(str(exc)) from None
    except ExecutorError as exc:
        raise RuntimeError(f"cannot read {command.resource}: {exc}") from None
    output: dict[str, Any] = {"plan": planned_as_dict(planned, workspace_flag)}
    if not args.json:
        print(format_plan_text(planned, workspace_flag))

    if planned.refused:
        first = planned.refusals[0]
        output["result"] = {"outcome": "refused", "message": first.message}
        output["audit"] = _audit_entries(session, planned.id)
        if args.json:
            print(json.dumps(output, indent=2, ensure_ascii=False))
        print(f"incident-console: refused by {first.rule}: {first.message}", file=sys.stderr)
        if first.suggestion is not None:
            line = cli_line(first.suggestion, workspace_flag)
            print(f"  instead: {first.suggestion_text}\n  {line}", file=sys.stderr)
        return EXIT_REFUSED

    if not args.yes:
        engine.cancel(planned, "plan only: nothing sent (no --yes)")
        confirm = f" --confirm {planned.confirm_name}" if planned.needs_typed_name else ""
        hint = f"Nothing was sent. To execute: {cli_line(command, workspace_flag)} --yes{confirm}"
        output["result"] = {"outcome": "planned", "message": hint}
        output["audit"] = _audit_entries(session, planned.id)
        if args.json:
            print(json.dumps(output, indent=2, ensure_ascii=False))
        else:
            print(hint)
        return EXIT_OK

    try:
        engine.confirm(planned, typed_name=args.confirm, confirmed=True)
    except ConfirmationError as exc:
        engine.cancel(planned, f"not confirmed: {exc}")
        raise ActionUsageError(f"{exc}; nothing was sent") from None

    shown: list[str] = []

    def progress(text: str, _cancellable: bool) -> None:
        if not args.json and (not shown or shown[-1] != text):
            shown.append(text)
            print(f"  … {text}", file=sys.stderr, flush=True)

    result = engine.execute(planned, progress=progress)
    output["result"] = result.as_dict()
    watch_text = ""
    if result.ok and args.watch:
        watch_text = _watch(engine, session, result, args.watch)
        output["watch"] = watch_text
    output["audit"] = _audit_entries(session, planned.id)
    if result.ok:
        revert = engine.revert_command(result)
        output["revert"] = cli_line(revert, workspace_flag) + " --yes"
    if args.json:
        print(json.dumps(output, indent=2, ensure_ascii=False))
    else:
        print(_result_text(result, output, watch_text))
    return EXIT_OK if result.ok else EXIT_FAILED


def _result_text(result: ActionResult, output: dict[str, Any], watch_text: str) -> str:
    symbol = {"succeeded": "✔", "failed": "✖", "conflict": "↺", "busy": "⧗"}.get(
        result.outcome, "•"
    )
    lines = [f"{symbol} {result.outcome.upper()}: {result.message}"]
    if watch_text:
        lines.append(f"Watch: {watch_text}")
    lines.append("Audit:")
    for entry in output["audit"]:
        who = entry["fields"].get("who", {})
        lines.append(
            f"  {entry['t']}  {entry['text']}  "
            f"[{who.get('user', '?')} / {who.get('cloud_identity', '?')}]"
        )
    if "revert" in output:
        lines.append(f"To undo: {output['revert']}")
    return "\n".join(lines)


def _watch(engine: ActionEngine, session: Session, result: ActionResult, window_s: float) -> str:
    """Follow the affected services for ``window_s`` and return the verdict line."""
    clock = session.clock
    names = {sid: s.name for sid, s in session.workspace.services.items()}
    if not isinstance(clock, VirtualClock):
        session.start()
    waited = 0.0
    report = engine.watch_report(result.action_id)
    while report is not None and not report.finished:
        step = min(WATCH_STEP_S, max(1.0, report.remaining_s))
        engine.pacer.pause(step)
        waited += step
        session.drain()
        report = engine.watch_report(result.action_id)
        if not isinstance(clock, VirtualClock) and waited % 60 < WATCH_STEP_S:
            print(f"  … watching: {format_duration(report.remaining_s)} left", file=sys.stderr)
    session.drain()
    return report.summary(names) if report is not None else "no watch"
