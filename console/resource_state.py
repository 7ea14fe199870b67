"""The state of the cloud resources behind the services: ONE model, for everyone who reads it.

``CloudRunServiceState`` (its ``RevisionState``s, the traffic split, the service-level limits and
the service's etag) and ``ConnectorState`` (a Serverless VPC Access connector's state, machine
type and limits). Plain frozen dataclasses: no Google types leak here.

Who builds it:

* from the APIs, ``console.gcp.run_state_source`` (``service_state`` from the Cloud Run
  protobufs, ``connector_state`` from the VPC Access REST JSON), for both the Cloud Run state
  source and the Google action executor;
* in the demo, ``DemoSimulation.resource_state``, for both its source and its action executor.

Who reads it: sources report it in ``Batch.resources`` (keyed by workspace service id); the
session keeps the newest per service (``Session.resources``) for the Resources panel, health
read-outs and the flight recorder (``resource_as_dict`` is the JSON a snapshot stores, read back
by ``console.recorded_resources``); the Monitoring source reads a connector's maximum from the
``ResourceStateCache``. The guarded actions (``console.actions``) read it fresh before planning
and again before sending: ``settings()`` is the before/after of plans and of the audit trail,
``etag`` stops a change over someone else's, and the checks look at ready revisions and running
instances. ``describe_resource`` is its one line for people, everywhere.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

#: The traffic target that follows the newest ready revision (gcloud accepts it as a revision).
LATEST = "LATEST"


def fingerprint(fields: dict[str, Any]) -> str:
    """A short stable hash of ``fields``: an etag for an API (or the demo) that has none."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def short_revision(service: str, revision: str) -> str:
    """``00750-69k`` for ``netra-backend-staging-00750-69k`` of ``netra-backend-staging``."""
    prefix = service + "-"
    return revision[len(prefix) :] if service and revision.startswith(prefix) else revision


@dataclass(frozen=True)
class RevisionState:
    """One Cloud Run revision: its share of traffic, readiness and its own scaling limits."""

    #: The short revision name, e.g. ``netra-backend-staging-00750-69k``.
    name: str
    #: Percent of the service's traffic this revision receives now (0–100).
    percent: int = 0
    #: True when the percent comes from a ``LATEST`` target (follows new deployments).
    via_latest: bool = False
    tag: str = ""
    #: Revision-level scaling (``template.scaling`` when it was created); None when unset.
    min_instances: int | None = None
    max_instances: int | None = None
    #: Its Ready condition succeeded (traffic sent to a revision that is not ready fails).
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
    #: Service-level scaling (``Service.scaling``); None when unset (min then acts as 0, max as
    #: Cloud Run's default).
    min_instances: int | None = None
    max_instances: int | None = None
    latest_ready_revision: str = ""
    latest_created_revision: str = ""
    #: The connector the current template routes egress through (full name or short id).
    connector: str = ""
    #: The full resource name (``projects/P/locations/L/services/S``), empty in the demo.
    full_name: str = ""
    #: For optimistic concurrency: an update carries it and is refused once it changed (the
    #: demo's is a fingerprint of its settings and revisions).
    etag: str = ""
    generation: int = 0
    reconciling: bool = False
    #: When the state was read (epoch seconds); not part of equality, so a re-read that finds
    #: nothing new is not a change.
    observed_at: float = field(default=0.0, compare=False)

    def traffic(self) -> list[tuple[str, int]]:
        """``(revision, percent)`` for every revision with traffic now, largest share first."""
        return [(r.name, r.percent) for r in self.revisions if r.percent > 0]

    @property
    def split(self) -> bool:
        """True when more than one revision receives traffic."""
        return len(self.traffic()) > 1

    def traffic_targets(self) -> dict[str, int]:
        """The traffic as an update sets it: revision → percent, ``LATEST`` for the share that
        follows the latest ready revision."""
        targets: dict[str, int] = {}
        for revision in self.revisions:
            if revision.percent > 0:
                key = LATEST if revision.via_latest else revision.name
                targets[key] = targets.get(key, 0) + revision.percent
        return targets

    def revision(self, name: str) -> RevisionState | None:
        """The revision called ``name`` (full name, or the suffix after the service name)."""
        for revision in self.revisions:
            if revision.name == name or revision.name.endswith("-" + name):
                return revision
        return None

    @property
    def instances(self) -> int | None:
        """Instances running over all revisions, when every revision's count is known."""
        counts = [r.instances for r in self.revisions]
        if not counts or any(c is None for c in counts):
            return None
        return sum(c or 0 for c in counts)

    def settings(self) -> dict[str, Any]:
        """The fields an action may change: the before/after of plans and of the audit."""
        return {
            "min_instances": self.min_instances or 0,
            "max_instances": self.max_instances,
            "traffic": self.traffic_targets(),
        }


@dataclass(frozen=True)
class ConnectorState:
    """A Serverless VPC Access connector: its state, machine type and instance limits."""

    service_id: str
    #: The connector id (``staging-connector``).
    resource: str
    #: ``READY``, ``UPDATING``, ``CREATING``, ``DELETING``, ``ERROR`` (the API's words).
    state: str
    machine_type: str = ""
    #: None for a connector sized by throughput instead of instances.
    min_instances: int | None = None
    max_instances: int | None = None
    #: Instances provisioned now, where the source knows it (the API does not report it here).
    instances: int | None = None
    min_throughput_mbps: int | None = None
    max_throughput_mbps: int | None = None
    full_name: str = ""
    observed_at: float = field(default=0.0, compare=False)

    @property
    def etag(self) -> str:
        """Changes whenever the connector's settings or state change (the API has no etag, so
        the same fingerprint serves the live read, the demo and a recorded state)."""
        return fingerprint(
            {
                "min": self.min_instances,
                "max": self.max_instances,
                "type": self.machine_type,
                "state": self.state,
            }
        )

    def settings(self) -> dict[str, Any]:
        """The fields an action may change: the before/after of plans and of the audit."""
        return {
            "min_instances": self.min_instances,
            "max_instances": self.max_instances,
            "machine_type": self.machine_type,
        }


ResourceState = CloudRunServiceState | ConnectorState
"""What ``Batch.resources`` and ``Session.resources`` hold per service id, and what an action
executor reads."""


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


def _n(value: int | None, unset: str = "–") -> str:
    return unset if value is None else str(value)


def describe_resource(state: ResourceState) -> str:
    """One line for people: ``min 2 · max 10 · e2-micro · 10 running`` (a connector, with its
    state when not READY) or ``min 0 · max 100 · 00749-6tr 50% · 00750-69k 50% · 46 running``
    (a service: its serving split, revisions shortened)."""
    if isinstance(state, ConnectorState):
        parts = [
            f"min {_n(state.min_instances)}",
            f"max {_n(state.max_instances)}",
            state.machine_type or "machine type ?",
        ]
        if state.instances is not None:
            parts.append(f"{state.instances} running")
        if state.state.upper() != "READY":
            parts.append(state.state)
        return " · ".join(parts)
    parts = [
        f"min {_n(state.min_instances, 'default')}",
        f"max {_n(state.max_instances, 'default')}",
    ]
    for revision in state.revisions:
        if revision.percent > 0:
            latest = f" ({LATEST})" if revision.via_latest else ""
            short = short_revision(state.resource, revision.name)
            parts.append(f"{short} {revision.percent}%{latest}")
    if not state.traffic():
        parts.append("no traffic")
    if state.instances is not None:
        parts.append(f"{state.instances} running")
    if state.reconciling:
        parts.append("reconciling")
    return " · ".join(parts)


def resource_as_dict(state: ResourceState) -> dict[str, object]:
    """JSON-ready data: ``status --json``'s ``resources``, and the JSON a snapshot stores in
    ``resource_states`` (its keys are the dataclass fields; keep them, readers rely on them)."""
    kind = "vpc_connector" if isinstance(state, ConnectorState) else "cloud_run"
    data = {"kind": kind, **asdict(state), "summary": describe_resource(state)}
    data.pop("observed_at", None)
    return data
