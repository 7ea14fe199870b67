"""The Google executor (``console.actions.google_executor``) through the whole pipeline, against the
in-process fake servers: the real Cloud Run client over gRPC (``tests.fakes.fake_cloud_run``) and
google-auth's ``AuthorizedSession`` over HTTP (``tests.fakes.fake_vpcaccess``).

Each action sends exactly the expected requests (fields, update mask, etag, ``validate_only`` on
the dry run); nothing at all is sent when a guard refuses; an etag conflict stops and re-plans; an
API or permission error mid-operation fails with a clear message, no partial change and a timeline
entry that says what state the resource is in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.cloud import run_v2

from console.actions import ActionEngine, RouteTraffic, ScaleConnector, ScaleService
from console.actions.commands import Command
from console.actions.executor import ConflictError, ExecutorError
from console.actions.google_executor import ANONYMOUS_IDENTITY, GoogleExecutor
from console.actions.pipeline import ConfirmationError, attach_executor, executor_of
from console.actions.target import resolve_target
from console.clock import VirtualClock
from console.gcp.clients import VpcAccessRest, build_run_clients
from console.resource_state import CloudRunServiceState
from console.session import Session
from console.session_factory import build_session
from console.workspace import Workspace
from console.workspace_toml import demo_workspace_path, load_workspace
from tests.conftest import DEMO_START
from tests.fakes.fake_cloud_run import FakeCloudRun, FakeRevision
from tests.fakes.fake_vpcaccess import FakeVpcAccess

OLD = "netra-backend-staging-00749-6tr"
NEW = "netra-backend-staging-00750-69k"
BACKEND = "projects/netra-staging/locations/us-central1/services/netra-backend-staging"
CONNECTOR_PATH = "/v1/projects/netra-staging/locations/us-central1/connectors/staging-connector"
IDENTITY = "incident-bot@netra-staging.iam.gserviceaccount.com"
REVISION = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
LATEST = run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST


@dataclasses.dataclass
class Cloud:
    run: FakeCloudRun
    vpc: FakeVpcAccess

    def executor(self) -> GoogleExecutor:
        return GoogleExecutor(
            lambda: build_run_clients(f"http://{self.run.address}", None),
            lambda: VpcAccessRest(self.vpc.base_url, None),
            project="netra-staging",
            region="us-central1",
            identity=IDENTITY,
        )

    def updates(self, *, validate_only: bool | None = None) -> list:
        requests = [
            run_v2.UpdateServiceRequest.pb(r) for r in self.run.requests_of("UpdateService")
        ]
        if validate_only is None:
            return requests
        return [r for r in requests if r.validate_only == validate_only]

    def sent(self) -> int:
        """Requests that change something or ask the server to validate a change."""
        return len(self.run.requests_of("UpdateService")) + len(
            self.vpc.requests_of("PatchConnector")
        )


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    with FakeCloudRun() as run, FakeVpcAccess() as vpc:
        run.add_service(
            "netra-backend-staging",
            [FakeRevision(OLD, 20), FakeRevision(NEW, 20)],
            [(OLD, 50), (NEW, 50)],
            min_instances=0,
            max_instances=100,
        )
        vpc.add_connector("staging-connector", min_instances=2, max_instances=10)
        yield Cloud(run, vpc)


@pytest.fixture
def make_engine(cloud: Cloud, tmp_path: Path) -> Iterator[Callable[[Workspace], ActionEngine]]:
    """Builds engines on a session without data sources, executing on the fakes; closes them."""
    executors: list[GoogleExecutor] = []

    def make(workspace: Workspace) -> ActionEngine:
        session = Session(workspace, VirtualClock(DEMO_START), [])
        executor = cloud.executor()
        executors.append(executor)
        attach_executor(session, executor)
        return ActionEngine(session, lock_dir=tmp_path / "locks", user="alice")

    yield make
    for executor in executors:
        executor.close()


@pytest.fixture
def engine(
    demo_workspace: Workspace, make_engine: Callable[[Workspace], ActionEngine]
) -> ActionEngine:
    return make_engine(demo_workspace)


def timeline(engine: ActionEngine, action_id: str) -> list:
    engine.session.drain()
    return [
        e
        for e in engine.session.timeline
        if e.kind == "action" and e.fields["action_id"] == action_id
    ]


def execute(engine: ActionEngine, command: Command):
    planned = engine.plan(command)
    assert not planned.refused, [c.message for c in planned.refusals]
    engine.confirm(planned, confirmed=True)
    return engine.execute(planned)


# ---- exactly the expected requests --------------------------------------------------------------


def test_scale_connector_sends_one_patch_with_only_the_changed_fields(
    engine: ActionEngine, cloud: Cloud
) -> None:
    result = execute(engine, ScaleConnector("staging-connector", 3, None, "e2-standard-4"))
    assert result.ok, result.message
    patches = cloud.vpc.requests_of("PatchConnector")
    assert len(patches) == 1
    patch = patches[0]
    assert patch.path == CONNECTOR_PATH
    assert patch.query == {"updateMask": ["minInstances,machineType"]}
    assert patch.body == {"minInstances": 3, "machineType": "e2-standard-4"}
    # read for the plan, re-read before sending (twice: pipeline and executor), polled, verified
    assert cloud.vpc.calls["GetOperation"] >= 1
    assert cloud.vpc.calls["GetConnector"] == 4
    stored = cloud.vpc.get("staging-connector")
    assert (stored["minInstances"], stored["maxInstances"], stored["machineType"]) == (
        3,
        10,
        "e2-standard-4",
    )
    assert result.after == {
        "min_instances": 3,
        "max_instances": 10,
        "machine_type": "e2-standard-4",
    }
    entry = timeline(engine, result.action_id)[-1]
    assert entry.fields["who"] == {"user": "alice", "cloud_identity": IDENTITY}
    assert entry.fields["dry_run"].startswith("the Serverless VPC Access API has no dry run")


def test_scale_service_dry_runs_then_updates_with_mask_and_etag(
    engine: ActionEngine, cloud: Cloud
) -> None:
    before = cloud.run.get("netra-backend-staging")
    etag = before.etag
    planned = engine.plan(ScaleService("backend", max_instances=30))
    assert planned.dry_run is not None and planned.dry_run.ok and planned.dry_run.supported
    dry = cloud.updates()
    assert len(dry) == 1 and dry[0].validate_only
    assert cloud.run.get("netra-backend-staging").etag == etag  # the dry run changed nothing
    engine.confirm(planned, confirmed=True)
    result = engine.execute(planned)
    assert result.ok, result.message
    first, second = cloud.updates()
    assert second.validate_only is False
    for request in (first, second):
        assert list(request.update_mask.paths) == ["scaling"]
        assert request.service.name == BACKEND
        assert request.service.etag == etag
        assert request.service.scaling.min_instance_count == 0
        assert request.service.scaling.max_instance_count == 30
        # The rest of the service goes back exactly as read: an API that ignored the mask
        # would still change nothing else (no new template, no new revision).
        assert [t.percent for t in request.service.traffic] == [50, 50]
        assert request.service.template == before.template
    stored = cloud.run.get("netra-backend-staging")
    assert stored.scaling.max_instance_count == 30
    assert [t.percent for t in stored.traffic] == [50, 50]  # traffic untouched


def test_route_traffic_sends_the_split_as_revision_targets(
    engine: ActionEngine, cloud: Cloud
) -> None:
    stored_before = cloud.run.get("netra-backend-staging")
    result = execute(engine, RouteTraffic("netra-backend-staging", (("00750-69k", 100),)))
    assert result.ok, result.message
    dry, real = cloud.updates()
    assert dry.validate_only and not real.validate_only
    for request in (dry, real):
        assert list(request.update_mask.paths) == ["traffic"]
        targets = [(t.type_, t.revision, t.percent) for t in request.service.traffic]
        assert targets == [(REVISION, NEW, 100)]
        # The scaling goes back as read (the mask names traffic only).
        assert request.service.scaling == stored_before.scaling
    assert result.after["traffic"] == {NEW: 100}
    assert [
        (s.revision, s.percent) for s in cloud.run.get("netra-backend-staging").traffic_statuses
    ] == [(NEW, 100)]


def test_route_traffic_to_latest_and_revert(engine: ActionEngine, cloud: Cloud) -> None:
    result = execute(engine, RouteTraffic("backend", to_latest=True))
    assert result.ok, result.message
    real = cloud.updates(validate_only=False)[-1]
    assert [(t.type_, t.percent) for t in real.service.traffic] == [(LATEST, 100)]
    assert result.after["traffic"] == {"LATEST": 100}
    undone = execute(engine, engine.revert_command(result))
    assert undone.ok
    real = cloud.updates(validate_only=False)[-1]
    assert [(t.revision, t.percent) for t in real.service.traffic] == [(OLD, 50), (NEW, 50)]


# ---- nothing is sent when a guard refuses -------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        (ScaleConnector("connector", min_instances=1), "connector-min-instances"),
        (ScaleConnector("connector", min_instances=3, max_instances=15), "connector-max-instances"),
        (ScaleConnector("connector", max_instances=2), "connector-max-instances"),
        (ScaleConnector("connector", min_instances=10), "connector-min-below-max"),
        (ScaleConnector("connector", machine_type="n2-standard-8"), "connector-machine-type"),
        (ScaleConnector("connector", max_instances=10), "value-differs"),
        (ScaleService("backend", min_instances=8, max_instances=4), "service-max-at-least-min"),
        (ScaleService("backend", max_instances=100), "value-differs"),
        (RouteTraffic("backend", (("00801-xyz", 100),)), "revision-exists-and-ready"),
        (RouteTraffic("backend", (("00750-69k", 70), ("00749-6tr", 20))), "split-sums-to-100"),
        (RouteTraffic("backend", ((OLD, 50), (NEW, 50))), "value-differs"),
    ],
)
def test_nothing_is_sent_when_a_check_refuses(
    engine: ActionEngine, cloud: Cloud, command: Command, rule: str
) -> None:
    planned = engine.plan(command)
    assert planned.refused
    assert planned.refusals[0].rule == rule
    with pytest.raises(Exception, match="refused plan cannot be confirmed"):
        engine.confirm(planned, confirmed=True)
    with pytest.raises(Exception, match="refused plan cannot be executed"):
        engine.execute(planned)
    assert cloud.sent() == 0  # not even a dry run
    outcomes = [e.fields["outcome"] for e in timeline(engine, planned.id)]
    assert outcomes == ["planned", "refused"]


def test_nothing_is_sent_while_the_connector_is_busy(engine: ActionEngine, cloud: Cloud) -> None:
    cloud.vpc.add_connector("staging-connector", state="UPDATING")
    planned = engine.plan(ScaleConnector("connector", min_instances=3))
    assert [c.rule for c in planned.refusals] == ["connector-ready"]
    assert cloud.sent() == 0


def test_a_revision_that_is_not_ready_gets_no_traffic(
    demo_workspace: Workspace, cloud: Cloud, make_engine: Callable[[Workspace], ActionEngine]
) -> None:
    cloud.run.add_service(
        "netra-backend-staging",
        [FakeRevision(OLD), FakeRevision(NEW, ready=False)],
        [(OLD, 100)],
    )
    engine = make_engine(demo_workspace)
    planned = engine.plan(RouteTraffic("backend", (("00750-69k", 100),)))
    assert [c.rule for c in planned.refusals] == ["revision-exists-and-ready"]
    assert "not ready" in planned.refusals[0].message
    assert cloud.sent() == 0


def test_nothing_is_sent_without_the_typed_name_in_production(
    demo_workspace: Workspace, cloud: Cloud, make_engine: Callable[[Workspace], ActionEngine]
) -> None:
    incident = dataclasses.replace(demo_workspace.incident, environment="production")
    workspace = dataclasses.replace(demo_workspace, incident=incident)
    engine = make_engine(workspace)
    planned = engine.plan(ScaleConnector("connector", min_instances=3))
    with pytest.raises(ConfirmationError):
        engine.confirm(planned, confirmed=True)
    with pytest.raises(ConfirmationError):
        engine.execute(planned)
    assert cloud.sent() == 0


def test_the_server_dry_run_refusal_blocks(engine: ActionEngine, cloud: Cloud) -> None:
    cloud.run.max_instances_limit = 200  # this project's quota, known only to the server
    planned = engine.plan(ScaleService("backend", max_instances=500))
    assert [c.rule for c in planned.refusals] == ["server-dry-run"]
    assert "INVALID_ARGUMENT" in planned.refusals[0].message
    assert "exceeds the limit 200" in planned.refusals[0].message
    assert len(cloud.updates(validate_only=False)) == 0
    assert cloud.run.get("netra-backend-staging").scaling.max_instance_count == 100


# ---- conflicts ----------------------------------------------------------------------------------


def test_a_change_by_someone_else_stops_the_action_and_replans(
    engine: ActionEngine, cloud: Cloud
) -> None:
    planned = engine.plan(ScaleService("backend", max_instances=30))
    engine.confirm(planned, confirmed=True)
    someone_else = cloud.executor()
    try:
        target = resolve_target(engine.session.workspace, "backend", "cloud_run")
        state = someone_else.read(target)
        operation = someone_else.start(ScaleService("backend", max_instances=80), target, state)
        assert operation.poll().done
    finally:
        someone_else.close()
    ours_before = len(cloud.updates(validate_only=False))
    result = engine.execute(planned)
    assert result.outcome == "conflict"
    assert "changed since the plan" in result.message and "max 80" in result.message
    assert len(cloud.updates(validate_only=False)) == ours_before  # nothing sent over it
    assert cloud.run.get("netra-backend-staging").scaling.max_instance_count == 80
    replanned = engine.plan(ScaleService("backend", max_instances=30))
    assert [c.text() for c in replanned.plan.changed_fields] == ["max instances: 80 → 30"]
    assert replanned.plan.etag == cloud.run.get("netra-backend-staging").etag


@pytest.mark.parametrize("code", ["ABORTED", "FAILED_PRECONDITION"])
def test_a_stale_etag_is_refused_by_the_server_as_a_conflict(
    engine: ActionEngine, cloud: Cloud, code: str
) -> None:
    cloud.run.etag_conflict_code = code
    target = resolve_target(engine.session.workspace, "backend", "cloud_run")
    state = engine.executor.read(target)
    assert isinstance(state, CloudRunServiceState)
    stale = dataclasses.replace(state, etag='"stale"')
    with pytest.raises(ConflictError, match="etag"):
        engine.executor.start(ScaleService("backend", max_instances=30), target, stale)
    assert cloud.run.get("netra-backend-staging").scaling.max_instance_count == 100


def test_a_connector_changed_since_it_was_read_is_a_conflict(
    engine: ActionEngine, cloud: Cloud
) -> None:
    planned = engine.plan(ScaleConnector("connector", min_instances=3))
    engine.confirm(planned, confirmed=True)
    cloud.vpc.add_connector("staging-connector", min_instances=2, max_instances=8)
    result = engine.execute(planned)
    assert result.outcome == "conflict"
    assert "max 8" in result.message
    assert cloud.vpc.calls["PatchConnector"] == 0


# ---- errors mid-operation -----------------------------------------------------------------------


def test_a_permission_error_on_the_patch_changes_nothing_and_says_so(
    engine: ActionEngine, cloud: Cloud
) -> None:
    cloud.vpc.faults.fail(
        "PatchConnector", "PERMISSION_DENIED", message="vpcaccess.connectors.update denied"
    )
    result = execute(engine, ScaleConnector("connector", min_instances=3))
    assert result.outcome == "failed"
    assert "PERMISSION_DENIED" in result.message
    assert f"Your identity ({IDENTITY}) lacks the permission" in result.message
    assert "staging-connector is unchanged: min 2 · max 10 · e2-micro." in result.message
    assert cloud.vpc.get("staging-connector")["minInstances"] == 2
    entry = timeline(engine, result.action_id)[-1]
    assert entry.fields["outcome"] == "failed"
    assert "is unchanged" in entry.text
    assert entry.fields["after"] == entry.fields["before"]


def test_a_permission_error_on_the_update_after_a_good_dry_run(
    engine: ActionEngine, cloud: Cloud
) -> None:
    planned = engine.plan(RouteTraffic("backend", (("00750-69k", 100),)))
    assert planned.dry_run is not None and planned.dry_run.ok
    engine.confirm(planned, confirmed=True)
    cloud.run.faults.fail(
        "UpdateService", grpc.StatusCode.PERMISSION_DENIED, message="run.services.update"
    )
    result = engine.execute(planned)
    assert result.outcome == "failed"
    assert "PERMISSION_DENIED" in result.message and "lacks the permission" in result.message
    assert "netra-backend-staging is unchanged" in result.message
    assert [s.percent for s in cloud.run.get("netra-backend-staging").traffic_statuses] == [50, 50]


def test_an_operation_that_fails_leaves_the_service_unchanged_and_says_so(
    engine: ActionEngine, cloud: Cloud
) -> None:
    cloud.run.fail_next_operation(grpc.StatusCode.INTERNAL, "revision failed to become ready")
    result = execute(engine, ScaleService("backend", min_instances=2))
    assert result.outcome == "failed"
    assert "failed in the operation: INTERNAL: revision failed to become ready" in result.message
    assert "netra-backend-staging is unchanged: min 0 · max 100" in result.message
    assert timeline(engine, result.action_id)[-1].fields["outcome"] == "failed"


def test_a_transient_poll_error_is_asked_again(engine: ActionEngine, cloud: Cloud) -> None:
    cloud.vpc.operation_polls = 2
    cloud.vpc.faults.fail("GetOperation", "UNAVAILABLE", times=1)
    result = execute(engine, ScaleConnector("connector", min_instances=3))
    assert result.ok, result.message


def test_an_operation_that_cannot_be_followed_fails_saying_the_connector_is_updating(
    engine: ActionEngine, cloud: Cloud
) -> None:
    cloud.vpc.operation_polls = 5
    cloud.vpc.faults.fail("GetOperation", "UNAVAILABLE", times=-1)
    result = execute(engine, ScaleConnector("connector", min_instances=3))
    assert result.outcome == "failed"
    assert "waiting for the operation" in result.message
    assert "min 2 · max 10 · e2-micro · UPDATING" in result.message
    entry = timeline(engine, result.action_id)[-1]
    assert "UPDATING" in entry.text


def test_an_unknown_cloud_resource_is_a_clear_error(
    demo_workspace: Workspace, cloud: Cloud, make_engine: Callable[[Workspace], ActionEngine]
) -> None:
    engine = make_engine(demo_workspace)
    with pytest.raises(ExecutorError, match="NOT_FOUND"):
        engine.plan(ScaleService("auth", max_instances=5))  # not on the fake project
    assert cloud.sent() == 0


def test_a_gcp_workspace_gets_the_google_executor_and_it_reaches_the_fakes(
    cloud: Cloud, tmp_path: Path
) -> None:
    """The session factory attaches the executor to a ``[gcp]`` session (not a read-only one)."""
    text = demo_workspace_path().read_text()
    start = text.index("[simulation]")
    end = text.index("[[services]]")
    gcp = (
        "[gcp]\n"
        "[gcp.endpoints]\n"
        f'monitoring = "http://{cloud.run.address}"\n'
        f'logging = "http://{cloud.run.address}"\n'
        f'run = "http://{cloud.run.address}"\n'
        f'vpcaccess = "{cloud.vpc.base_url}"\n\n'
    )
    path = tmp_path / "live.toml"
    path.write_text(text[:start] + gcp + text[end:])
    workspace = load_workspace(path)
    session = build_session(workspace, VirtualClock(DEMO_START))
    try:
        executor = executor_of(session)
        assert isinstance(executor, GoogleExecutor)
        assert executor.identity() == ANONYMOUS_IDENTITY
        engine = ActionEngine(session, lock_dir=tmp_path / "locks")
        planned = engine.plan(ScaleConnector("connector", min_instances=3))
        assert planned.plan.before.settings()["max_instances"] == 10
        assert cloud.vpc.calls["GetConnector"] == 1
    finally:
        session.stop()
        executor.close()
    read_only = build_session(workspace, VirtualClock(DEMO_START), read_only=True)
    try:
        assert not hasattr(read_only, "executor")
    finally:
        read_only.stop()
