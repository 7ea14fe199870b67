"""What an action acts on: the target resource, and its state as read fresh from the API.

``Target`` ties a workspace service to its cloud resource (name, project, region, environment).
``ConnectorState`` and ``ServiceState`` are what an executor reads just before planning and again
before sending and after finishing: the settings an action may change, the read-only facts that
checks need (instances running, revisions and whether they are ready) and an ``etag`` that
changes whenever someone changes the resource. ``settings()`` gives the changeable fields as a
plain dict: the before/after of the plan and of the audit trail.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from console.actions.commands import LATEST, CommandError
from console.metrics import ServiceKind
from console.workspace import Environment, Workspace

#: The kinds an action can change, and what each command needs.
ACTIONABLE_KINDS: dict[str, ServiceKind] = {
    "scale-connector": "vpc_connector",
    "scale-service": "cloud_run",
    "route-traffic": "cloud_run",
}
_KIND_WORDS: dict[str, str] = {
    "vpc_connector": "VPC connector",
    "cloud_run": "Cloud Run service",
    "cloud_sql": "Cloud SQL instance",
    "synthetic": "synthetic probe",
}


class UnknownResourceError(CommandError):
    """The command names no resource of the right kind in the workspace (bad input)."""


@dataclass(frozen=True)
class Target:
    """One resource an action changes: the workspace service and where it lives in the cloud."""

    service_id: str
    name: str
    kind: ServiceKind
    #: The cloud resource name (``staging-connector``, ``netra-backend-staging``).
    resource: str
    project: str
    region: str
    environment: Environment

    @property
    def kind_word(self) -> str:
        """``VPC connector`` or ``Cloud Run service``."""
        return _KIND_WORDS.get(self.kind, self.kind)


def resolve_target(workspace: Workspace, ref: str, kind: ServiceKind) -> Target:
    """The target ``ref`` names: a workspace service id or a cloud resource name, of ``kind``.

    Raises ``UnknownResourceError`` with the choices when nothing matches or the kind is wrong.
    """
    service = workspace.services.get(ref)
    if service is None:
        service = next((s for s in workspace.services.values() if s.resource == ref), None)
    choices = [f"{s.id} ({s.resource})" for s in workspace.services.values() if s.kind == kind] or [
        "none in this workspace"
    ]
    if service is None:
        raise UnknownResourceError(
            f"no {_KIND_WORDS[kind]} {ref!r} in the workspace; choose one of: {', '.join(choices)}"
        )
    if service.kind != kind:
        raise UnknownResourceError(
            f"{ref!r} is a {_KIND_WORDS.get(service.kind, service.kind)}, not a "
            f"{_KIND_WORDS[kind]}; choose one of: {', '.join(choices)}"
        )
    incident = workspace.incident
    return Target(
        service.id,
        service.name,
        service.kind,
        service.resource,
        incident.project,
        incident.region,
        incident.environment,
    )


def fingerprint(fields: dict[str, Any]) -> str:
    """A short stable hash of ``fields``: an etag for an API that has none."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ConnectorState:
    """A Serverless VPC Access connector as read from the API."""

    min_instances: int
    max_instances: int
    machine_type: str
    #: Instances running now, when the source knows (the connector API does not say).
    instances: int | None = None
    #: ``READY``, ``UPDATING``, ... (the API's ``state``).
    status: str = "READY"
    #: Changes whenever the connector changes (the API has no etag: a fingerprint of its fields).
    etag: str = ""

    def settings(self) -> dict[str, Any]:
        """The fields an action may change."""
        return {
            "min_instances": self.min_instances,
            "max_instances": self.max_instances,
            "machine_type": self.machine_type,
        }

    def summary(self) -> str:
        """``min 2 · max 10 · e2-micro · 10 running``."""
        text = f"min {self.min_instances} · max {self.max_instances} · {self.machine_type}"
        if self.instances is not None:
            text += f" · {self.instances} running"
        if self.status.upper() != "READY":
            text += f" · {self.status}"
        return text


@dataclass(frozen=True)
class RevisionState:
    """One revision of a Cloud Run service."""

    name: str
    ready: bool
    #: Its share of traffic now (from the service's traffic status), 0–100.
    percent: int
    instances: int | None = None

    def short_name(self, service_resource: str) -> str:
        """The revision without the service prefix: ``00750-69k``."""
        prefix = service_resource + "-"
        return self.name[len(prefix) :] if self.name.startswith(prefix) else self.name


@dataclass(frozen=True)
class ServiceState:
    """A Cloud Run service as read from the API."""

    #: Service-level minimum instances (``Service.scaling.min_instance_count``).
    min_instances: int
    #: Service-level maximum instances; None when unset (Cloud Run's default applies).
    max_instances: int | None
    revisions: tuple[RevisionState, ...]
    #: Traffic targets as configured: revision name (or ``LATEST``) → percent.
    traffic: tuple[tuple[str, int], ...]
    latest_ready_revision: str = ""
    etag: str = ""

    def settings(self) -> dict[str, Any]:
        """The fields an action may change."""
        return {
            "min_instances": self.min_instances,
            "max_instances": self.max_instances,
            "traffic": dict(self.traffic),
        }

    def revision(self, name: str) -> RevisionState | None:
        """The revision called ``name`` (full name, or the suffix after the service name)."""
        for revision in self.revisions:
            if revision.name == name or revision.name.endswith("-" + name):
                return revision
        return None

    @property
    def instances(self) -> int | None:
        """Instances over all revisions, when known."""
        counts = [r.instances for r in self.revisions]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)

    def summary(self, service_resource: str = "") -> str:
        """``min 0 · max 100 · 00749-6tr 50% · 00750-69k 50% · 46 running``."""
        max_text = "default" if self.max_instances is None else str(self.max_instances)
        parts = [f"min {self.min_instances}", f"max {max_text}"]
        for target, percent in self.traffic:
            label = target
            if target != LATEST and service_resource and target.startswith(service_resource + "-"):
                label = target[len(service_resource) + 1 :]
            parts.append(f"{label} {percent}%")
        if self.instances is not None:
            parts.append(f"{self.instances} running")
        return " · ".join(parts)


ResourceState = ConnectorState | ServiceState


def describe_state(target: Target, state: ResourceState) -> str:
    """``min 2 · max 10 · e2-micro · 10 running`` (revisions shortened for a service)."""
    if isinstance(state, ServiceState):
        return state.summary(target.resource)
    return state.summary()
