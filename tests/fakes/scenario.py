"""The seed incident served by the fakes: data, and a workspace TOML pointing at them.

``FakeCloud`` starts all four fakes at once; ``seed_incident`` fills them with the staging
incident of the seed report (Backend split 50/50 over revisions 00749-6tr and 00750-69k, the
connector at its maximum of 10 instances, 503s from Auth and Backend), with numbers a test can
check by hand; ``workspace_toml`` / ``incident_workspace`` make a workspace whose ``[gcp]``
endpoints are the fakes.
``extra_services`` adds more Cloud Run services (call counting for 30 services).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from console.workspace import Workspace
from console.workspace_toml import parse_workspace
from tests.fakes.fake_cloud_run import FakeCloudRun, FakeRevision
from tests.fakes.fake_logging import FakeLogging, run_request_entry
from tests.fakes.fake_monitoring import FakeMonitoring
from tests.fakes.fake_vpcaccess import FakeVpcAccess

PROJECT = "netra-staging"
REGION = "us-central1"
CONNECTOR = "staging-connector"
#: Cloud Run services of the incident: workspace id → (service name, revisions, traffic split).
RUN_SERVICES: dict[str, tuple[str, tuple[str, ...], tuple[int, ...]]] = {
    "frontend": ("netra-frontend-staging", ("netra-frontend-staging-00311-abc",), (100,)),
    "auth": ("netra-auth-service", ("netra-auth-service-00412-q2w",), (100,)),
    "backend": (
        "netra-backend-staging",
        ("netra-backend-staging-00749-6tr", "netra-backend-staging-00750-69k"),
        (50, 50),
    ),
}
#: Requests per minute per revision, and 5xx among them, per service.
REQUESTS_PER_MIN = {"frontend": (120, 0), "auth": (60, 9), "backend": (90, 18)}
#: Every request of a minute takes this long (ms), so percentiles are easy to check.
LATENCY_MS = {"frontend": 180.0, "auth": 4000.0, "backend": 7200.0}


@dataclass
class FakeCloud:
    """All four fakes, started and stopped together."""

    monitoring: FakeMonitoring = field(default_factory=FakeMonitoring)
    logging: FakeLogging = field(default_factory=FakeLogging)
    run: FakeCloudRun = field(default_factory=FakeCloudRun)
    vpcaccess: FakeVpcAccess = field(default_factory=FakeVpcAccess)

    def __enter__(self) -> FakeCloud:
        self.monitoring.start()
        self.logging.start()
        self.run.start()
        self.vpcaccess.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for fake in (self.monitoring, self.logging, self.run):
            fake.stop()
        self.vpcaccess.stop()

    def endpoints(self) -> dict[str, str]:
        """The ``[gcp.endpoints]`` of these fakes."""
        return {
            "monitoring": f"http://{self.monitoring.address}",
            "logging": f"http://{self.logging.address}",
            "run": f"http://{self.run.address}",
            "vpcaccess": self.vpcaccess.base_url,
        }


def extra_service_ids(count: int) -> list[str]:
    """Ids of ``count`` additional Cloud Run services (``svc-01`` ...)."""
    return [f"svc-{i:02d}" for i in range(1, count + 1)]


def incident_services(
    extra_services: int = 0,
) -> dict[str, tuple[str, tuple[str, ...], tuple[int, ...], tuple[int, int], float]]:
    """Per Cloud Run service id: name, revisions, split, (requests, 5xx) per minute, latency."""
    services = {
        sid: (resource, revisions, split, REQUESTS_PER_MIN[sid], LATENCY_MS[sid])
        for sid, (resource, revisions, split) in RUN_SERVICES.items()
    }
    for sid in extra_service_ids(extra_services):
        services[sid] = (f"extra-{sid}", (f"extra-{sid}-00001-aaa",), (100,), (30, 0), 100.0)
    return services


def seed_monitoring(
    monitoring: FakeMonitoring, now: float, *, minutes: int = 20, extra_services: int = 0
) -> None:
    """``minutes`` of the incident's metrics ending at ``now`` (raw, per revision)."""
    times = [now - 60.0 * i - 30.0 for i in range(minutes)]
    for sid, (resource, revisions, _, (per_min, errors), latency) in incident_services(
        extra_services
    ).items():
        for revision in revisions:
            labels = {"service_name": resource, "revision_name": revision, "location": REGION}
            for cls, count in (("2xx", per_min - errors), ("5xx", errors)):
                monitoring.add_series(
                    "run.googleapis.com/request_count",
                    "cloud_run_revision",
                    labels,
                    [(t, count) for t in times],
                    metric_labels={"response_code_class": cls},
                    kind="DELTA",
                    value_type="INT64",
                )
            monitoring.add_series(
                "run.googleapis.com/request_latencies",
                "cloud_run_revision",
                labels,
                [(t, [latency] * 20) for t in times],
                kind="DELTA",
                value_type="DISTRIBUTION",
            )
            for state, count in (("active", 23 if sid == "backend" else 3), ("idle", 1)):
                monitoring.add_series(
                    "run.googleapis.com/container/instance_count",
                    "cloud_run_revision",
                    labels,
                    [(t, count) for t in times],
                    metric_labels={"state": state},
                    value_type="INT64",
                )
            for metric, value in (("cpu", 0.42), ("memory", 0.61)):
                monitoring.add_series(
                    f"run.googleapis.com/container/{metric}/utilizations",
                    "cloud_run_revision",
                    labels,
                    [(t, [value] * 4) for t in times],
                    kind="DELTA",
                    value_type="DISTRIBUTION",
                )
    connector = {"connector_name": CONNECTOR, "location": REGION}
    for metric, per_min in (("sent_bytes_count", 6_000_000), ("received_bytes_count", 12_000_000)):
        monitoring.add_series(
            f"vpcaccess.googleapis.com/connector/{metric}",
            "vpc_access_connector",
            connector,
            [(t, per_min) for t in times],
            kind="DELTA",
            value_type="INT64",
        )
    monitoring.add_series(
        "vpcaccess.googleapis.com/connector/instances",
        "vpc_access_connector",
        connector,
        [(t, 10) for t in times],
        value_type="INT64",
    )
    monitoring.add_series(
        "vpcaccess.googleapis.com/connector/cpu/utilizations",
        "vpc_access_connector",
        connector,
        [(t, [0.96, 0.98]) for t in times],
        value_type="DISTRIBUTION",
    )
    database = {"database_id": f"{PROJECT}:netra-staging-db"}
    for metric, value in (("cpu/utilization", 0.88), ("memory/utilization", 0.7)):
        monitoring.add_series(
            f"cloudsql.googleapis.com/database/{metric}",
            "cloudsql_database",
            database,
            [(t, value) for t in times],
        )
    monitoring.add_series(
        "cloudsql.googleapis.com/database/postgresql/num_backends",
        "cloudsql_database",
        database,
        [(t, 95) for t in times],
        value_type="INT64",
    )


def seed_run(run: FakeCloudRun, *, extra_services: int = 0) -> None:
    """The incident's Cloud Run services with their revisions and traffic split."""
    for sid, (resource, revisions, split, _, _) in incident_services(extra_services).items():
        run.add_service(
            resource,
            [FakeRevision(name, 1, 20) for name in revisions],
            list(zip(revisions, split, strict=True)),
            min_instances=1,
            max_instances=50 if sid == "backend" else 20,
            connector=f"projects/{PROJECT}/locations/{REGION}/connectors/{CONNECTOR}",
        )


def seed_vpcaccess(vpcaccess: FakeVpcAccess) -> None:
    """The staging connector: min 2, max 10, e2-micro."""
    vpcaccess.add_connector(CONNECTOR, min_instances=2, max_instances=10)


def failing_request_entries(now: float, *, minutes: int = 10) -> list[object]:
    """Auth's and Backend's 503s of the last ``minutes`` (9 and 18 per minute)."""
    services = incident_services()
    entries = []
    for minute in range(minutes):
        for sid in ("auth", "backend"):
            resource, revisions, _, (_, errors), latency = services[sid]
            for n in range(errors):
                entries.append(
                    run_request_entry(
                        project=PROJECT,
                        service=resource,
                        revision=revisions[n % len(revisions)],
                        status=503,
                        latency_ms=latency,
                        t=now - 60.0 * minute - 1.0 - n,
                        insert_id=f"{sid}-{minute}-{n}",
                        message="upstream connect error: connection timeout (VPC connector)",
                    )
                )
    return entries


def seed_incident(
    cloud: FakeCloud, now: float, *, minutes: int = 20, extra_services: int = 0
) -> None:
    """Fill every fake with the incident: ``minutes`` of metrics ending at ``now``, the services
    and connector, and the last ten minutes of failing requests in the logs."""
    seed_monitoring(cloud.monitoring, now, minutes=minutes, extra_services=extra_services)
    seed_run(cloud.run, extra_services=extra_services)
    seed_vpcaccess(cloud.vpcaccess)
    cloud.logging.add_entries(failing_request_entries(now, minutes=min(minutes, 10)))


def workspace_toml(
    endpoints: dict[str, str], *, extra_services: int = 0, backfill: str = "20m", gcp: str = ""
) -> str:
    """A workspace with the incident's services and ``[gcp]`` with these endpoints (the fakes'
    ``FakeCloud.endpoints()``, or some of them); ``gcp`` adds lines to the ``[gcp]`` table."""
    lines = [
        "[incident]",
        'title = "Golden path blocked: VPC connector capacity exhausted"',
        f'project = "{PROJECT}"',
        f'region = "{REGION}"',
        "",
        "[gcp]",
        f'backfill = "{backfill}"',
        gcp,
        "",
        "[gcp.endpoints]",
        *(f'{api} = "{address}"' for api, address in endpoints.items()),
        "",
    ]
    services = [
        ("frontend", "Frontend", "cloud_run", "netra-frontend-staging", []),
        ("auth", "Auth", "cloud_run", "netra-auth-service", ["connector", "database"]),
        ("backend", "Backend", "cloud_run", "netra-backend-staging", ["auth", "connector"]),
        ("connector", "VPC connector", "vpc_connector", CONNECTOR, []),
        ("database", "Cloud SQL", "cloud_sql", f"{PROJECT}:netra-staging-db", []),
    ]
    services += [
        (sid, sid, "cloud_run", f"extra-{sid}", []) for sid in extra_service_ids(extra_services)
    ]
    for sid, name, kind, resource, deps in services:
        lines += [
            "[[services]]",
            f'id = "{sid}"',
            f'name = "{name}"',
            f'kind = "{kind}"',
            f'resource = "{resource}"',
            f"depends_on = {deps!r}".replace("'", '"'),
            "",
        ]
    lines += [
        "[golden_path]",
        "steps = [",
        '  { service = "frontend", label = "Open app" },',
        '  { service = "auth", label = "Login" },',
        '  { service = "backend", label = "API" },',
        "]",
        "",
        "[thresholds]",
        'latency_p95_ms = { degraded = "1 s", failing = "2 s" }',
        'error_ratio = { degraded = "1%", failing = "5%" }',
        'saturation = { degraded = "80%", failing = "95%" }',
    ]
    return "\n".join(lines) + "\n"


def write_workspace(path: Path, endpoints: dict[str, str], **options: object) -> Path:
    """Write ``workspace_toml`` to ``path``."""
    path.write_text(workspace_toml(endpoints, **options), encoding="utf-8")  # type: ignore[arg-type]
    return path


def incident_workspace(endpoints: dict[str, str], **options: object) -> Workspace:
    """``workspace_toml`` parsed into a ``Workspace``."""
    return parse_workspace(workspace_toml(endpoints, **options))  # type: ignore[arg-type]
