"""The pure parts behind the Google Cloud sources: endpoints, error descriptions, per-minute
counts, resource state and the demo simulation reporting its own resource state and counts.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from google.api_core import exceptions

from console.gcp.clients import (
    EndpointError,
    VpcAccessRestError,
    describe_api_error,
    parse_endpoint,
)
from console.minute_counts import MinuteCounts
from console.resource_state import (
    CloudRunServiceState,
    ConnectorState,
    RevisionState,
    describe_resource,
    resource_as_dict,
    short_revision,
    sort_revisions,
)
from console.simulation import DemoSimulation, SimulatedApiError
from console.workspace import Workspace

T0 = 1_764_000_000.0  # a whole minute


# -- endpoints -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address", "plaintext"),
    [
        ("monitoring.googleapis.com:443", "monitoring.googleapis.com:443", False),
        ("https://vpcaccess.googleapis.com", "vpcaccess.googleapis.com:443", False),
        ("http://127.0.0.1:8081", "127.0.0.1:8081", True),
        ("http://localhost:9", "localhost:9", True),
        ("http://[::1]:8081", "[::1]:8081", True),
    ],
)
def test_endpoints(text: str, address: str, plaintext: bool) -> None:
    endpoint = parse_endpoint(text)
    assert (endpoint.address, endpoint.plaintext) == (address, plaintext)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("http://10.1.2.3:8081", "only on loopback"),
        ("http://monitoring.example.com", "only on loopback"),
        ("grpc://127.0.0.1:1", "write host:port"),
        ("https://host/v1/x", "no path"),
        ("", "cannot be empty"),
        ("http://127.0.0.1:99999", "out of range"),
    ],
)
def test_endpoints_refused(text: str, words: str) -> None:
    with pytest.raises(EndpointError, match=words):
        parse_endpoint(text)


def test_api_errors_become_a_state_and_a_fix() -> None:
    denied = exceptions.PermissionDenied("Permission 'run.services.list' denied")
    assert describe_api_error(denied, "run") == (
        "unauthorized",
        "run: permission denied (Permission 'run.services.list' denied); grant the console's "
        "identity roles/run.viewer (run.services.list, run.revisions.list)",
    )
    assert describe_api_error(exceptions.ResourceExhausted("quota"), "logging")[0] == "quota"
    retried = exceptions.RetryError("gave up", exceptions.ServiceUnavailable("down"))
    state, message = describe_api_error(retried, "monitoring")
    assert state == "error" and message.startswith("gave up retrying: monitoring: unavailable")
    rest = VpcAccessRestError("UNAUTHENTICATED", "token expired", 401)
    assert "credentials import" in describe_api_error(rest, "vpcaccess")[1]


# -- counts per minute ---------------------------------------------------------------------------


def test_minutes_are_released_once_settled_and_fully_observed() -> None:
    counts = MinuteCounts(["backend"], settle_s=10.0)
    counts.observed(T0 - 30.0, T0 + 130.0)  # the minute before T0 is only partly observed
    for t in (T0 + 5.0, T0 + 59.0, T0 + 61.0):
        counts.add("backend", t)
    counts.add("unknown", T0 + 1.0)  # ignored
    assert counts.release(T0 + 65.0) == {}  # the first whole minute is not settled yet
    times, values = counts.release(T0 + 130.0)["backend"]
    assert times.tolist() == [T0 + 60.0, T0 + 120.0]
    assert values.tolist() == [2.0, 1.0]
    counts.add("backend", T0 + 10.0)  # too late: that minute was reported
    counts.observed(T0 + 130.0, T0 + 250.0)
    times, values = counts.release(T0 + 250.0)["backend"]
    assert times.tolist() == [T0 + 180.0, T0 + 240.0] and values.tolist() == [0.0, 0.0]


def test_a_gap_in_observation_gives_no_point() -> None:
    counts = MinuteCounts(["auth"])
    counts.observed(T0, T0 + 70.0)
    counts.observed(T0 + 150.0, T0 + 300.0)  # nothing watched from T0+70 to T0+150
    counts.add_many("auth", np.array([T0 + 10.0, T0 + 200.0]), np.array([3.0, 4.0]))
    times, values = counts.release(T0 + 300.0)["auth"]
    assert dict(zip(times.tolist(), values.tolist(), strict=True)) == {
        T0 + 60.0: 3.0,
        T0 + 240.0: 4.0,
        T0 + 300.0: 0.0,
    }


# -- resource state ------------------------------------------------------------------------------


def test_resource_state_summaries_and_order() -> None:
    revisions = sort_revisions(
        [
            RevisionState("svc-00003-ccc", 0, created_at=3.0),
            RevisionState("svc-00002-bbb", 50, created_at=2.0),
            RevisionState("svc-00001-aaa", 50, created_at=1.0),
            RevisionState("svc-00000-old", 0, created_at=0.5),
        ]
    )
    assert [r.name for r in revisions] == [
        "svc-00001-aaa",
        "svc-00002-bbb",
        "svc-00003-ccc",
        "svc-00000-old",
    ]
    service = CloudRunServiceState("api", "svc", revisions, None, 30, observed_at=5.0)
    assert service.split and service.traffic() == [("svc-00001-aaa", 50), ("svc-00002-bbb", 50)]
    assert describe_resource(service) == "min default · max 30 · 00001-aaa 50% · 00002-bbb 50%"
    assert service == CloudRunServiceState("api", "svc", revisions, None, 30, observed_at=9.0)
    connector = ConnectorState("c", "staging-connector", "READY", "e2-micro", 2, 10, instances=10)
    assert describe_resource(connector) == "min 2 · max 10 · e2-micro · 10 running"
    updating = replace(connector, state="UPDATING", instances=None)
    assert describe_resource(updating) == "min 2 · max 10 · e2-micro · UPDATING"
    data = resource_as_dict(connector)
    assert data["kind"] == "vpc_connector" and "observed_at" not in data
    assert short_revision("svc", "other-00001-aaa") == "other-00001-aaa"


def test_what_actions_read_from_the_resource_state() -> None:
    """The before/after of plans and audit (``settings``), the etag, revisions by suffix and the
    instances running: the same dataclasses the sources report."""
    connector = ConnectorState("c", "staging-connector", "READY", "e2-micro", 2, 10, instances=10)
    assert connector.settings() == {
        "min_instances": 2,
        "max_instances": 10,
        "machine_type": "e2-micro",
    }
    # The connector API has no etag: a fingerprint of its settings and state, not of the
    # instances (they move without anyone changing the connector) nor of when it was read.
    assert replace(connector, instances=3, observed_at=9.0).etag == connector.etag
    assert replace(connector, max_instances=8).etag != connector.etag
    assert replace(connector, state="UPDATING").etag != connector.etag
    revisions = (
        RevisionState("svc-00002-bbb", 90, via_latest=True, instances=4),
        RevisionState("svc-00001-aaa", 10, instances=1),
        RevisionState("svc-00000-old", 0, ready=False, instances=0),
    )
    service = CloudRunServiceState("api", "svc", revisions, None, None, "svc-00002-bbb")
    assert service.settings() == {
        "min_instances": 0,  # unset: Cloud Run's default
        "max_instances": None,
        "traffic": {"LATEST": 90, "svc-00001-aaa": 10},
    }
    assert service.revision("00000-old") is revisions[2]
    assert service.revision("svc-00001-aaa") is revisions[1] and service.revision("zzz") is None
    assert service.instances == 5
    assert replace(service, revisions=(*revisions, RevisionState("svc-x", 0))).instances is None
    assert describe_resource(service) == (
        "min default · max default · 00002-bbb 90% (LATEST) · 00001-aaa 10% · 5 running"
    )
    # The stored shape (a snapshot's resource_states, status --json): the dataclass fields only.
    data = resource_as_dict(service)
    assert {"etag", "settings"}.isdisjoint(resource_as_dict(connector))
    assert data["etag"] == "" and "instances" not in data and "settings" not in data


# -- the demo simulation -------------------------------------------------------------------------


def test_the_simulation_reports_its_resource_state_and_log_counts(
    demo_workspace: Workspace,
) -> None:
    simulation = DemoSimulation(demo_workspace, start=T0)
    batch = simulation.poll(T0)
    backend = batch.resources["backend"]
    assert isinstance(backend, CloudRunServiceState)
    assert backend.traffic() == [
        ("netra-backend-staging-00749-6tr", 50),
        ("netra-backend-staging-00750-69k", 50),
    ]
    assert sum(r.instances or 0 for r in backend.revisions) > 0
    connector = batch.resources["connector"]
    assert isinstance(connector, ConnectorState)
    assert (connector.min_instances, connector.max_instances) == (2, 10)
    # The per-minute counts are the per-second 5xx summed over each whole minute.
    per_s_t, per_s = batch.samples[("auth", "errors_5xx_per_s")]
    minute_t, per_min = batch.samples[("auth", "errors_5xx_per_min_logs")]
    end = minute_t[-1]
    in_minute = (per_s_t > end - 60.0) & (per_s_t <= end)
    assert per_min[-1] == pytest.approx(per_s[in_minute].sum())
    simulation.route_traffic("backend", {"netra-backend-staging-00750-69k": 100}, at=T0 + 1)
    later = simulation.poll(T0 + 2)
    moved = later.resources["backend"]
    assert isinstance(moved, CloudRunServiceState)
    assert moved.traffic() == [("netra-backend-staging-00750-69k", 100)]
    # What the demo's action executor reads is what its source reports.
    assert simulation.resource_state("backend", T0 + 2) == moved
    assert moved.etag and moved.etag != backend.etag
    assert simulation.resource_state("connector", T0 + 2) == later.resources["connector"]
    with pytest.raises(SimulatedApiError, match="NOT_FOUND"):
        simulation.resource_state("db", T0 + 2)
    # Traffic sent to LATEST goes to the latest ready revision and is reported as following it.
    simulation.route_traffic("backend", {"LATEST": 100}, at=T0 + 3)
    latest = simulation.resource_state("backend", T0 + 4)
    assert isinstance(latest, CloudRunServiceState)
    assert latest.traffic() == [("netra-backend-staging-00750-69k", 100)]
    assert latest.settings()["traffic"] == {"LATEST": 100} and latest.etag != moved.etag
    simulation.route_traffic("backend", {"netra-backend-staging-00750-69k": 100}, at=T0 + 5)
    pinned = simulation.resource_state("backend", T0 + 6)
    assert isinstance(pinned, CloudRunServiceState)
    assert pinned.settings()["traffic"] == {"netra-backend-staging-00750-69k": 100}
