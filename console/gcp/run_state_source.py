"""Cloud Run and VPC connector state as a source: revisions, traffic split and instance limits.

``service_state`` and ``connector_state`` turn what the APIs return into the one model of
resource state (``console.resource_state``); the Google action executor reads through them too,
so a plan's "before" is the state the Resources panel shows.

Each poll reads, for the workspace's region:

* ``ListServices`` once (all pages) for every Cloud Run service, then ``ListRevisions`` per
  workspace service (its newest revisions: their own min/max instances and readiness) when the
  service changed since the last read (a new generation or revision); revisions themselves are
  immutable. The
  traffic split comes from the service's ``traffic_statuses`` (what serves now), a ``LATEST``
  target resolved to the latest ready revision.
* ``GET v1/{connector}`` (VPC Access REST, the Python client cannot update it and has nothing
  more to read) for every connector: state, machine type, min/max instances.

The result travels as ``Batch.resources`` (``console.resource_state``) and is written to the
shared ``ResourceStateCache`` the Monitoring source reads a connector's maximum from. Errors
become the status (``unauthorized`` naming roles/run.viewer or roles/vpcaccess.viewer, ``quota``,
``error``); what was read before the failure is still delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.gcp.clients import (
    RETRY_DEADLINE_S,
    RPC_TIMEOUT_S,
    VpcAccessRest,
    describe_api_error,
    unary_retry,
    worst_problem,
)
from console.gcp.credentials import CredentialsError
from console.resource_state import (
    CloudRunServiceState,
    ConnectorState,
    ResourceStateCache,
    RevisionState,
    sort_revisions,
)
from console.sources import Batch, SourceStatus
from console.workspace import GcpSettings, Workspace

if TYPE_CHECKING:
    from google.cloud.run_v2 import RevisionsClient, ServicesClient

#: Seconds between reads (traffic and limits change by deployments and actions, not by the second).
POLL_INTERVAL_S = 30.0
#: Revisions without traffic shown per service besides those with traffic (newest first).
IDLE_REVISIONS_SHOWN = 3
REVISIONS_PAGE_SIZE = 20

RunClients = tuple["ServicesClient", "RevisionsClient"]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _seconds(ts: Any) -> float | None:
    return ts.seconds + ts.nanos / 1e9 if ts.seconds or ts.nanos else None


def service_state(
    service_id: str,
    service_pb: Any,
    revisions_pb: list[Any],
    observed_at: float,
    *,
    idle_revisions_shown: int | None = IDLE_REVISIONS_SHOWN,
) -> CloudRunServiceState:
    """A ``CloudRunServiceState`` from the raw ``Service`` and its ``Revision`` protobufs
    (newest first, as ``ListRevisions`` returns them).

    Revisions without traffic beyond ``idle_revisions_shown`` are left out (None keeps every
    one: an action routing traffic back to an older revision must find it).
    """
    from google.cloud import run_v2

    latest_type = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST.value
    succeeded = run_v2.Condition.State.CONDITION_SUCCEEDED.value
    short = service_pb.name.rsplit("/", 1)[-1]
    latest_ready = service_pb.latest_ready_revision.rsplit("/", 1)[-1]
    targets = service_pb.traffic_statuses or service_pb.traffic
    percents: dict[str, int] = {}
    via_latest: set[str] = set()
    tags: dict[str, str] = {}
    for target in targets:
        name = target.revision.rsplit("/", 1)[-1]
        if target.type_ == latest_type or not name:
            name = latest_ready
            via_latest.add(name)
        if not name:
            continue
        percents[name] = percents.get(name, 0) + target.percent
        if target.tag:
            tags[name] = target.tag
    revisions: list[RevisionState] = []
    known: set[str] = set()
    idle = 0
    for revision in revisions_pb:  # newest first
        name = revision.name.rsplit("/", 1)[-1]
        known.add(name)
        percent = percents.get(name, 0)
        if percent <= 0:
            if idle_revisions_shown is not None and idle >= idle_revisions_shown:
                continue
            idle += 1
        ready = any(c.type_ == "Ready" and c.state == succeeded for c in revision.conditions)
        revisions.append(
            RevisionState(
                name=name,
                percent=percent,
                via_latest=name in via_latest,
                tag=tags.get(name, ""),
                min_instances=revision.scaling.min_instance_count,
                max_instances=revision.scaling.max_instance_count or None,
                ready=ready,
                created_at=_seconds(revision.create_time),
            )
        )
    for name, percent in percents.items():  # traffic to a revision the list did not return
        if name not in known:
            revisions.append(RevisionState(name, percent, name in via_latest, tags.get(name, "")))
    scaling = service_pb.scaling
    return CloudRunServiceState(
        service_id=service_id,
        resource=short,
        revisions=sort_revisions(revisions),
        min_instances=scaling.min_instance_count if service_pb.HasField("scaling") else None,
        max_instances=(scaling.max_instance_count or None)
        if service_pb.HasField("scaling")
        else None,
        latest_ready_revision=latest_ready,
        latest_created_revision=service_pb.latest_created_revision.rsplit("/", 1)[-1],
        connector=service_pb.template.vpc_access.connector,
        full_name=service_pb.name,
        etag=service_pb.etag,
        generation=service_pb.generation,
        reconciling=service_pb.reconciling,
        observed_at=observed_at,
    )


def connector_state(service_id: str, body: dict[str, Any], observed_at: float) -> ConnectorState:
    """A ``ConnectorState`` from the REST ``Connector`` JSON (the sources' read and the
    actions')."""

    def number(key: str) -> int | None:
        value = body.get(key)
        return int(value) if isinstance(value, int | float | str) and str(value).isdigit() else None

    name = str(body.get("name", ""))
    return ConnectorState(
        service_id=service_id,
        resource=name.rsplit("/", 1)[-1],
        state=str(body.get("state", "STATE_UNSPECIFIED")),
        machine_type=str(body.get("machineType", "")),
        min_instances=number("minInstances"),
        max_instances=number("maxInstances"),
        min_throughput_mbps=number("minThroughput"),
        max_throughput_mbps=number("maxThroughput"),
        full_name=name,
        observed_at=observed_at,
    )


class RunStateSource:
    """Revisions, traffic and limits of Cloud Run services; state and limits of connectors."""

    name = "cloud-run"
    interval_s = POLL_INTERVAL_S
    expected_delay_s = 0.0

    def __init__(
        self,
        workspace: Workspace,
        settings: GcpSettings,
        run_clients_factory: Callable[[], RunClients],
        vpcaccess_factory: Callable[[], VpcAccessRest],
        cache: ResourceStateCache | None = None,
        *,
        rpc_timeout_s: float = RPC_TIMEOUT_S,
        retry_deadline_s: float = RETRY_DEADLINE_S,
    ) -> None:
        self.rpc_timeout_s = rpc_timeout_s
        self.retry_deadline_s = retry_deadline_s
        self.project = settings.project or workspace.incident.project
        self.region = settings.region or workspace.incident.region
        self.cache = cache
        self._run_factory = run_clients_factory
        self._vpc_factory = vpcaccess_factory
        self._run: RunClients | None = None
        self._closed = False
        #: Per service id, its revisions as last listed and the (generation, latest created and
        #: ready revisions) they belong to: revisions are immutable, so they are listed again only
        #: when the service changed (one ListServices call per poll in the steady state).
        self._revisions: dict[str, tuple[tuple[int, str, str], list[Any]]] = {}
        self._vpc: VpcAccessRest | None = None
        self.services = {
            s.id: s.resource for s in workspace.services.values() if s.kind == "cloud_run"
        }
        self.connectors = {
            s.id: s.resource for s in workspace.services.values() if s.kind == "vpc_connector"
        }

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    def connector_name(self, connector: str) -> str:
        """The connector's full name (a workspace may give the full name or only its id)."""
        if connector.startswith("projects/"):
            return connector
        return f"{self.parent}/connectors/{connector}"

    def poll(self, now: float) -> Batch:
        batch = Batch(self.name)
        if self._closed:
            batch.status = SourceStatus(self.name, "stopped", "closed", self.expected_delay_s)
            return batch
        problems: list[tuple[str, str]] = []
        try:
            if self.services:
                self._read_services(batch, now, problems)
            if self.connectors:
                self._read_connectors(batch, now, problems)
        except CredentialsError as exc:
            problems.append(("unauthorized", str(exc)))
        if self.cache is not None and batch.resources:
            self.cache.update(batch.resources)
        if problems:
            state = worst_problem(problems)[0]
            message = "; ".join(dict.fromkeys(p[1] for p in problems))
        else:
            state = "ok"
            parts = []
            if self.services:
                parts.append(_count(len(self.services), "Cloud Run service"))
            if self.connectors:
                parts.append(_count(len(self.connectors), "connector"))
            message = f"{' and '.join(parts) or 'nothing'} read every {self.interval_s:g} s"
        batch.status = SourceStatus(self.name, state, message, self.expected_delay_s)  # type: ignore[arg-type]
        return batch

    def _read_services(self, batch: Batch, now: float, problems: list[tuple[str, str]]) -> None:
        from google.cloud import run_v2

        if self._run is None and not self._closed:
            self._run = self._run_factory()
        run = self._run  # close() on another thread may clear it
        if run is None:
            return
        services_client, revisions_client = run
        try:
            pager = services_client.list_services(
                request=run_v2.ListServicesRequest(parent=self.parent, page_size=100),
                retry=unary_retry(self.retry_deadline_s),
                timeout=self.rpc_timeout_s,
            )
            found = {s.name.rsplit("/", 1)[-1]: run_v2.Service.pb(s) for s in pager}
        except Exception as exc:  # every API failure is data
            problems.append(describe_api_error(exc, "run"))
            return
        for service_id, resource in self.services.items():
            service_pb = found.get(resource)
            if service_pb is None:
                problems.append(
                    ("error", f"run: no Cloud Run service {resource!r} in {self.parent}")
                )
                continue
            changed_by = (
                service_pb.generation,
                service_pb.latest_created_revision,
                service_pb.latest_ready_revision,
            )
            cached = self._revisions.get(service_id)
            if cached is not None and cached[0] == changed_by:
                revisions_pb = cached[1]
                batch.resources[service_id] = service_state(
                    service_id, service_pb, revisions_pb, now
                )
                continue
            try:
                revisions = revisions_client.list_revisions(
                    request=run_v2.ListRevisionsRequest(
                        parent=service_pb.name, page_size=REVISIONS_PAGE_SIZE
                    ),
                    retry=unary_retry(self.retry_deadline_s),
                    timeout=self.rpc_timeout_s,
                )
                first_page = next(iter(revisions.pages))
                revisions_pb = [run_v2.Revision.pb(r) for r in first_page.revisions]
                self._revisions[service_id] = (changed_by, revisions_pb)
            except Exception as exc:  # every API failure is data
                problems.append(describe_api_error(exc, "run"))
                revisions_pb = []
            batch.resources[service_id] = service_state(service_id, service_pb, revisions_pb, now)

    def _read_connectors(self, batch: Batch, now: float, problems: list[tuple[str, str]]) -> None:
        if self._vpc is None and not self._closed:
            self._vpc = self._vpc_factory()
        vpc = self._vpc  # close() on another thread may clear it
        if vpc is None:
            return
        for service_id, connector in self.connectors.items():
            try:
                body = vpc.get_connector(self.connector_name(connector))
            except Exception as exc:  # every API failure is data
                problems.append(describe_api_error(exc, "vpcaccess"))
                continue
            batch.resources[service_id] = connector_state(service_id, body, now)

    def close(self) -> None:
        self._closed = True
        run, self._run = self._run, None
        if run is not None:
            run[0].transport.close()
            run[1].transport.close()
        vpc, self._vpc = self._vpc, None
        if vpc is not None:
            vpc.close()
