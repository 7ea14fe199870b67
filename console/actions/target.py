"""What an action is addressed to: the target resource, named by the operator.

``Target`` ties a workspace service to its cloud resource (name, kind, project, region,
environment); ``resolve_target`` finds it from what a command names (a workspace service id or a
cloud resource name) and refuses, with the choices, what the workspace does not have. The
resource's *state* (limits, revisions, etag) is not here: executors read it fresh as a
``console.resource_state`` state, the same model the sources report.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.actions.commands import CommandError
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
