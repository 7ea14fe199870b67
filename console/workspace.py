"""The workspace: what incident this is, which services take part, how they depend on each other,
the golden path and the health thresholds.

This module holds the typed model only. ``console.workspace_toml`` reads and validates the TOML
file into it; everything else in the engine takes a ``Workspace`` and never re-reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from console.metrics import METRICS_BY_KIND, MetricSpec, ServiceKind

Environment = Literal["staging", "production"]


@dataclass(frozen=True)
class Threshold:
    """Health limits of one metric. Either limit may be absent.

    For a metric where higher is worse, a value at or above ``failing`` fails; at or above
    ``degraded`` degrades. Where lower is worse (probe success) the comparisons flip.
    """

    metric: str
    degraded: float | None = None
    failing: float | None = None


@dataclass(frozen=True)
class Incident:
    """What the banner says: the incident, where it happens, and since when."""

    title: str
    environment: Environment = "staging"
    project: str = ""
    region: str = ""
    reference: str = ""
    #: When the incident started (epoch seconds), if known; the banner shows time since then.
    started_at: float | None = None
    read_only: bool = False


@dataclass(frozen=True)
class Service:
    """One service in the dependency graph."""

    id: str
    name: str
    kind: ServiceKind
    #: The cloud resource name (Cloud Run service, connector, Cloud SQL instance, probe name).
    resource: str
    depends_on: tuple[str, ...] = ()
    #: Per-service thresholds that override the workspace-wide ones, by metric.
    thresholds: dict[str, Threshold] = field(default_factory=dict)

    def metrics(self) -> dict[str, MetricSpec]:
        """The canonical metrics a service of this kind reports."""
        return METRICS_BY_KIND[self.kind]


@dataclass(frozen=True)
class GoldenPathStep:
    """One step of the user journey, carried by one service."""

    service: str
    label: str


@dataclass(frozen=True)
class SimulationSettings:
    """Settings of the embedded demo simulation (present only in demo workspaces)."""

    seed: int = 1278
    #: Seconds of history recorded before the session starts, so charts are full at once.
    history_s: float = 3600.0


@dataclass(frozen=True)
class Workspace:
    """A validated workspace. Services keep the order of the file."""

    incident: Incident
    services: dict[str, Service]
    golden_path: tuple[GoldenPathStep, ...]
    thresholds: dict[str, Threshold] = field(default_factory=dict)
    simulation: SimulationSettings | None = None
    path: Path | None = None

    def threshold(self, service_id: str, metric: str) -> Threshold | None:
        """The threshold that applies to ``metric`` of ``service_id``: its own, else the default."""
        service = self.services[service_id]
        if metric in service.thresholds:
            return service.thresholds[metric]
        if metric in service.metrics():
            return self.thresholds.get(metric)
        return None

    def dependents_of(self, service_id: str) -> list[str]:
        """Services that depend on ``service_id`` directly."""
        return [s.id for s in self.services.values() if service_id in s.depends_on]

    @property
    def is_demo(self) -> bool:
        """True when the workspace runs on the embedded simulation."""
        return self.simulation is not None
