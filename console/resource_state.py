"""The state of the cloud resources behind the services: Cloud Run revisions and traffic, and
VPC connectors' limits.

Sources report it (``Batch.resources``, keyed by workspace service id): the Cloud Run state
source reads it from the Admin API and the VPC Access REST API, the demo simulation from its
model. The session keeps the newest per service (``Session.resources``) for the window's
resource panel, for health read-outs and for guarded actions (which need the etag and the
current limits before they plan a change). Plain frozen dataclasses: no Google types leak here.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class RevisionState:
    """One Cloud Run revision: its share of traffic and its own scaling limits."""

    #: The short revision name, e.g. ``netra-backend-staging-00750-69k``.
    name: str
    #: Percent of the service's traffic this revision receives (0–100).
    percent: int = 0
    #: True when the percent comes from a ``LATEST`` target (follows new deployments).
    via_latest: bool = False
    tag: str = ""
    #: Revision-level scaling (``template.scaling`` when it was created); None when unset.
    min_instances: int | None = None
    max_instances: int | None = None
    ready: bool = True
    #: Instances running now, where the source knows it (the simulation does; the API does not).
    instances: int | None = None
    created_at: float | None = None


@dataclass(frozen=True)
class CloudRunServiceState:
    """A Cloud Run service: its revisions, the traffic split and the service-level limits."""

    service_id: str
    #: The Cloud Run service name (``netra-backend-staging``).
    resource: str
    #: Revisions that receive traffic first (largest share first), then the others, newest first.
    revisions: tuple[RevisionState, ...]
    #: Service-level scaling (``Service.scaling``); None when unset.
    min_instances: int | None = None
    max_instances: int | None = None
    latest_ready_revision: str = ""
    latest_created_revision: str = ""
    #: The connector the current template routes egress through (full name or short id).
    connector: str = ""
    #: The full resource name (``projects/P/locations/L/services/S``), empty in the demo.
    full_name: str = ""
    #: For optimistic concurrency: an update must carry this etag (empty in the demo).
    etag: str = ""
    generation: int = 0
    reconciling: bool = False
    #: When the state was read (epoch seconds); not part of equality, so a re-read that finds
    #: nothing new is not a change.
    observed_at: float = field(default=0.0, compare=False)

    def traffic(self) -> list[tuple[str, int]]:
        """``(revision, percent)`` for every revision with traffic, largest share first."""
        return [(r.name, r.percent) for r in self.revisions if r.percent > 0]

    @property
    def split(self) -> bool:
        """True when more than one revision receives traffic."""
        return len(self.traffic()) > 1


@dataclass(frozen=True)
class ConnectorState:
    """A Serverless VPC Access connector: its state, machine type and instance limits."""

    service_id: str
    #: The connector id (``staging-connector``).
    resource: str
    #: ``READY``, ``UPDATING``, ``CREATING``, ``DELETING``, ``ERROR`` (the API's words).
    state: str
    machine_type: str = ""
    min_instances: int | None = None
    max_instances: int | None = None
    #: Instances provisioned now, where the source knows it (the API does not report it here).
    instances: int | None = None
    min_throughput_mbps: int | None = None
    max_throughput_mbps: int | None = None
    full_name: str = ""
    observed_at: float = field(default=0.0, compare=False)


ResourceState = CloudRunServiceState | ConnectorState
"""What ``Batch.resources`` and ``Session.resources`` hold per service id."""


def sort_revisions(revisions: list[RevisionState]) -> tuple[RevisionState, ...]:
    """Revisions with traffic first (largest share first, then by name: older first), then the
    rest newest first."""
    with_traffic = sorted(
        (r for r in revisions if r.percent > 0), key=lambda r: (-r.percent, r.name)
    )
    others = sorted(
        (r for r in revisions if r.percent <= 0),
        key=lambda r: (r.created_at or 0.0, r.name),
        reverse=True,
    )
    return tuple(with_traffic + others)


class ResourceStateCache:
    """The newest resource state per service id, shared between sources on worker threads.

    The Cloud Run state source writes it; the Monitoring source reads a connector's configured
    maximum from it to compute ``saturation``. Thread-safe; holds only the newest state.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, ResourceState] = {}

    def update(self, states: dict[str, ResourceState]) -> None:
        """Replace the states of these service ids."""
        with self._lock:
            self._states.update(states)

    def get(self, service_id: str) -> ResourceState | None:
        """The newest state of ``service_id``, or None before the first read."""
        with self._lock:
            return self._states.get(service_id)


def short_revision(service: str, revision: str) -> str:
    """``00750-69k`` for ``netra-backend-staging-00750-69k`` of ``netra-backend-staging``."""
    prefix = service + "-"
    return revision[len(prefix) :] if service and revision.startswith(prefix) else revision


def _limits(low: int | None, high: int | None) -> str:
    return f"min {'–' if low is None else low} max {'–' if high is None else high}"


def describe_resource(state: ResourceState) -> str:
    """One line for people: ``00749-6tr 50% · 00750-69k 50% · min 1 max 50`` (a service) or
    ``READY · e2-micro · min 2 max 10 · 10 running`` (a connector)."""
    if isinstance(state, ConnectorState):
        parts = [state.state, state.machine_type or "machine type ?"]
        parts.append(_limits(state.min_instances, state.max_instances))
        if state.instances is not None:
            parts.append(f"{state.instances} running")
        return " · ".join(parts)
    parts = [
        f"{short_revision(state.resource, name)} {percent}%" for name, percent in state.traffic()
    ] or ["no traffic"]
    parts.append(_limits(state.min_instances, state.max_instances))
    if state.reconciling:
        parts.append("reconciling")
    return " · ".join(parts)


def resource_as_dict(state: ResourceState) -> dict[str, object]:
    """JSON-ready data (``status --json``'s ``resources``)."""
    kind = "vpc_connector" if isinstance(state, ConnectorState) else "cloud_run"
    data = {"kind": kind, **asdict(state), "summary": describe_resource(state)}
    data.pop("observed_at", None)
    return data
