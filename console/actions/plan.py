"""The plan of an action: what changes (before → after per field), who is affected, and the gcloud
command that does the same.

``build_plan`` is pure: it takes the command, its target and the state an executor has just read
(a ``console.resource_state`` state, with its etag), and returns a ``Plan`` whose before/after
are the state's ``settings()``. The blast radius comes from the workspace's dependency
graph (every service that depends on the resource, directly or not) and its golden path (the
steps those services carry). The gcloud equivalent is there to be copied into a terminal or a
post-incident report; it names the project and region of the workspace.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from console.actions.commands import Command, RouteTraffic, ScaleConnector, ScaleService
from console.actions.target import Target
from console.resource_state import (
    LATEST,
    CloudRunServiceState,
    ConnectorState,
    ResourceState,
    short_revision,
)
from console.workspace import Workspace

#: How each changeable field is named on screen.
FIELD_LABELS = {
    "min_instances": "min instances",
    "max_instances": "max instances",
    "machine_type": "machine type",
}


@dataclass(frozen=True)
class FieldChange:
    """One field of the resource before and after the action."""

    field: str
    label: str
    before: Any
    after: Any

    @property
    def changed(self) -> bool:
        """True when the action changes this field."""
        return self.before != self.after

    def text(self) -> str:
        """``max instances: 10 → 15`` (or ``machine type: e2-micro (unchanged)``)."""
        before = "default" if self.before is None else self.before
        after = "default" if self.after is None else self.after
        if not self.changed:
            return f"{self.label}: {before} (unchanged)"
        return f"{self.label}: {before} → {after}"


@dataclass(frozen=True)
class BlastRadius:
    """What depends on the resource: services (itself first) and golden-path steps."""

    services: tuple[str, ...]
    service_names: tuple[str, ...]
    steps: tuple[str, ...]

    def text(self) -> str:
        """``VPC connector, Auth, Backend, WebSocket, Chat AI · golden path: Login, API, …``."""
        text = ", ".join(self.service_names)
        if self.steps:
            text += " · golden path: " + ", ".join(self.steps)
        else:
            text += " · no golden-path step"
        return text


@dataclass(frozen=True)
class Plan:
    """What an action will do to its target, read fresh at ``read_at``."""

    command: Command
    target: Target
    before: ResourceState
    #: The changeable fields after the action (the same keys as ``before.settings()``).
    after: dict[str, Any]
    changes: tuple[FieldChange, ...]
    blast_radius: BlastRadius
    gcloud: str
    read_at: float

    @property
    def etag(self) -> str:
        """The resource's etag when it was read for this plan."""
        return self.before.etag

    @property
    def changed_fields(self) -> tuple[FieldChange, ...]:
        """Only the fields the action changes."""
        return tuple(c for c in self.changes if c.changed)


def blast_radius(workspace: Workspace, service_id: str) -> BlastRadius:
    """``service_id`` and every service that depends on it, and the golden-path steps they carry."""
    affected = [service_id]
    frontier = [service_id]
    while frontier:
        current = frontier.pop(0)
        for dependent in workspace.dependents_of(current):
            if dependent not in affected:
                affected.append(dependent)
                frontier.append(dependent)
    order = list(workspace.services)
    ordered = [service_id, *sorted(affected[1:], key=order.index)]
    steps = tuple(step.label for step in workspace.golden_path if step.service in affected)
    names = tuple(workspace.services[sid].name for sid in ordered)
    return BlastRadius(tuple(ordered), names, steps)


def resolve_split(
    state: CloudRunServiceState, split: tuple[tuple[str, int], ...]
) -> dict[str, int]:
    """The split with revision suffixes expanded to full names (unknown names kept as given)."""
    resolved: dict[str, int] = {}
    for name, percent in split:
        if name.upper() == LATEST:
            resolved[LATEST] = percent
            continue
        revision = state.revision(name)
        resolved[revision.name if revision else name] = percent
    return resolved


def planned_settings(command: Command, before: ResourceState) -> dict[str, Any]:
    """The changeable fields of the resource once ``command`` has been applied to ``before``."""
    after = before.settings()
    if isinstance(command, ScaleConnector | ScaleService):
        after.update(command.arguments())
    elif isinstance(command, RouteTraffic):
        assert isinstance(before, CloudRunServiceState)
        after["traffic"] = (
            {LATEST: 100} if command.to_latest else resolve_split(before, command.split)
        )
    return after


def _field_changes(
    before: dict[str, Any], after: dict[str, Any], service_resource: str
) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for key, old in before.items():
        new = after[key]
        if key != "traffic":
            changes.append(FieldChange(key, FIELD_LABELS.get(key, key), old, new))
            continue
        names = list(dict.fromkeys([*old, *new]))
        for name in names:
            label = f"traffic to {short_revision(service_resource, name)}"
            changes.append(
                FieldChange(
                    f"traffic.{name}", label, f"{old.get(name, 0)}%", f"{new.get(name, 0)}%"
                )
            )
    return changes


def gcloud_command(command: Command, target: Target, after: dict[str, Any]) -> str:
    """The gcloud command line that asks for the same change."""
    location = []
    if target.region:
        location.append(f"--region={target.region}")
    if target.project:
        location.append(f"--project={target.project}")
    if isinstance(command, ScaleConnector):
        words = [
            "gcloud",
            "compute",
            "networks",
            "vpc-access",
            "connectors",
            "update",
            target.resource,
            *location,
        ]
        if command.min_instances is not None:
            words.append(f"--min-instances={command.min_instances}")
        if command.max_instances is not None:
            words.append(f"--max-instances={command.max_instances}")
        if command.machine_type is not None:
            words.append(f"--machine-type={command.machine_type}")
    elif isinstance(command, ScaleService):
        # --min/--max set the SERVICE-level limits; --min-instances would set the revision's.
        words = ["gcloud", "run", "services", "update", target.resource, *location]
        if command.min_instances is not None:
            words.append(f"--min={command.min_instances}")
        if command.max_instances is not None:
            words.append(f"--max={command.max_instances}")
    else:
        words = ["gcloud", "run", "services", "update-traffic", target.resource, *location]
        if command.to_latest:
            words.append("--to-latest")
        else:
            split = ",".join(f"{rev}={pct}" for rev, pct in after["traffic"].items())
            words.append(f"--to-revisions={split}")
    return " ".join(shlex.quote(word) for word in words)


def build_plan(
    command: Command, target: Target, state: ResourceState, workspace: Workspace, now: float
) -> Plan:
    """The plan of ``command`` on ``target`` whose current state is ``state`` (read at ``now``)."""
    if isinstance(command, ScaleConnector) != isinstance(state, ConnectorState):
        raise TypeError(f"{command.name} cannot act on a {type(state).__name__}")
    after = planned_settings(command, state)
    changes = _field_changes(state.settings(), after, target.resource)
    if isinstance(command, ScaleService):
        changes = [c for c in changes if not c.field.startswith("traffic")]
    if isinstance(command, RouteTraffic):
        changes = [c for c in changes if c.field.startswith("traffic")]
    return Plan(
        command,
        target,
        state,
        after,
        tuple(changes),
        blast_radius(workspace, target.service_id),
        gcloud_command(command, target, after),
        now,
    )
