"""The one pipeline every action goes through, below every button and command line.

``ActionEngine.plan(command)`` reads the resource fresh (with its etag), builds the plan (before →
after, blast radius, gcloud equivalent), runs the pre-flight checks and, when they pass and the API
has one, a server-side dry run; it audits ``planned`` (and ``refused``). ``confirm`` takes the
operator's confirmation (in production the typed resource name). ``execute`` takes the resource's
lock (one action in flight per resource, across processes), re-reads it and stops on a changed
etag (``conflict``: re-plan, never overwrite someone else's change), offers a cancel until the
request is sent, sends it, waits for the operation, verifies by re-reading, starts the watch of the
affected services and the escalation timers declared ``started_by`` that action
(``console.escalation``), and audits the outcome. ``revert_command`` builds the inverse from the
recorded before-state; it goes through the same pipeline.

Errors come back as data: an ``ActionResult`` whose outcome is ``succeeded``, ``failed``,
``conflict``, ``busy`` or ``cancelled``, with a message that says what state the resource is in.
Only misuse raises (executing a refused or unconfirmed plan).

The executor lives on the session (``attach_executor``) and only on sessions that are not
read-only: ``executor_of`` a read-only session raises ``ReadOnlySessionError``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.actions import audit
from console.actions.checks import CheckResult, refusals, run_checks
from console.actions.commands import (
    Command,
    CommandError,
    RouteTraffic,
    ScaleConnector,
    ScaleService,
    describe_command,
    with_resource,
)
from console.actions.executor import (
    ConflictError,
    DryRunResult,
    Executor,
    ExecutorError,
    Pacer,
    VirtualPacer,
    WallPacer,
)
from console.actions.limits import ConnectorLimits, load_connector_limits
from console.actions.locks import AlreadyInProgressError, ResourceLock, lock_key
from console.actions.plan import Plan, build_plan
from console.actions.target import ACTIONABLE_KINDS, Target, resolve_target
from console.actions.watch import DEFAULT_WATCH_S, ActionWatch, WatchReport
from console.clock import VirtualClock
from console.durations import format_duration
from console.escalation import start_timers_for_action
from console.resource_state import LATEST, ResourceState, describe_resource
from console.session import SessionUpdate

if TYPE_CHECKING:
    from console.session import Session

#: Called with a line of progress and whether the action can still be cancelled.
ProgressCallback = Callable[[str, bool], None]
#: Errors while polling an operation that are worth asking again (the change itself is sent).
TRANSIENT_CODES = ("UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL")
MAX_POLL_ERRORS = 3


class ReadOnlySessionError(Exception):
    """The session is read-only: it has no executor, so no action can run."""


class ActionNotAllowedError(Exception):
    """The pipeline was asked to skip a step (execute a refused, unconfirmed or used plan)."""


class ConfirmationError(ActionNotAllowedError):
    """The confirmation is missing or does not match (in production: the typed resource name)."""


def attach_executor(session: Session, executor: Executor) -> None:
    """Give ``session`` its executor. A read-only session never gets one."""
    if session.read_only:
        raise ReadOnlySessionError(
            "a read-only session gets no executor: it cannot change anything in the cloud"
        )
    session.executor = executor


def executor_of(session: Session) -> Executor:
    """The session's executor; ``ReadOnlySessionError`` when it has none (read-only)."""
    executor = getattr(session, "executor", None)
    if executor is None:
        reason = (
            "the workspace says read_only = true"
            if session.workspace.incident.read_only
            else "it was opened read-only"
        )
        raise ReadOnlySessionError(
            f"this session is read-only ({reason}): actions are not available and nothing was "
            "sent. Open the workspace without --read-only (and without read_only = true) to act."
        )
    return executor


@dataclass
class PlannedAction:
    """One attempt: its plan, the checks' results and the dry run, and where it stands."""

    id: str
    plan: Plan
    checks: tuple[CheckResult, ...]
    dry_run: DryRunResult | None
    revert_of: str | None = None
    confirmed: bool = False
    #: The outcome that ended the attempt, once there is one.
    final_outcome: str | None = None

    @property
    def refused(self) -> bool:
        """True when a check (or the server's dry run) refuses."""
        return bool(refusals(self.checks))

    @property
    def refusals(self) -> tuple[CheckResult, ...]:
        """The results that block the action."""
        return refusals(self.checks)

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        """The results shown as warnings."""
        return tuple(c for c in self.checks if c.verdict == "warn")

    @property
    def suggestion(self) -> Command | None:
        """A command the first refusing check proposes instead, if any."""
        return next((c.suggestion for c in self.refusals if c.suggestion is not None), None)

    @property
    def needs_typed_name(self) -> bool:
        """In production the operator types the resource name to confirm."""
        return self.plan.target.environment == "production"

    @property
    def confirm_name(self) -> str:
        """What to type to confirm in production: the cloud resource name."""
        return self.plan.target.resource


@dataclass(frozen=True)
class ActionResult:
    """How an attempt ended."""

    action_id: str
    outcome: str  # succeeded, failed, conflict, busy, cancelled
    message: str
    planned: PlannedAction
    #: The resource's settings read after the action (None when it could not be read).
    after: dict[str, Any] | None = None
    state: ResourceState | None = None
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def ok(self) -> bool:
        """True when the change was made and verified."""
        return self.outcome == "succeeded"

    @property
    def revertible(self) -> bool:
        """True when there is a change to undo."""
        return self.outcome == "succeeded"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the CLI's ``--json``)."""
        return {
            "action_id": self.action_id,
            "outcome": self.outcome,
            "message": self.message,
            "before": self.planned.plan.before.settings(),
            "after": self.after,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


@dataclass
class _WatchedAction:
    planned: PlannedAction
    watch: ActionWatch
    who: dict[str, str] = field(default_factory=dict)


class ActionEngine:
    """Plans, checks, confirms, executes, verifies, watches and audits actions of one session."""

    def __init__(
        self,
        session: Session,
        executor: Executor | None = None,
        *,
        limits: ConnectorLimits | None = None,
        pacer: Pacer | None = None,
        lock_dir: Path | None = None,
        user: str | None = None,
        watch_s: float = DEFAULT_WATCH_S,
        grace_s: float = 0.0,
    ) -> None:
        self.session = session
        self.executor = executor if executor is not None else executor_of(session)
        self.limits = limits if limits is not None else load_connector_limits()
        if pacer is None:
            clock = session.clock
            pacer = (
                VirtualPacer(clock, session.poll_sources)
                if isinstance(clock, VirtualClock)
                else WallPacer(clock.now)
            )
        self.pacer = pacer
        self.lock_dir = lock_dir
        self.user = user if user is not None else audit.local_user()
        self.watch_s = watch_s
        #: Seconds between "confirm" and sending, during which a cancel still stops everything.
        self.grace_s = grace_s
        self._identity: str | None = None
        self._watches: dict[str, _WatchedAction] = {}
        self._watch_lock = threading.Lock()
        session.subscribe(self._on_session_update)

    # ---- who --------------------------------------------------------------------------------

    def who(self) -> dict[str, str]:
        """The local user and the cloud identity that act."""
        if self._identity is None:
            try:
                self._identity = self.executor.identity()
            except Exception as exc:  # an identity we cannot name must not stop the audit
                self._identity = f"unknown ({exc})"
        return {"user": self.user, "cloud_identity": self._identity}

    # ---- reading ----------------------------------------------------------------------------

    def target(self, command: Command) -> Target:
        """The command's target; ``UnknownResourceError`` when the workspace has none such."""
        return resolve_target(
            self.session.workspace, command.resource, ACTIONABLE_KINDS[command.name]
        )

    def read_state(self, target: Target) -> ResourceState:
        """The target's state, fresh from the API (blocking: call it off the GUI thread)."""
        return self.executor.read(target)

    # ---- plan -------------------------------------------------------------------------------

    def plan(self, command: Command, *, revert_of: str | None = None) -> PlannedAction:
        """Read, plan, check and dry-run ``command``; audits ``planned`` (and ``refused``).

        Raises ``UnknownResourceError`` for a resource the workspace does not have, and
        ``ExecutorError`` when the resource cannot be read.
        """
        target = self.target(command)
        command = with_resource(command, target.service_id)
        state = self.executor.read(target)
        plan = build_plan(command, target, state, self.session.workspace, self.pacer.now())
        checks = run_checks(plan, self.limits)
        dry_run: DryRunResult | None = None
        if not refusals(checks):
            dry_run = self._dry_run(plan)
            if dry_run.supported and not dry_run.ok:
                checks = (*checks, CheckResult("server-dry-run", "refuse", dry_run.message))
        planned = PlannedAction(uuid.uuid4().hex[:12], plan, checks, dry_run, revert_of)
        who = self.who()
        summary = "; ".join(c.text() for c in plan.changed_fields) or "no change"
        audit.record(self.session, planned, "planned", who=who, result=summary)
        if planned.refused:
            reasons = " ".join(c.message for c in planned.refusals)
            self._finish(planned, "refused", reasons)
        return planned

    def _dry_run(self, plan: Plan) -> DryRunResult:
        try:
            return self.executor.dry_run(plan.command, plan.target, plan.before)
        except ExecutorError as exc:
            return DryRunResult(True, False, f"the server refused the dry run: {exc}")

    # ---- confirm / cancel -------------------------------------------------------------------

    def confirm(
        self, planned: PlannedAction, *, typed_name: str | None = None, confirmed: bool = False
    ) -> None:
        """Record the operator's go-ahead. Production needs ``typed_name`` equal to the resource
        name; staging an explicit ``confirmed=True``. Raises ``ConfirmationError`` otherwise."""
        if planned.refused:
            raise ActionNotAllowedError(
                "a refused plan cannot be confirmed: " + planned.refusals[0].message
            )
        self._require_open(planned)
        if planned.needs_typed_name:
            if (typed_name or "").strip() != planned.confirm_name:
                shown = f"; got {typed_name!r}" if typed_name else ""
                raise ConfirmationError(
                    f"production: type the resource name {planned.confirm_name!r} to confirm"
                    f"{shown} (CLI: --confirm {planned.confirm_name})"
                )
        elif not (confirmed or typed_name == planned.confirm_name):
            raise ConfirmationError("confirm the action explicitly (CLI: --yes)")
        planned.confirmed = True
        audit.record(
            self.session, planned, "confirmed", who=self.who(), result="confirmed by the operator"
        )

    def cancel(
        self, planned: PlannedAction, reason: str = "cancelled by the operator"
    ) -> ActionResult:
        """End an attempt that was planned but not sent (audits ``cancelled``)."""
        if planned.final_outcome is not None:
            return ActionResult(planned.id, planned.final_outcome, reason, planned)
        return self._finish(planned, "cancelled", reason)

    # ---- execute ----------------------------------------------------------------------------

    def execute(
        self,
        planned: PlannedAction,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> ActionResult:
        """Carry out a confirmed plan; blocking (call it off the GUI thread). Never raises for
        what the cloud does: the result says what happened and what state the resource is in."""
        if planned.refused:
            raise ActionNotAllowedError("a refused plan cannot be executed")
        self._require_open(planned)
        if not planned.confirmed:
            raise ConfirmationError("the action was not confirmed")
        report = progress or (lambda _text, _cancellable: None)
        plan = planned.plan
        target = plan.target
        key = lock_key(self.executor.scope, target.project, target.kind, target.resource)
        holder = {
            "user": self.user,
            "action": describe_command(plan.command),
            "since": self.pacer.now(),
        }
        lock = ResourceLock(key, holder, self.lock_dir)
        try:
            lock.acquire()
        except AlreadyInProgressError as exc:
            return self._finish(planned, "busy", str(exc))
        try:
            return self._execute_locked(planned, report, cancel)
        finally:
            lock.release()

    def _execute_locked(
        self,
        planned: PlannedAction,
        report: ProgressCallback,
        cancel: threading.Event | None,
    ) -> ActionResult:
        plan = planned.plan
        target = plan.target
        report("Checking that nothing changed since the plan…", True)
        try:
            current = self.executor.read(target)
        except ExecutorError as exc:
            return self._finish(
                planned, "failed", f"could not re-read {target.resource}: {exc}; nothing was sent"
            )
        if current.etag != plan.etag:
            return self._conflict(planned, current)
        if self.grace_s > 0:
            report(f"Sending in {format_duration(self.grace_s)}: cancel now to stop", True)
            if not self.pacer.pause(self.grace_s, cancel):
                return self._finish(planned, "cancelled", "cancelled before anything was sent")
        if cancel is not None and cancel.is_set():
            return self._finish(planned, "cancelled", "cancelled before anything was sent")
        report("Sending the change…", False)
        started = self.pacer.now()
        try:
            operation = self.executor.start(plan.command, target, current)
        except ConflictError:
            return self._conflict(planned, None, started)
        except ExecutorError as exc:
            return self._failed(planned, exc, started)
        deadline = started + operation.timeout_s
        poll_errors = 0
        while True:
            try:
                status = operation.poll()
            except ExecutorError as exc:
                poll_errors += 1
                if exc.code not in TRANSIENT_CODES or poll_errors >= MAX_POLL_ERRORS:
                    return self._failed(planned, exc, started, while_="waiting for the operation")
                report(f"Asking how the operation goes failed ({exc.code}); asking again…", False)
                self.pacer.pause(operation.poll_interval_s)
                continue
            poll_errors = 0
            if status.done:
                break
            report(status.progress or "Waiting for the operation to finish…", False)
            if self.pacer.now() >= deadline:
                waited = format_duration(operation.timeout_s)
                return self._failed(
                    planned,
                    ExecutorError("DEADLINE_EXCEEDED", f"the operation did not finish in {waited}"),
                    started,
                    while_=f"waiting for {operation.name} (it may still finish)",
                )
            self.pacer.pause(operation.poll_interval_s)
        if status.error is not None:
            return self._failed(planned, status.error, started, while_="in the operation")
        report("Verifying by reading the resource again…", False)
        try:
            verified = self.executor.read(target)
        except ExecutorError as exc:
            return self._finish(
                planned,
                "failed",
                f"the operation finished but {target.resource} could not be re-read to verify: "
                f"{exc}",
                started=started,
            )
        mismatch = _mismatch(plan, verified)
        if mismatch:
            return self._finish(
                planned,
                "failed",
                f"the operation finished but {target.resource} does not show the change: "
                f"{mismatch}; it is now {describe_resource(verified)}",
                after=verified.settings(),
                state=verified,
                started=started,
            )
        changes = "; ".join(c.text() for c in plan.changed_fields)
        result = self._finish(
            planned,
            "succeeded",
            f"{changes}. Verified: {target.resource} is now {describe_resource(verified)}",
            after=verified.settings(),
            state=verified,
            started=started,
        )
        self._start_watch(planned, started)
        # Escalation timers declared ``started_by`` this action start now (the seed's "escalate
        # to Google if scaling the connector has not helped within 2 h").
        start_timers_for_action(self.session, plan.command.name, at=started)
        return result

    def _conflict(
        self, planned: PlannedAction, current: ResourceState | None, started: float | None = None
    ) -> ActionResult:
        target = planned.plan.target
        now = "" if current is None else f" (it is now {describe_resource(current)})"
        return self._finish(
            planned,
            "conflict",
            f"{target.resource} changed since the plan{now}: nothing was sent over someone "
            "else's change. Plan again to see the new state.",
            state=current,
            started=started,
        )

    def _failed(
        self,
        planned: PlannedAction,
        error: ExecutorError,
        started: float,
        *,
        while_: str = "sending the change",
    ) -> ActionResult:
        """A failure with what the resource looks like now (unchanged, or how it changed)."""
        target = planned.plan.target
        hint = ""
        if error.is_permission_error:
            hint = (
                f" Your identity ({self.who()['cloud_identity']}) lacks the permission to change "
                f"this {target.kind_word}; ask for the role or act with another account."
            )
        try:
            state = self.executor.read(target)
        except ExecutorError as exc:
            where = f"its state could not be read ({exc.code}): check it before acting again"
            return self._finish(
                planned,
                "failed",
                f"failed {while_}: {error}.{hint} {target.resource}: {where}.",
                started=started,
            )
        before = planned.plan.before.settings()
        if state.settings() == before:
            where = f"{target.resource} is unchanged: {describe_resource(state)}"
        else:
            where = f"{target.resource} is now {describe_resource(state)} (partly changed?)"
        return self._finish(
            planned,
            "failed",
            f"failed {while_}: {error}.{hint} {where}.",
            after=state.settings(),
            state=state,
            started=started,
        )

    def _finish(
        self,
        planned: PlannedAction,
        outcome: str,
        message: str,
        *,
        after: dict[str, Any] | None = None,
        state: ResourceState | None = None,
        started: float | None = None,
    ) -> ActionResult:
        planned.final_outcome = outcome
        finished = self.pacer.now()
        extra: dict[str, Any] = {"started_at": started, "finished_at": finished}
        if started is not None:
            extra["duration_s"] = round(finished - started, 3)
        audit.record(
            self.session, planned, outcome, who=self.who(), result=message, after=after, extra=extra
        )
        return ActionResult(planned.id, outcome, message, planned, after, state, started, finished)

    def _require_open(self, planned: PlannedAction) -> None:
        if planned.final_outcome is not None:
            raise ActionNotAllowedError(
                f"this attempt already ended ({planned.final_outcome}): plan again"
            )

    # ---- revert -----------------------------------------------------------------------------

    def revert_command(self, result: ActionResult) -> Command:
        """The command that puts back the recorded before-state of a succeeded action."""
        if not result.revertible:
            raise ActionNotAllowedError(
                f"only a succeeded action can be reverted ({result.outcome})"
            )
        plan = result.planned.plan
        before = plan.before.settings()
        changed = {c.field for c in plan.changed_fields}
        command = plan.command
        if isinstance(command, ScaleConnector):
            return ScaleConnector(
                command.connector,
                before["min_instances"] if "min_instances" in changed else None,
                before["max_instances"] if "max_instances" in changed else None,
                before["machine_type"] if "machine_type" in changed else None,
            )
        if isinstance(command, ScaleService):
            if "max_instances" in changed and before["max_instances"] is None:
                raise CommandError(
                    "the service had no max instances before (Cloud Run's default): set the "
                    "max you want explicitly instead of reverting"
                )
            return ScaleService(
                command.service,
                before["min_instances"] if "min_instances" in changed else None,
                before["max_instances"] if "max_instances" in changed else None,
            )
        traffic: dict[str, int] = before["traffic"]
        if traffic == {LATEST: 100}:
            return RouteTraffic(command.resource, to_latest=True)
        return RouteTraffic(command.resource, tuple(traffic.items()))

    def plan_revert(self, result: ActionResult) -> PlannedAction:
        """Plan the inverse of ``result`` through the same pipeline."""
        return self.plan(self.revert_command(result), revert_of=result.action_id)

    # ---- watch ------------------------------------------------------------------------------

    def _start_watch(self, planned: PlannedAction, started: float) -> None:
        watch = ActionWatch(
            planned.id, planned.plan.blast_radius.services, started, window_s=self.watch_s
        )
        with self._watch_lock:
            self._watches[planned.id] = _WatchedAction(planned, watch, self.who())

    def watch_report(self, action_id: str) -> WatchReport | None:
        """How the services affected by ``action_id`` compare with before it, now (call on the
        thread that drains the session: it reads the store)."""
        with self._watch_lock:
            watched = self._watches.get(action_id)
        if watched is None:
            return None
        return watched.watch.report(
            self.session.workspace, self.session.store, self.session.clock.now()
        )

    def active_watches(self) -> list[str]:
        """Action ids whose watch is still running."""
        with self._watch_lock:
            return [aid for aid, w in self._watches.items() if w.watch.final is None]

    def _on_session_update(self, update: SessionUpdate) -> None:
        """On the draining thread: end watches whose window is over, and audit their verdict."""
        with self._watch_lock:
            running = [w for w in self._watches.values() if w.watch.final is None]
        now = self.session.clock.now()
        names = {sid: s.name for sid, s in self.session.workspace.services.items()}
        for watched in running:
            report = watched.watch.report(self.session.workspace, self.session.store, now)
            if not report.finished:
                continue
            audit.record(
                self.session,
                watched.planned,
                "watched",
                who=watched.who,
                result=f"after {format_duration(report.window_s)}: {report.summary(names)}",
                extra={
                    "verdict": report.verdict,
                    "metrics": [
                        {
                            "service": c.service,
                            "metric": c.metric,
                            "before": c.before,
                            "after": c.after,
                            "verdict": c.verdict,
                        }
                        for c in report.changes
                    ],
                },
            )


def _mismatch(plan: Plan, verified: ResourceState) -> str:
    """What the re-read resource shows differently from the plan (empty when it matches)."""
    now = verified.settings()
    problems = []
    for change in plan.changed_fields:
        if change.field.startswith("traffic."):
            continue
        if now.get(change.field) != plan.after[change.field]:
            problems.append(
                f"{change.label} is {now.get(change.field)}, expected {plan.after[change.field]}"
            )
    if isinstance(plan.command, RouteTraffic):
        wanted = {k: v for k, v in plan.after["traffic"].items() if v}
        got = {k: v for k, v in now["traffic"].items() if v}
        if wanted != got:
            problems.append(f"traffic is {got}, expected {wanted}")
    return "; ".join(problems)
