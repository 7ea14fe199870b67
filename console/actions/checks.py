"""Pre-flight checks: named rules an action must pass before anything is sent.

Each rule is a function of the plan (and the connector limits, which are data) that returns a
``CheckResult`` with a verdict: ``pass``, ``warn`` (shown, does not block) or ``refuse`` (blocks,
with the reason and, where there is one, a suggested alternative command). ``run_checks`` applies
every rule that concerns the command; ``RULES`` lists them by name, and each has its own test.

The rules mirror what the APIs would refuse (so a refusal comes before the request, worded for a
person, with a way out) and add what the APIs do not say (connectors do not scale in; a max below
the running instances makes requests queue; a change that changes nothing).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from console.actions.commands import Command, RouteTraffic, ScaleConnector, ScaleService
from console.actions.limits import ConnectorLimits
from console.actions.plan import Plan
from console.resource_state import LATEST, CloudRunServiceState, ConnectorState, short_revision

Verdict = Literal["pass", "warn", "refuse"]


@dataclass(frozen=True)
class CheckResult:
    """What one rule says about one plan."""

    rule: str
    verdict: Verdict
    message: str
    #: A command that would do what was meant within the limits (refusals only, where one exists).
    suggestion: Command | None = None
    suggestion_text: str = ""

    def as_dict(self) -> dict[str, str]:
        """A JSON-ready record (audit trail, ``--json``)."""
        record = {"rule": self.rule, "verdict": self.verdict, "message": self.message}
        if self.suggestion_text:
            record["suggestion"] = self.suggestion_text
        return record


@dataclass(frozen=True)
class CheckContext:
    """What a rule looks at: the plan and the limits."""

    plan: Plan
    limits: ConnectorLimits

    @property
    def command(self) -> Command:
        """The command being checked."""
        return self.plan.command


RuleFunction = Callable[[CheckContext], CheckResult | None]


@dataclass(frozen=True)
class Rule:
    """A named pre-flight rule and the commands it concerns."""

    name: str
    applies_to: tuple[type, ...]
    check: RuleFunction


def _mbps(value: float) -> str:
    return f"{value:,.0f} Mbps"


# ---- the VPC connector --------------------------------------------------------------------------


def check_connector_ready(ctx: CheckContext) -> CheckResult:
    """The connector is READY: not already being created, updated or deleted."""
    state = ctx.plan.before
    assert isinstance(state, ConnectorState)
    if state.state.upper() != "READY":
        return CheckResult(
            "connector-ready",
            "refuse",
            f"{ctx.plan.target.resource} is {state.state}, not READY: another change is in "
            "progress. Wait until it is READY, then plan again.",
        )
    return CheckResult("connector-ready", "pass", f"{ctx.plan.target.resource} is READY")


def check_connector_min_instances(ctx: CheckContext) -> CheckResult | None:
    """min instances ≥ the API's floor (2)."""
    command = ctx.command
    assert isinstance(command, ScaleConnector)
    if command.min_instances is None:
        return None
    floor = ctx.limits.min_instances_floor
    if command.min_instances < floor:
        return CheckResult(
            "connector-min-instances",
            "refuse",
            f"min instances {command.min_instances} is below the API's floor of {floor}: "
            "Google refuses it.",
            ScaleConnector(command.connector, floor, command.max_instances, command.machine_type),
            f"use --min-instances={floor}",
        )
    return CheckResult(
        "connector-min-instances", "pass", f"min instances {command.min_instances} ≥ {floor}"
    )


def _larger_machine_suggestion(
    ctx: CheckContext, command: ScaleConnector, state: ConnectorState
) -> tuple[ScaleConnector | None, str]:
    """Instead of more instances than the API allows: fewer, larger ones carrying as much."""
    limits = ctx.limits
    low, high = limits.max_instances_range
    assert command.max_instances is not None
    # Executors only plan on connectors sized by instances (a read without limits is refused).
    current_min, current_max = state.min_instances or 0, state.max_instances or 0
    machine = command.machine_type or state.machine_type
    per_instance = limits.machine_types.get(machine)
    if per_instance is None:
        return None, ""
    wanted = command.max_instances * per_instance
    for larger in limits.larger_machine_types(machine):
        mbps = limits.machine_types[larger]
        if high * mbps < wanted:
            continue
        min_after = command.min_instances if command.min_instances is not None else current_min
        needed = max(current_max, math.ceil(wanted / mbps), min_after + 1, low)
        new_max = min(high, needed)
        suggestion = ScaleConnector(
            command.connector,
            command.min_instances,
            None if new_max == current_max else new_max,
            larger,
        )
        text = (
            f"use machine type {larger} with max {new_max} instead: about "
            f"{_mbps(new_max * mbps)}, more than the {_mbps(wanted)} that "
            f"{command.max_instances} × {machine} would carry"
        )
        return suggestion, text
    suggestion = ScaleConnector(
        command.connector, command.min_instances, high, command.machine_type
    )
    return suggestion, f"use --max-instances={high}, the API's limit"


def check_connector_max_instances(ctx: CheckContext) -> CheckResult | None:
    """max instances within the API's range (3–10); above it, suggest a larger machine type."""
    command = ctx.command
    state = ctx.plan.before
    assert isinstance(command, ScaleConnector) and isinstance(state, ConnectorState)
    if command.max_instances is None:
        return None
    low, high = ctx.limits.max_instances_range
    if command.max_instances > high:
        suggestion, text = _larger_machine_suggestion(ctx, command, state)
        return CheckResult(
            "connector-max-instances",
            "refuse",
            f"max instances {command.max_instances} is above the API's limit of {high} "
            f"(allowed {low}–{high}): Google refuses it.",
            suggestion,
            text,
        )
    if command.max_instances < low:
        return CheckResult(
            "connector-max-instances",
            "refuse",
            f"max instances {command.max_instances} is below the API's minimum of {low} "
            f"(allowed {low}–{high}): Google refuses it.",
            ScaleConnector(command.connector, command.min_instances, low, command.machine_type),
            f"use --max-instances={low}",
        )
    return CheckResult(
        "connector-max-instances",
        "pass",
        f"max instances {command.max_instances} is within {low}–{high}",
    )


def check_connector_min_below_max(ctx: CheckContext) -> CheckResult | None:
    """min instances < max instances, with the values the connector will have."""
    if not ctx.limits.min_below_max:
        return None
    after = ctx.plan.after
    low, high = after["min_instances"], after["max_instances"]
    if low is None or high is None:  # sized by throughput: the executor refuses to plan it
        return None
    if low >= high:
        return CheckResult(
            "connector-min-below-max",
            "refuse",
            f"min instances ({low}) must be below max instances ({high}): Google refuses it.",
        )
    return CheckResult("connector-min-below-max", "pass", f"min {low} < max {high}")


def check_connector_machine_type(ctx: CheckContext) -> CheckResult | None:
    """The machine type is one a connector may use (f1-micro, e2-micro, e2-standard-4)."""
    command = ctx.command
    assert isinstance(command, ScaleConnector)
    if command.machine_type is None:
        return None
    known = list(ctx.limits.machine_types)
    if command.machine_type not in known:
        return CheckResult(
            "connector-machine-type",
            "refuse",
            f"machine type {command.machine_type!r} is not one a connector can use; "
            f"choose {', '.join(known)}.",
        )
    return CheckResult(
        "connector-machine-type", "pass", f"{command.machine_type} is a connector machine type"
    )


def check_connector_scale_in(ctx: CheckContext) -> CheckResult | None:
    """Lowering a connector (min, max or machine type) warns: connectors do not scale in."""
    if ctx.limits.scales_in:
        return None
    command = ctx.command
    state = ctx.plan.before
    assert isinstance(command, ScaleConnector) and isinstance(state, ConnectorState)
    lowered = []
    for label, asked, now in (
        ("max instances", command.max_instances, state.max_instances),
        ("min instances", command.min_instances, state.min_instances),
    ):
        if asked is not None and now is not None and asked < now:
            lowered.append(f"{label} {now} → {asked}")
    types = ctx.limits.machine_types
    if (
        command.machine_type is not None
        and command.machine_type in types
        and state.machine_type in types
        and types[command.machine_type] < types[state.machine_type]
    ):
        lowered.append(f"machine type {state.machine_type} → {command.machine_type}")
    if not lowered:
        return None
    running = f" ({state.instances} run now)" if state.instances is not None else ""
    return CheckResult(
        "connector-scale-in",
        "warn",
        f"{'; '.join(lowered)}: connectors are reported not to scale in, so the instances "
        f"already running{running} stay; a smaller machine type replaces them one by one "
        "and lowers capacity meanwhile.",
    )


# ---- Cloud Run ----------------------------------------------------------------------------------


def check_service_max_at_least_min(ctx: CheckContext) -> CheckResult | None:
    """Cloud Run: min ≥ 0, max ≥ 1, and max ≥ min with the values the service will have."""
    after = ctx.plan.after
    low, high = after["min_instances"], after["max_instances"]
    if low < 0:
        return CheckResult(
            "service-max-at-least-min", "refuse", f"min instances must be 0 or more, got {low}."
        )
    if high is not None and high < 1:
        return CheckResult(
            "service-max-at-least-min", "refuse", f"max instances must be 1 or more, got {high}."
        )
    if high is not None and high < low:
        return CheckResult(
            "service-max-at-least-min",
            "refuse",
            f"max instances ({high}) must not be below min instances ({low}): Cloud Run "
            "refuses it.",
        )
    shown = "default" if high is None else high
    return CheckResult("service-max-at-least-min", "pass", f"max {shown} ≥ min {low}")


def check_service_max_below_running(ctx: CheckContext) -> CheckResult | None:
    """Cloud Run: a max below the instances running now warns that requests may queue."""
    command = ctx.command
    state = ctx.plan.before
    assert isinstance(command, ScaleService) and isinstance(state, CloudRunServiceState)
    running = state.instances
    if command.max_instances is None or running is None or command.max_instances >= running:
        return None
    return CheckResult(
        "service-max-below-running",
        "warn",
        f"{running} instances run now; max {command.max_instances} caps them, so requests may "
        "queue (latency rises) until load falls.",
    )


def check_revisions_exist_and_ready(ctx: CheckContext) -> CheckResult:
    """Route traffic: every named revision exists and is ready (and LATEST has a ready revision)."""
    command = ctx.command
    state = ctx.plan.before
    assert isinstance(command, RouteTraffic) and isinstance(state, CloudRunServiceState)
    service = ctx.plan.target.resource
    names = ", ".join(short_revision(service, r.name) for r in state.revisions) or "none"
    targets = [LATEST] if command.to_latest else [name for name, _ in command.split]
    for name in targets:
        if name.upper() == LATEST:
            if not state.latest_ready_revision:
                return CheckResult(
                    "revision-exists-and-ready",
                    "refuse",
                    f"{service} has no ready revision for LATEST to point at.",
                )
            continue
        revision = state.revision(name)
        if revision is None:
            return CheckResult(
                "revision-exists-and-ready",
                "refuse",
                f"revision {name!r} does not exist in {service} (revisions: {names}).",
            )
        if not revision.ready:
            return CheckResult(
                "revision-exists-and-ready",
                "refuse",
                f"revision {short_revision(service, revision.name)} is not ready: sending "
                "traffic to it would fail requests.",
            )
    return CheckResult(
        "revision-exists-and-ready", "pass", "every named revision exists and is ready"
    )


def check_split_sums_to_100(ctx: CheckContext) -> CheckResult | None:
    """Route traffic: each percent is 0–100 and together they make 100."""
    command = ctx.command
    assert isinstance(command, RouteTraffic)
    if command.to_latest:
        return None
    for name, percent in command.split:
        if not 0 <= percent <= 100:
            return CheckResult(
                "split-sums-to-100",
                "refuse",
                f"{name}={percent}: a percent must be between 0 and 100.",
            )
    total = sum(percent for _, percent in command.split)
    if total != 100:
        return CheckResult(
            "split-sums-to-100",
            "refuse",
            f"the split sums to {total}%, not 100%: "
            + " + ".join(f"{name} {pct}%" for name, pct in command.split),
        )
    return CheckResult("split-sums-to-100", "pass", "the split sums to 100%")


# ---- every action -------------------------------------------------------------------------------


def check_value_differs(ctx: CheckContext) -> CheckResult:
    """The action changes at least one field: sending a no-op only adds noise to an incident."""
    if not ctx.plan.changed_fields:
        current = "; ".join(c.text() for c in ctx.plan.changes) or "as asked"
        return CheckResult(
            "value-differs",
            "refuse",
            f"nothing would change: {ctx.plan.target.resource} is already {current}.",
        )
    return CheckResult(
        "value-differs",
        "pass",
        f"{len(ctx.plan.changed_fields)} field(s) change",
    )


#: Every rule, in the order its result is shown.
RULES: tuple[Rule, ...] = (
    Rule("connector-ready", (ScaleConnector,), check_connector_ready),
    Rule("connector-min-instances", (ScaleConnector,), check_connector_min_instances),
    Rule("connector-max-instances", (ScaleConnector,), check_connector_max_instances),
    Rule("connector-min-below-max", (ScaleConnector,), check_connector_min_below_max),
    Rule("connector-machine-type", (ScaleConnector,), check_connector_machine_type),
    Rule("connector-scale-in", (ScaleConnector,), check_connector_scale_in),
    Rule("service-max-at-least-min", (ScaleService,), check_service_max_at_least_min),
    Rule("service-max-below-running", (ScaleService,), check_service_max_below_running),
    Rule("revision-exists-and-ready", (RouteTraffic,), check_revisions_exist_and_ready),
    Rule("split-sums-to-100", (RouteTraffic,), check_split_sums_to_100),
    Rule("value-differs", (ScaleConnector, ScaleService, RouteTraffic), check_value_differs),
)


def run_checks(plan: Plan, limits: ConnectorLimits) -> tuple[CheckResult, ...]:
    """Every rule that concerns the plan's command, in ``RULES`` order."""
    ctx = CheckContext(plan, limits)
    results = []
    for rule in RULES:
        if isinstance(plan.command, rule.applies_to):
            result = rule.check(ctx)
            if result is not None:
                results.append(result)
    return tuple(results)


def refusals(results: tuple[CheckResult, ...]) -> tuple[CheckResult, ...]:
    """The results that block the action."""
    return tuple(r for r in results if r.verdict == "refuse")
