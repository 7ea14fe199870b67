"""The Cloud Run state source (Admin API v2 over gRPC, VPC Access over REST) against the fakes,
and the fakes' own behaviour where guarded actions rely on it (dry run, etag, operations, limits).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.api_core import exceptions
from google.cloud import run_v2

from console.actions.google_executor import GoogleExecutor
from console.actions.target import resolve_target
from console.gcp.clients import (
    VpcAccessRest,
    VpcAccessRestError,
    build_run_clients,
    describe_api_error,
)
from console.gcp.run_state_source import RunStateSource
from console.resource_state import (
    CloudRunServiceState,
    ConnectorState,
    ResourceStateCache,
    describe_resource,
)
from tests.fakes.fake_cloud_run import FakeCloudRun, FakeRevision
from tests.fakes.fake_vpcaccess import FakeVpcAccess
from tests.fakes.scenario import CONNECTOR, incident_workspace, seed_run, seed_vpcaccess

NOW = 1_764_000_000.0
OLD, NEW = "netra-backend-staging-00749-6tr", "netra-backend-staging-00750-69k"


@pytest.fixture
def run() -> Iterator[FakeCloudRun]:
    with FakeCloudRun() as server:
        yield server


@pytest.fixture
def vpc() -> Iterator[FakeVpcAccess]:
    with FakeVpcAccess() as server:
        yield server


@pytest.fixture
def make_source(run: FakeCloudRun, vpc: FakeVpcAccess) -> Iterator:
    made: list[RunStateSource] = []

    def make(cache: ResourceStateCache | None = None) -> RunStateSource:
        workspace = incident_workspace({"run": f"http://{run.address}", "vpcaccess": vpc.base_url})
        settings = workspace.gcp
        assert settings is not None
        source = RunStateSource(
            workspace,
            settings,
            lambda: build_run_clients(settings.run_endpoint, None),
            lambda: VpcAccessRest(settings.vpcaccess_endpoint, None, timeout_s=2.0),
            cache,
            rpc_timeout_s=2.0,
            retry_deadline_s=0.5,
        )
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


def test_revisions_traffic_split_and_limits(
    run: FakeCloudRun, vpc: FakeVpcAccess, make_source
) -> None:
    seed_run(run)
    seed_vpcaccess(vpc)
    cache = ResourceStateCache()
    batch = make_source(cache).poll(NOW)
    assert batch.status is not None and batch.status.state == "ok", batch.status
    backend = batch.resources["backend"]
    assert isinstance(backend, CloudRunServiceState)
    assert backend.resource == "netra-backend-staging"
    assert backend.traffic() == [(OLD, 50), (NEW, 50)]
    assert backend.split
    assert (backend.min_instances, backend.max_instances) == (1, 50)
    assert [(r.name, r.min_instances, r.max_instances, r.ready) for r in backend.revisions] == [
        (OLD, 1, 20, True),
        (NEW, 1, 20, True),
    ]
    assert backend.etag and backend.full_name == run.service_name("netra-backend-staging")
    assert backend.connector.endswith(f"/connectors/{CONNECTOR}")
    assert describe_resource(backend) == "min 1 · max 50 · 00749-6tr 50% · 00750-69k 50%"
    frontend = batch.resources["frontend"]
    assert isinstance(frontend, CloudRunServiceState) and not frontend.split
    connector = batch.resources["connector"]
    assert isinstance(connector, ConnectorState)
    assert (connector.state, connector.machine_type) == ("READY", "e2-micro")
    assert (connector.min_instances, connector.max_instances) == (2, 10)
    assert cache.get("connector") == connector
    assert run.calls["ListServices"] == 1 and run.calls["ListRevisions"] == 3
    assert vpc.calls["GetConnector"] == 1


def test_latest_traffic_resolves_to_the_latest_ready_revision(
    run: FakeCloudRun, make_source
) -> None:
    run.add_service(
        "netra-backend-staging",
        [
            FakeRevision(OLD, 0, 10),
            FakeRevision(NEW, 2, 30),
            FakeRevision("netra-backend-staging-00751-x9z", 0, 10, ready=False),
        ],
        [(OLD, 10), (None, 90)],
    )
    batch = make_source().poll(NOW)
    backend = batch.resources["backend"]
    assert isinstance(backend, CloudRunServiceState)
    assert backend.latest_ready_revision == NEW
    assert backend.traffic() == [(NEW, 90), (OLD, 10)]
    by_name = {r.name: r for r in backend.revisions}
    assert by_name[NEW].via_latest and not by_name[OLD].via_latest
    assert not by_name["netra-backend-staging-00751-x9z"].ready
    assert backend.min_instances is None  # no service-level scaling set
    # Other services of the workspace are missing from this fake: said, not hidden.
    assert batch.status is not None and batch.status.state == "error"
    assert "no Cloud Run service 'netra-auth-service'" in batch.status.message


def test_a_change_made_through_the_api_shows_at_the_next_poll(
    run: FakeCloudRun, vpc: FakeVpcAccess, make_source
) -> None:
    seed_run(run)
    seed_vpcaccess(vpc)
    source = make_source()
    before = source.poll(NOW).resources["backend"]
    run.reset_counts()
    source.poll(NOW + 15)  # nothing changed: one ListServices call, revisions not listed again
    assert run.calls == {"ListServices": 1}
    run.reset_counts()
    services, _ = build_run_clients(f"http://{run.address}", None)
    service = services.get_service(name=run.service_name("netra-backend-staging"), timeout=5)
    service.traffic = [
        run_v2.TrafficTarget(
            type_=run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION,
            revision=NEW,
            percent=100,
        )
    ]
    services.update_service(request={"service": service}, timeout=5).result(timeout=5)
    after = source.poll(NOW + 30).resources["backend"]
    assert isinstance(after, CloudRunServiceState) and isinstance(before, CloudRunServiceState)
    assert after.traffic() == [(NEW, 100)] and not after.split
    assert after.etag != before.etag and after.generation == before.generation + 1
    assert run.calls["ListRevisions"] == 1  # only the service that changed


def test_the_action_executor_reads_the_state_the_source_reports(
    run: FakeCloudRun, vpc: FakeVpcAccess, make_source
) -> None:
    """One model of resource state: what the Resources panel shows is a plan's "before"; the
    executor only keeps every revision (a rollback may name an old one)."""
    idle = [f"netra-backend-staging-0074{n}-old" for n in range(5)]
    run.add_service(
        "netra-backend-staging",
        [*(FakeRevision(name, 0, 10) for name in idle), FakeRevision(OLD, 1, 20)],
        [(None, 100)],
        min_instances=1,
        max_instances=50,
    )
    seed_vpcaccess(vpc)
    workspace = incident_workspace({"run": f"http://{run.address}", "vpcaccess": vpc.base_url})
    reported = make_source().poll(NOW).resources
    executor = GoogleExecutor(
        lambda: build_run_clients(f"http://{run.address}", None),
        lambda: VpcAccessRest(vpc.base_url, None, timeout_s=2.0),
        project=workspace.incident.project,
        region=workspace.incident.region,
        identity="test",
        rpc_timeout_s=2.0,
    )
    try:
        connector = executor.read(resolve_target(workspace, "connector", "vpc_connector"))
        backend = executor.read(resolve_target(workspace, "backend", "cloud_run"))
    finally:
        executor.close()
    assert connector == reported["connector"] and connector.etag == reported["connector"].etag
    shown = reported["backend"]
    assert isinstance(backend, CloudRunServiceState) and isinstance(shown, CloudRunServiceState)
    assert len(shown.revisions) == 1 + 3 and len(backend.revisions) == 1 + 5
    assert backend.revisions[: len(shown.revisions)] == shown.revisions
    assert backend.etag == shown.etag and backend.traffic() == shown.traffic() == [(OLD, 100)]
    # Traffic that follows LATEST stays LATEST in the before-state (the revert sends it back).
    assert backend.settings() == {
        "min_instances": 1,
        "max_instances": 50,
        "traffic": {"LATEST": 100},
    }
    assert describe_resource(backend) == "min 1 · max 50 · 00749-6tr 100% (LATEST)"


@pytest.mark.parametrize(
    ("where", "code", "state", "words"),
    [
        ("run", "PERMISSION_DENIED", "unauthorized", "roles/run.viewer"),
        ("run", "UNAVAILABLE", "error", "unavailable"),
        ("vpc", "PERMISSION_DENIED", "unauthorized", "roles/vpcaccess.viewer"),
        ("vpc", "RESOURCE_EXHAUSTED", "quota", "quota exhausted"),
    ],
)
def test_faults_become_the_status_and_what_was_read_is_kept(
    run: FakeCloudRun,
    vpc: FakeVpcAccess,
    make_source,
    where: str,
    code: str,
    state: str,
    words: str,
) -> None:
    seed_run(run)
    seed_vpcaccess(vpc)
    if where == "run":
        run.faults.fail("ListServices", code, times=-1, message="fake fault")
    else:
        vpc.faults.fail("GetConnector", code, times=-1, message="fake fault")
    batch = make_source().poll(NOW)
    assert batch.status is not None and batch.status.state == state
    assert words in batch.status.message
    kept = {"connector"} if where == "run" else {"frontend", "auth", "backend"}
    assert set(batch.resources) == kept


def test_a_connector_api_that_never_answers_times_out(
    run: FakeCloudRun, vpc: FakeVpcAccess, make_source
) -> None:
    seed_run(run)
    seed_vpcaccess(vpc)
    vpc.faults.hang("GetConnector")
    source = make_source()
    source._vpc = VpcAccessRest(vpc.base_url, None, timeout_s=0.3)
    batch = source.poll(NOW)
    assert batch.status is not None and batch.status.state == "error"
    assert "deadline exceeded" in batch.status.message
    assert "backend" in batch.resources
    vpc.faults.release()


# -- the fakes, where actions rely on them -------------------------------------------------------


def backend_with_traffic(run: FakeCloudRun, percents: dict[str, int]) -> run_v2.Service:
    services, _ = build_run_clients(f"http://{run.address}", None)
    service = services.get_service(name=run.service_name("netra-backend-staging"), timeout=5)
    revision_type = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
    service.traffic = [
        run_v2.TrafficTarget(type_=revision_type, revision=name, percent=percent)
        for name, percent in percents.items()
    ]
    return service


def test_fake_run_dry_run_changes_nothing_and_a_stale_etag_is_refused(run: FakeCloudRun) -> None:
    seed_run(run)
    services, _ = build_run_clients(f"http://{run.address}", None)
    wanted = backend_with_traffic(run, {NEW: 100})
    dry = services.update_service(request={"service": wanted, "validate_only": True}, timeout=5)
    assert [t.percent for t in dry.result(timeout=5).traffic_statuses] == [100]
    assert [t.percent for t in run.get("netra-backend-staging").traffic] == [50, 50]
    services.update_service(request={"service": wanted}, timeout=5).result(timeout=5)
    with pytest.raises(exceptions.Aborted, match="etag"):
        services.update_service(request={"service": wanted}, timeout=5)
    run.etag_conflict_code = "FAILED_PRECONDITION"
    with pytest.raises(exceptions.FailedPrecondition):
        services.update_service(request={"service": wanted}, timeout=5)
    recorded = run.requests_of("UpdateService")
    assert [r.validate_only for r in recorded] == [True, False, False, False]


def test_fake_run_refuses_what_the_api_refuses(run: FakeCloudRun) -> None:
    seed_run(run)
    services, _ = build_run_clients(f"http://{run.address}", None)
    with pytest.raises(exceptions.InvalidArgument, match="add up to 100"):
        services.update_service(
            request={"service": backend_with_traffic(run, {NEW: 90})}, timeout=5
        )
    with pytest.raises(exceptions.InvalidArgument, match="does not exist"):
        services.update_service(
            request={
                "service": backend_with_traffic(run, {"netra-backend-staging-00999-zzz": 100})
            },
            timeout=5,
        )
    run.fail_next_operation(exceptions.InternalServerError.grpc_status_code, "rollout failed")
    operation = services.update_service(
        request={"service": backend_with_traffic(run, {OLD: 100})}, timeout=5
    )
    with pytest.raises(exceptions.GoogleAPICallError, match="rollout failed"):
        operation.result(timeout=5)
    assert [t.percent for t in run.get("netra-backend-staging").traffic] == [50, 50]


def test_fake_vpcaccess_patch_limits_and_operation(vpc: FakeVpcAccess) -> None:
    seed_vpcaccess(vpc)
    rest = VpcAccessRest(vpc.base_url, None, timeout_s=2.0)
    name = vpc.connector_name(CONNECTOR)
    with pytest.raises(VpcAccessRestError) as refused:
        rest.patch_connector(
            name, {"minInstances": 3, "maxInstances": 15}, "minInstances,maxInstances"
        )
    assert (refused.value.code, refused.value.http_status) == ("INVALID_ARGUMENT", 400)
    assert "between 3 and 10, not 15" in str(refused.value)
    assert describe_api_error(refused.value, "vpcaccess")[0] == "error"
    operation = rest.patch_connector(
        name,
        {"minInstances": 3, "maxInstances": 10, "machineType": "e2-standard-4"},
        "minInstances,maxInstances,machineType",
    )
    assert not operation["done"] and rest.get_connector(name)["state"] == "UPDATING"
    done = rest.get_operation(operation["name"])
    assert done["done"] and done["response"]["machineType"] == "e2-standard-4"
    assert vpc.get(CONNECTOR)["minInstances"] == 3 and vpc.get(CONNECTOR)["state"] == "READY"
    patch = vpc.requests_of("PatchConnector")[-1]
    assert patch.query == {"updateMask": ["minInstances,maxInstances,machineType"]}
    rest.close()
