"""The workspace: what incident this is, which services take part, how they depend on each other,
the golden path and the health thresholds; and the incident workflow: synthetic probes, recovery
criteria and escalation timers (``docs/workflow.md``).

This module holds the typed model only. ``console.workspace_toml`` reads and validates the TOML
file into it; everything else in the engine takes a ``Workspace`` and never re-reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from console.metrics import METRICS_BY_KIND, MetricSpec, ServiceKind
from console.sources import SeriesKey

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
class GcpSettings:
    """Where live data comes from on Google Cloud (``[gcp]``; docs/google-cloud.md).

    Endpoints are ``host:port`` / ``https://host`` (TLS) or ``http://127.0.0.1:PORT`` (plaintext,
    loopback only: test fakes, local proxies). ``credentials`` is empty for Application Default
    Credentials or ``keyring:NAME`` for a key imported with ``credentials import``.
    """

    #: Overrides ``[incident] project`` / ``region`` for API calls when set.
    project: str = ""
    region: str = ""
    credentials: str = ""
    #: Seconds between Monitoring polls (its alignment period; data is sampled every 60 s).
    poll_interval_s: float = 60.0
    #: Seconds of Monitoring history read at start, so the charts are full at once.
    backfill_s: float = 3600.0
    monitoring_endpoint: str = "monitoring.googleapis.com:443"
    logging_endpoint: str = "logging.googleapis.com:443"
    run_endpoint: str = "run.googleapis.com:443"
    vpcaccess_endpoint: str = "https://vpcaccess.googleapis.com"


ProbeKind = Literal["http", "golden_path"]
PROBE_KINDS: tuple[ProbeKind, ...] = ("http", "golden_path")

#: The chat agent's events the golden-path probe waits for, in the order they must arrive.
GOLDEN_PATH_EVENTS: tuple[str, ...] = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)

#: What the golden-path probe counts: how many of its expected events arrived in order.
PROBE_EVENTS_SPEC = MetricSpec("probe_events", "count", "Events delivered", higher_is_worse=False)


@dataclass(frozen=True)
class ProbeSpec:
    """One synthetic probe: an HTTP request, or the golden path (login, chat WebSocket, events).

    Secrets (``password``, header values) are ``keyring:NAME`` references, resolved only when
    the probe runs; the file never holds a secret itself.
    """

    id: str
    name: str
    kind: ProbeKind
    interval_s: float = 30.0
    #: The whole run's budget: a probe slower than this fails as "timed out".
    timeout_s: float = 10.0
    #: The service the probe exercises (the demo's simulation answers as that service).
    service: str | None = None
    #: Trust this CA bundle (PEM) for https/wss instead of the system's.
    ca_file: str = ""
    # kind = "http"
    url: str = ""
    method: str = "GET"
    expect_status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # kind = "golden_path"
    login_url: str = ""
    username: str = ""
    password: str = ""
    token_field: str = "access_token"
    websocket_url: str = ""
    message: str = "Golden-path probe: reply with a short answer."
    events: tuple[str, ...] = GOLDEN_PATH_EVENTS

    def metrics(self) -> dict[str, MetricSpec]:
        """The series this probe writes under its id: success, latency (and events)."""
        specs = dict(METRICS_BY_KIND["synthetic"])
        if self.kind == "golden_path":
            specs[PROBE_EVENTS_SPEC.name] = PROBE_EVENTS_SPEC
        return specs

    def secret_references(self) -> dict[str, str]:
        """Every ``keyring:NAME`` this probe uses, by the key that holds it."""
        refs = {f"headers.{k}": v for k, v in self.headers.items() if v.startswith("keyring:")}
        if self.password:
            refs["password"] = self.password
        return refs


Comparison = Literal["<", "<=", ">", ">="]
HealthRequirement = Literal["ok", "not failing"]


@dataclass(frozen=True)
class CriterionSpec:
    """One recovery criterion: a rule over series (or over services' health), held for
    ``sustain_s`` without a single breach before it counts as met."""

    id: str
    title: str
    #: Rule over series: every one of ``series`` compared with its limit (same order).
    series: tuple[SeriesKey, ...] = ()
    comparison: Comparison = "<"
    limits: tuple[float, ...] = ()
    #: ``require`` as written in the file, for people ("< 2 s", "< degraded").
    require: str = ""
    #: Rule over health: every one of ``services`` "ok" (or "not failing") at every sample.
    services: tuple[str, ...] = ()
    health: HealthRequirement | None = None
    sustain_s: float = 0.0


@dataclass(frozen=True)
class EscalationSpec:
    """An escalation timer: at the decision point (``after_s`` from its start), decide."""

    id: str
    title: str
    after_s: float
    #: What to do or check at the decision point.
    detail: str = ""
    #: ``"hand"`` (started from the console), ``"open"`` (when the session opens) or the name of
    #: an action that starts it (``"ScaleConnector"``).
    started_by: str = "hand"
    #: A criterion id: met at the decision point means no escalation is needed.
    unless: str | None = None
    snooze_s: float = 900.0


@dataclass(frozen=True)
class Workspace:
    """A validated workspace. Services keep the order of the file."""

    incident: Incident
    services: dict[str, Service]
    golden_path: tuple[GoldenPathStep, ...]
    thresholds: dict[str, Threshold] = field(default_factory=dict)
    simulation: SimulationSettings | None = None
    path: Path | None = None
    #: Synthetic probes (``[[probes]]``), recovery criteria (``[[criteria]]``) and escalation
    #: timers (``[[escalation]]``), in file order.
    probes: tuple[ProbeSpec, ...] = ()
    criteria: tuple[CriterionSpec, ...] = ()
    escalations: tuple[EscalationSpec, ...] = ()
    #: Live Google Cloud sources (``[gcp]``); None in demo and offline workspaces.
    gcp: GcpSettings | None = None

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
