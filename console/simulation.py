"""The demo simulation as a data source, with a small control interface for guarded actions.

``DemoSimulation`` speaks the ``Source`` protocol (``console.sources``): each ``poll(now)``
returns every 1-second sample since the previous poll up to ``floor(now)``; the first poll also
returns the workspace's ``history_s`` of history ending at ``start``, in which the incident of the
seed report begins (revision 00750-69k deployed beside 00749-6tr, the VPC connector saturating).
The numbers come from ``console.simulation_model``; ``docs/simulation.md`` describes both.

Controls (``scale_connector``, ``route_traffic``, ``scale_service``) check their arguments the way
the real APIs do, raise ``SimulatedApiError`` when Google would refuse, and otherwise take effect
at simulated time ``at`` and evolve from there (connectors add or replace one instance per 30 s,
drained revisions shed instances over minutes). ``poll`` and the controls may be called from
different threads; one lock serialises them. Time only ever comes from the arguments.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections.abc import Mapping

import numpy as np

from console.metrics import METRICS_BY_KIND, ServiceKind
from console.minute_counts import MinuteCounts
from console.resource_state import (
    LATEST,
    CloudRunServiceState,
    ConnectorState,
    ResourceState,
    RevisionState,
    fingerprint,
    sort_revisions,
)
from console.simulation_model import (
    CLOUD_RUN_MAX_INSTANCES_LIMIT,
    CONNECTOR_MAX_INSTANCES_RANGE,
    CONNECTOR_MIN_INSTANCES_FLOOR,
    MACHINE_TYPE_CAPACITY,
    ONSET_LEAD_S,
    ROLES,
    ConnectorSettings,
    IncidentModel,
    ModelOutput,
    Revision,
    Role,
    ServiceSettings,
    SimulatedApiError,
    concat_outputs,
)
from console.sources import Batch, SourceStatus
from console.workspace import SimulationSettings, Workspace

__all__ = [
    "ConnectorSettings",
    "DemoSimulation",
    "Revision",
    "ServiceSettings",
    "SimulatedApiError",
]

#: Simulated seconds run before anything is recorded, so the first sample is already steady.
WARMUP_S = 900
#: The model always starts at least this long before the onset, whatever the history length.
MIN_PRE_ONSET_S = 600

_ROLE_KINDS: dict[Role, ServiceKind] = {
    "frontend": "cloud_run",
    "auth": "cloud_run",
    "backend": "cloud_run",
    "websocket": "synthetic",
    "chat": "synthetic",
    "connector": "vpc_connector",
    "database": "cloud_sql",
}
_CLOUD_RUN_ROLES: tuple[Role, ...] = ("frontend", "auth", "backend")


class DemoSimulation:
    """The seed incident, simulated: a deterministic ``Source`` with scaling and traffic controls.

    The same ``seed`` and ``start`` give the same samples whatever the poll schedule.
    """

    name = "simulation"
    interval_s = 1.0
    expected_delay_s = 0.0

    def __init__(self, workspace: Workspace, start: float, seed: int | None = None) -> None:
        settings = workspace.simulation or SimulationSettings()
        self.workspace = workspace
        self.seed = int(settings.seed if seed is None else seed)
        self.history_s = max(0, round(settings.history_s))
        self.start = float(start)
        start_second = math.floor(self.start)
        self._roles = _assign_roles(workspace)
        self._bystanders = [sid for sid in workspace.services if sid not in self._roles.values()]
        onset = start_second - ONSET_LEAD_S
        first_recorded = start_second - self.history_s + 1
        origin = min(first_recorded, onset - MIN_PRE_ONSET_S) - WARMUP_S
        resources = {role: workspace.services[sid].resource for role, sid in self._roles.items()}
        resources = {**_DEFAULT_RESOURCES, **resources}
        self._model = IncidentModel(self.seed, origin, onset, resources, self._roles)
        self._lock = threading.Lock()
        self._closed = False

        before_start = self._model.advance(start_second)
        self.onset_at = float(onset)
        #: When the golden path first broke (simulated time, inside the history).
        self.incident_started_at = self._first_golden_path_break(before_start, onset)
        self._pending: ModelOutput | None = _slice_from(before_start, first_recorded)
        #: The newest value of every metric by service id (what the demo's probes are answered by).
        self._latest: dict[str, dict[str, float]] = {}
        self._remember_latest(before_start)

        c = self._model.connector
        self._connector_config = (c.min_instances, c.max_instances, c.machine_type)
        self._service_config: dict[Role, tuple[int, int, dict[str, int]]] = {}
        for role in _CLOUD_RUN_ROLES:
            state = self._model.run[role]
            split = {
                name: round(100 * share)
                for name, share in zip(state.revision_names(), state.target_shares, strict=True)
            }
            self._service_config[role] = (state.min_instances, state.max_instances, split)
        #: Services whose traffic was last sent to ``LATEST`` (reported as following it).
        self._follows_latest: set[Role] = set()
        #: The demo's 5xx per whole minute, counted as the Logging source counts log lines.
        self._minute_counts = MinuteCounts(
            sid for sid, s in workspace.services.items() if s.kind == "cloud_run"
        )

    # ---- Source protocol ------------------------------------------------------------------------

    def poll(self, now: float) -> Batch:
        """Every second since the last poll up to ``floor(now)``; the first poll adds history."""
        batch = Batch(self.name)
        with self._lock:
            if self._closed:
                batch.status = SourceStatus(self.name, "stopped", "simulation closed", 0.0)
                return batch
            output = self._model.advance(math.floor(now))
            if self._pending is not None:
                output = concat_outputs([self._pending, output])
                self._pending = None
            self._remember_latest(output)
            resources = self._resource_states(now)
        self._fill(batch, output)
        batch.resources = resources
        batch.status = SourceStatus(self.name, "ok", "demo simulation", self.expected_delay_s)
        return batch

    def close(self) -> None:
        """Stop producing data; later polls report the source as stopped."""
        with self._lock:
            self._closed = True
            self._pending = None

    # ---- controls: the VPC connector ------------------------------------------------------------

    def connector_settings(self, connector_id: str) -> ConnectorSettings:
        """The connector's configured limits and machine type, and its instances right now."""
        with self._lock:
            self._require_role(connector_id, "connector")
            min_i, max_i, machine_type = self._connector_config
            return ConnectorSettings(min_i, max_i, machine_type, self._model.connector.instances)

    def scale_connector(
        self,
        connector_id: str,
        *,
        min_instances: int | None = None,
        max_instances: int | None = None,
        machine_type: str | None = None,
        at: float,
    ) -> ConnectorSettings:
        """Change the connector's limits or machine type, as the Serverless VPC Access API would.

        Refused (``SimulatedApiError``, INVALID_ARGUMENT) unless min ≥ 2, 3 ≤ max ≤ 10, min < max
        and the machine type is f1-micro, e2-micro or e2-standard-4. The connector never scales
        in; a new machine type replaces one instance every 30 s.
        """
        with self._lock:
            self._require_role(connector_id, "connector")
            old_min, old_max, old_type = self._connector_config
            if min_instances is None and max_instances is None and machine_type is None:
                raise SimulatedApiError(
                    "INVALID_ARGUMENT", "update_mask is empty: nothing to update on the connector"
                )
            new_min = old_min if min_instances is None else _integer("min_instances", min_instances)
            new_max = old_max if max_instances is None else _integer("max_instances", max_instances)
            new_type = old_type if machine_type is None else machine_type
            _check_connector_limits(new_min, new_max, new_type)
            self._connector_config = (new_min, new_max, new_type)
            self._model.schedule_connector(new_min, new_max, new_type, math.ceil(at))
            return ConnectorSettings(new_min, new_max, new_type, self._model.connector.instances)

    # ---- resource state (what the demo's action executor reads) ---------------------------------

    def resource_state(self, service_id: str, now: float) -> ResourceState:
        """The state of the Cloud Run service or connector ``service_id``, as ``poll`` reports it
        in ``Batch.resources``. Raises ``SimulatedApiError`` (NOT_FOUND) for another service."""
        with self._lock:
            return self._resource_state(service_id, now)

    # ---- controls: Cloud Run services -----------------------------------------------------------

    def service_settings(self, service_id: str) -> ServiceSettings:
        """The service's scaling limits and its revisions with traffic and instances."""
        with self._lock:
            role = self._cloud_run_role(service_id)
            return self._service_settings(role)

    def route_traffic(
        self, service_id: str, split: Mapping[str, int], *, at: float, validate_only: bool = False
    ) -> None:
        """Send ``split`` (revision name → percent, summing to 100) of traffic to revisions.

        ``LATEST`` names the latest ready revision and is reported as such (``via_latest``) until
        the next split. Revisions left out get 0 %; their instances drain over a few minutes.
        ``validate_only`` checks the request like Cloud Run's dry run and changes nothing.
        """
        with self._lock:
            role = self._cloud_run_role(service_id)
            state = self._model.run[role]
            names = state.revision_names()
            if not split:
                raise SimulatedApiError("INVALID_ARGUMENT", "traffic: at least one target needed")
            for name, percent in split.items():
                if name not in names and name != LATEST:
                    raise SimulatedApiError(
                        "INVALID_ARGUMENT",
                        f'Revision "{name}" does not exist in service '
                        f'"{state.resource}" (revisions: {", ".join(names)})',
                    )
                value = _integer(f"traffic[{name}].percent", percent)
                if not 0 <= value <= 100:
                    raise SimulatedApiError(
                        "INVALID_ARGUMENT",
                        f"traffic[{name}].percent must be between 0 and 100, got {value}",
                    )
            total = sum(int(p) for p in split.values())
            if total != 100:
                raise SimulatedApiError(
                    "INVALID_ARGUMENT", f"Traffic percentages must add up to 100, got {total}"
                )
            if validate_only:
                return
            new_split = {name: int(split.get(name, 0)) for name in names}
            new_split[names[-1]] += int(split.get(LATEST, 0))  # every demo revision is ready
            if LATEST in split:
                self._follows_latest.add(role)
            else:
                self._follows_latest.discard(role)
            min_i, max_i, _ = self._service_config[role]
            self._service_config[role] = (min_i, max_i, new_split)
            self._model.schedule_traffic(role, new_split, math.ceil(at))

    def scale_service(
        self,
        service_id: str,
        *,
        min_instances: int | None = None,
        max_instances: int | None = None,
        at: float,
        validate_only: bool = False,
    ) -> ServiceSettings:
        """Set the service-level instance limits (Cloud Run ``Service.scaling``).

        ``max_instances`` caps every revision together: fewer instances hold fewer connections
        through the connector, but too few make requests queue. ``validate_only`` checks the
        request like Cloud Run's dry run and changes nothing.
        """
        with self._lock:
            role = self._cloud_run_role(service_id)
            old_min, old_max, split = self._service_config[role]
            if min_instances is None and max_instances is None:
                raise SimulatedApiError("INVALID_ARGUMENT", "nothing to update on the service")
            new_min = old_min if min_instances is None else _integer("min_instances", min_instances)
            new_max = old_max if max_instances is None else _integer("max_instances", max_instances)
            if new_min < 0:
                raise SimulatedApiError(
                    "INVALID_ARGUMENT", f"scaling.min_instance_count must be >= 0, got {new_min}"
                )
            if not 1 <= new_max <= CLOUD_RUN_MAX_INSTANCES_LIMIT:
                raise SimulatedApiError(
                    "INVALID_ARGUMENT",
                    f"scaling.max_instance_count must be between 1 and "
                    f"{CLOUD_RUN_MAX_INSTANCES_LIMIT}, got {new_max}",
                )
            if new_min > new_max:
                raise SimulatedApiError(
                    "INVALID_ARGUMENT",
                    f"scaling.min_instance_count ({new_min}) must not exceed "
                    f"scaling.max_instance_count ({new_max})",
                )
            if validate_only:
                return self._service_settings(role)
            self._service_config[role] = (new_min, new_max, split)
            self._model.schedule_service_scaling(role, new_min, new_max, math.ceil(at))
            return self._service_settings(role)

    # ---- inspection (tests, diagnostics, the demo's probes) -------------------------------------

    def latest_values(self, service_id: str) -> dict[str, float]:
        """The newest simulated value of each metric of ``service_id`` ({} before any)."""
        with self._lock:
            return dict(self._latest.get(service_id, {}))

    def role_services(self) -> dict[str, str]:
        """Which service id plays each part of the incident ("auth" → "auth", …)."""
        return dict(self._roles)

    def _remember_latest(self, output: ModelOutput) -> None:
        if len(output.timestamps) == 0:
            return
        for role, service_id in self._roles.items():
            self._latest[service_id] = {m: float(v[-1]) for m, v in output.series[role].items()}

    def buffer_sizes(self) -> dict[str, int]:
        """Sizes of the model's internal buffers; none grows with simulated time."""
        with self._lock:
            sizes = self._model.buffer_sizes()
            sizes["pending_history"] = 0 if self._pending is None else len(self._pending.timestamps)
            return sizes

    # ---- internals ------------------------------------------------------------------------------

    def _service_settings(self, role: Role) -> ServiceSettings:
        state = self._model.run[role]
        min_i, max_i, split = self._service_config[role]
        revisions = tuple(
            Revision(name, split.get(name, 0), round(instances), True)
            for name, instances in zip(state.revision_names(), state.instances, strict=True)
        )
        return ServiceSettings(min_i, max_i, revisions)

    def _require_role(self, service_id: str, role: Role) -> None:
        if self._roles.get(role) != service_id:
            raise SimulatedApiError("NOT_FOUND", f"{_ROLE_KINDS[role]} {service_id!r} not found")

    def _cloud_run_role(self, service_id: str) -> Role:
        for role in _CLOUD_RUN_ROLES:
            if self._roles.get(role) == service_id:
                return role
        raise SimulatedApiError("NOT_FOUND", f"Cloud Run service {service_id!r} not found")

    def _fill(self, batch: Batch, output: ModelOutput) -> None:
        timestamps = output.timestamps
        if len(timestamps) == 0:
            return
        for role, service_id in self._roles.items():
            metrics = output.series[role]
            for metric in self.workspace.services[service_id].metrics():
                if metric in metrics:  # the log-derived counts are made below
                    batch.add((service_id, metric), timestamps, metrics[metric])
        for service_id in self._bystanders:
            kind = self.workspace.services[service_id].kind
            for metric, values in _bystander_series(kind, service_id, timestamps).items():
                batch.add((service_id, metric), timestamps, values)
        batch.logs.extend(output.logs)
        counts = self._minute_counts
        for service_id in counts.keys:
            errors = batch.samples.get((service_id, "errors_5xx_per_s"))
            if errors is not None:  # a rate over the second ending at t: a count in that second
                counts.add_many(service_id, errors[0] - 0.5, errors[1])
        counts.observed(float(timestamps[0]) - 1.0, float(timestamps[-1]))
        for service_id, (times, values) in counts.release(float(timestamps[-1])).items():
            batch.add((service_id, "errors_5xx_per_min_logs"), times, values)

    def _resource_states(self, now: float) -> dict[str, ResourceState]:
        """The state of every Cloud Run service and the connector (called with the lock held)."""
        service_ids = [self._roles.get(role) for role in (*_CLOUD_RUN_ROLES, "connector")]
        return {sid: self._resource_state(sid, now) for sid in service_ids if sid is not None}

    def _resource_state(self, service_id: str, now: float) -> ResourceState:
        """The demo's revisions, traffic split and limits, or its connector, as the Cloud Run
        state source reports them from the API (called with the lock held)."""
        if self._roles.get("connector") == service_id:
            min_i, max_i, machine_type = self._connector_config
            return ConnectorState(
                service_id=service_id,
                resource=self.workspace.services[service_id].resource,
                state="READY",
                machine_type=machine_type,
                min_instances=min_i,
                max_instances=max_i,
                instances=self._model.connector.instances,
                observed_at=now,
            )
        role = self._cloud_run_role(service_id)
        settings = self._service_settings(role)
        latest_ready = next((r.name for r in reversed(settings.revisions) if r.ready), "")
        follows_latest = role in self._follows_latest
        revisions = [
            RevisionState(
                r.name,
                r.traffic_percent,
                via_latest=follows_latest and r.name == latest_ready,
                ready=r.ready,
                instances=r.instances,
            )
            for r in settings.revisions
        ]
        # The simulation has no etag: a fingerprint of what an update may change, and of the
        # revisions (a new one changes it), but not of the instances (they move every second).
        etag = fingerprint(
            {
                "min": settings.min_instances,
                "max": settings.max_instances,
                "revisions": [(r.name, r.traffic_percent, r.ready) for r in settings.revisions],
                "latest": follows_latest,
            }
        )
        return CloudRunServiceState(
            service_id=service_id,
            resource=self._model.run[role].resource,
            revisions=sort_revisions(revisions),
            min_instances=settings.min_instances,
            max_instances=settings.max_instances,
            latest_ready_revision=latest_ready,
            etag=etag,
            observed_at=now,
        )

    def _first_golden_path_break(self, output: ModelOutput, onset: int) -> float:
        """The first second at or after the onset when a service the golden path relies on fails
        by the workspace's thresholds (the path is then broken: failing or blocked)."""
        watched: set[str] = set()
        stack = [step.service for step in self.workspace.golden_path]
        while stack:
            sid = stack.pop()
            if sid not in watched:
                watched.add(sid)
                stack.extend(self.workspace.services[sid].depends_on)
        timestamps = output.timestamps
        failing = np.zeros(len(timestamps), dtype=bool)
        for role, sid in self._roles.items():
            if sid not in watched:
                continue
            for metric, spec in self.workspace.services[sid].metrics().items():
                threshold = self.workspace.threshold(sid, metric)
                if threshold is None or threshold.failing is None:
                    continue
                if metric not in output.series[role]:
                    continue  # counted per minute, not part of the model's output
                values = output.series[role][metric]
                if spec.higher_is_worse:
                    failing |= values >= threshold.failing
                else:
                    failing |= values <= threshold.failing
        failing &= timestamps >= onset
        hits = np.flatnonzero(failing)
        return float(timestamps[hits[0]]) if len(hits) else float(onset)


_DEFAULT_RESOURCES: dict[Role, str] = {
    "frontend": "netra-frontend-staging",
    "auth": "netra-auth-service",
    "backend": "netra-backend-staging",
    "websocket": "websocket-connect",
    "chat": "chat-agent-events",
    "connector": "staging-connector",
    "database": "netra-staging-db",
}


def _assign_roles(workspace: Workspace) -> dict[Role, str]:
    """Which workspace service plays which part of the incident: by id, else the first service
    of the right kind whose id or resource names the role (connector and database: of the kind).
    Services left over are simulated as healthy bystanders."""
    roles: dict[Role, str] = {}
    taken: set[str] = set()
    for role in ROLES:
        service = workspace.services.get(role)
        if service is not None and service.kind == _ROLE_KINDS[role]:
            roles[role] = role
            taken.add(role)
    for role in ROLES:
        if role in roles:
            continue
        for sid, service in workspace.services.items():
            if sid in taken or service.kind != _ROLE_KINDS[role]:
                continue
            named = role in sid.lower() or role in service.resource.lower()
            if named or role in ("connector", "database"):
                roles[role] = sid
                taken.add(sid)
                break
    return roles


#: Healthy levels of a service the incident does not touch, by kind and metric.
_BYSTANDER_LEVELS: dict[ServiceKind, dict[str, float]] = {
    "cloud_run": {
        "requests_per_s": 4.0,
        "errors_5xx_per_s": 0.0,
        "error_ratio": 0.0,
        "latency_p50_ms": 110.0,
        "latency_p95_ms": 230.0,
        "latency_p99_ms": 320.0,
        "instances_active": 2.0,
        "instances_idle": 1.0,
        "cpu_utilization": 0.2,
        "memory_utilization": 0.35,
    },
    "vpc_connector": {
        "throughput_sent_bps": 4.0e6,
        "throughput_received_bps": 6.0e6,
        "instances": 3.0,
        "cpu_utilization": 0.3,
        "saturation": 0.3,
    },
    "cloud_sql": {"cpu_utilization": 0.35, "memory_utilization": 0.5, "connections": 40.0},
    "synthetic": {"probe_success": 1.0, "probe_latency_ms": 350.0},
}
#: Bystander metrics that hold still: counts, and zero errors or full probe success.
_STEADY_METRICS = {
    "instances_active",
    "instances_idle",
    "instances",
    "connections",
    "errors_5xx_per_s",
    "error_ratio",
    "probe_success",
}


def _bystander_series(
    kind: ServiceKind, service_id: str, timestamps: np.ndarray
) -> dict[str, np.ndarray]:
    """Healthy, gently wavering series for a service outside the incident: a triangle wave of
    time in exact arithmetic, so it is as schedule-independent as the rest."""
    phase = (zlib.crc32(service_id.encode()) % 1000) / 1000.0
    wave = 4.0 * np.abs(np.mod(timestamps / 600.0 + phase, 1.0) - 0.5) - 1.0
    series: dict[str, np.ndarray] = {}
    for metric in METRICS_BY_KIND[kind]:
        if metric not in _BYSTANDER_LEVELS[kind]:
            continue  # counted per minute in ``_fill``, not sampled per second
        level = _BYSTANDER_LEVELS[kind][metric]
        if metric in _STEADY_METRICS:
            series[metric] = np.full(len(timestamps), level)
        else:
            series[metric] = level * (1.0 + 0.05 * wave)
    return series


def _slice_from(output: ModelOutput, first: int) -> ModelOutput:
    """The part of ``output`` from simulated second ``first`` on."""
    keep = output.timestamps >= first
    return ModelOutput(
        output.timestamps[keep],
        {role: {m: v[keep] for m, v in metrics.items()} for role, metrics in output.series.items()},
        [entry for entry in output.logs if entry.t >= first - 1],
    )


def _integer(field_name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SimulatedApiError(
            "INVALID_ARGUMENT", f"Invalid value for {field_name}: {value!r} is not an integer"
        )
    return value


def _check_connector_limits(min_instances: int, max_instances: int, machine_type: str) -> None:
    """Raise like Google does for a connector configuration it refuses."""
    if machine_type not in MACHINE_TYPE_CAPACITY:
        allowed = ", ".join(MACHINE_TYPE_CAPACITY)
        raise SimulatedApiError(
            "INVALID_ARGUMENT",
            f'Invalid value for field "connector.machine_type": "{machine_type}". '
            f"Supported machine types: {allowed}",
        )
    if min_instances < CONNECTOR_MIN_INSTANCES_FLOOR:
        raise SimulatedApiError(
            "INVALID_ARGUMENT",
            f'Invalid value for field "connector.min_instances": {min_instances}. '
            f"Min instances must be at least {CONNECTOR_MIN_INSTANCES_FLOOR}",
        )
    low, high = CONNECTOR_MAX_INSTANCES_RANGE
    if not low <= max_instances <= high:
        raise SimulatedApiError(
            "INVALID_ARGUMENT",
            f'Invalid value for field "connector.max_instances": {max_instances}. '
            f"Max instances must be between {low} and {high}",
        )
    if min_instances >= max_instances:
        raise SimulatedApiError(
            "INVALID_ARGUMENT",
            f"Min instances ({min_instances}) must be lower than max instances ({max_instances})",
        )
