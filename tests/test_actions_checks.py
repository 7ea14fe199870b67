"""The pre-flight checks (``console.actions.checks``): every rule blocks (or warns) in its own test,
passes what is fine, and the limits come from data. Pure: plans are built from hand-made states.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.actions.checks import RULES, CheckResult, run_checks
from console.actions.commands import (
    Command,
    CommandError,
    RouteTraffic,
    ScaleConnector,
    ScaleService,
    parse_split,
)
from console.actions.limits import LimitsError, load_connector_limits, parse_connector_limits
from console.actions.plan import Plan, blast_radius, build_plan
from console.actions.target import ACTIONABLE_KINDS, UnknownResourceError, resolve_target
from console.resource_state import CloudRunServiceState, ConnectorState, RevisionState
from console.workspace import Workspace

LIMITS = load_connector_limits()
OLD = "netra-backend-staging-00749-6tr"
NEW = "netra-backend-staging-00750-69k"
CONNECTOR = ConnectorState(
    "connector", "staging-connector", "READY", "e2-micro", 2, 10, instances=10
)
BACKEND = CloudRunServiceState(
    "backend",
    "netra-backend-staging",
    (RevisionState(OLD, 50, instances=23), RevisionState(NEW, 50, instances=23)),
    0,
    100,
    latest_ready_revision=NEW,
    etag="etag-s",
)


def connector(state: str = "READY", machine_type: str = "e2-micro", max_instances: int = 10):
    """The demo's connector with another state, machine type or maximum."""
    return ConnectorState(
        "connector", "staging-connector", state, machine_type, 2, max_instances, max_instances
    )


def backend(*revisions: RevisionState, latest_ready: str) -> CloudRunServiceState:
    """The demo's backend with these revisions."""
    return CloudRunServiceState(
        "backend", "netra-backend-staging", revisions, 0, 100, latest_ready, etag="e"
    )


def plan_of(workspace: Workspace, command: Command, state) -> Plan:
    target = resolve_target(workspace, command.resource, ACTIONABLE_KINDS[command.name])
    return build_plan(command, target, state, workspace, 0.0)


def results(workspace: Workspace, command: Command, state) -> dict[str, CheckResult]:
    return {r.rule: r for r in run_checks(plan_of(workspace, command, state), LIMITS)}


def verdicts(workspace: Workspace, command: Command, state) -> dict[str, str]:
    return {rule: r.verdict for rule, r in results(workspace, command, state).items()}


# ---- the limits are data ------------------------------------------------------------------------


def test_the_shipped_limits_are_googles() -> None:
    assert LIMITS.min_instances_floor == 2
    assert LIMITS.max_instances_range == (3, 10)
    assert list(LIMITS.machine_types) == ["f1-micro", "e2-micro", "e2-standard-4"]
    assert LIMITS.larger_machine_types("e2-micro") == ["e2-standard-4"]
    assert not LIMITS.scales_in


def test_changed_limits_change_the_checks(demo_workspace: Workspace, tmp_path: Path) -> None:
    raised = tmp_path / "limits.toml"
    raised.write_text(
        "min_instances_floor = 2\nmax_instances_range = [3, 20]\n"
        "[machine_types]\ne2-micro = { mbps_per_instance = 100 }\n"
    )
    limits = load_connector_limits(raised)
    plan = plan_of(demo_workspace, ScaleConnector("connector", max_instances=15), CONNECTOR)
    checks = {r.rule: r.verdict for r in run_checks(plan, limits)}
    assert checks["connector-max-instances"] == "pass"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (
            {"max_instances_range": [3, 10], "machine_types": {"a": {"mbps_per_instance": 1}}},
            "min_instances_floor",
        ),
        (
            {
                "min_instances_floor": 2,
                "max_instances_range": [10, 3],
                "machine_types": {"a": {"mbps_per_instance": 1}},
            },
            "max_instances_range",
        ),
        (
            {"min_instances_floor": 2, "max_instances_range": [3, 10], "machine_types": {}},
            "machine_types",
        ),
        (
            {
                "min_instances_floor": 2,
                "max_instances_range": [3, 10],
                "machine_types": {"a": {"mbps_per_instance": 0}},
            },
            "mbps_per_instance",
        ),
    ],
)
def test_malformed_limits_are_refused_with_the_key(data: dict, words: str) -> None:
    with pytest.raises(LimitsError, match=words):
        parse_connector_limits(data)


# ---- commands that cannot be requests at all ----------------------------------------------------


def test_commands_need_something_to_change() -> None:
    with pytest.raises(CommandError, match="nothing to change"):
        ScaleConnector("connector")
    with pytest.raises(CommandError, match="nothing to change"):
        ScaleService("backend")
    with pytest.raises(CommandError, match="--to-revisions"):
        RouteTraffic("backend")
    with pytest.raises(CommandError, match="not both"):
        RouteTraffic("backend", ((NEW, 100),), to_latest=True)


def test_commands_refuse_non_numbers_and_duplicates() -> None:
    with pytest.raises(CommandError, match="whole number"):
        ScaleConnector("connector", max_instances="15")  # type: ignore[arg-type]
    with pytest.raises(CommandError, match="whole number"):
        ScaleService("backend", min_instances=1.5)  # type: ignore[arg-type]
    with pytest.raises(CommandError, match="named twice"):
        RouteTraffic("backend", (("a", 50), ("a", 50)))
    with pytest.raises(CommandError, match="not a whole number"):
        parse_split("00750-69k=all")
    with pytest.raises(CommandError, match="revision=percent"):
        parse_split("00750-69k")
    assert parse_split("00750-69k=60, 00749-6tr=40") == (("00750-69k", 60), ("00749-6tr", 40))


def test_unknown_or_wrong_kind_of_resource_is_named(demo_workspace: Workspace) -> None:
    with pytest.raises(UnknownResourceError, match="choose one of: connector"):
        resolve_target(demo_workspace, "no-such-connector", "vpc_connector")
    with pytest.raises(UnknownResourceError, match="is a Cloud Run service, not a VPC connector"):
        resolve_target(demo_workspace, "backend", "vpc_connector")
    # the cloud name works as well as the workspace id
    assert resolve_target(demo_workspace, "staging-connector", "vpc_connector").service_id == (
        "connector"
    )


# ---- the connector ------------------------------------------------------------------------------


def test_connector_must_be_ready(demo_workspace: Workspace) -> None:
    updating = connector("UPDATING")
    found = results(demo_workspace, ScaleConnector("connector", min_instances=3), updating)
    assert found["connector-ready"].verdict == "refuse"
    assert "UPDATING" in found["connector-ready"].message


def test_connector_min_below_the_floor_is_refused(demo_workspace: Workspace) -> None:
    found = results(demo_workspace, ScaleConnector("connector", min_instances=1), CONNECTOR)
    check = found["connector-min-instances"]
    assert check.verdict == "refuse"
    assert "below the API's floor of 2" in check.message
    assert check.suggestion == ScaleConnector("connector", 2)


def test_connector_max_above_ten_is_refused_with_a_larger_machine_type(
    demo_workspace: Workspace,
) -> None:
    """The seed incident's own plan: --min-instances=3 --max-instances=15."""
    command = ScaleConnector("connector", min_instances=3, max_instances=15)
    check = results(demo_workspace, command, CONNECTOR)["connector-max-instances"]
    assert check.verdict == "refuse"
    assert "above the API's limit of 10" in check.message
    assert check.suggestion == ScaleConnector("connector", 3, None, "e2-standard-4")
    assert "e2-standard-4" in check.suggestion_text
    assert "1,500 Mbps" in check.suggestion_text  # what 15 × e2-micro would carry
    # ... and the suggestion itself passes every check.
    assert "refuse" not in verdicts(demo_workspace, check.suggestion, CONNECTOR).values()


def test_connector_max_above_ten_on_the_largest_type_suggests_the_limit(
    demo_workspace: Workspace,
) -> None:
    largest = connector(machine_type="e2-standard-4", max_instances=5)
    check = results(demo_workspace, ScaleConnector("connector", max_instances=12), largest)[
        "connector-max-instances"
    ]
    assert check.verdict == "refuse"
    assert check.suggestion == ScaleConnector("connector", None, 10)


def test_connector_max_below_three_is_refused(demo_workspace: Workspace) -> None:
    check = results(demo_workspace, ScaleConnector("connector", max_instances=2), CONNECTOR)[
        "connector-max-instances"
    ]
    assert check.verdict == "refuse"
    assert "below the API's minimum of 3" in check.message


def test_connector_min_not_below_max_is_refused(demo_workspace: Workspace) -> None:
    check = results(demo_workspace, ScaleConnector("connector", min_instances=10), CONNECTOR)[
        "connector-min-below-max"
    ]
    assert check.verdict == "refuse"
    assert "min instances (10) must be below max instances (10)" in check.message


def test_connector_unknown_machine_type_is_refused(demo_workspace: Workspace) -> None:
    check = results(demo_workspace, ScaleConnector("connector", machine_type="n2-huge"), CONNECTOR)[
        "connector-machine-type"
    ]
    assert check.verdict == "refuse"
    assert "f1-micro, e2-micro, e2-standard-4" in check.message


def test_lowering_a_connector_warns_that_it_does_not_scale_in(demo_workspace: Workspace) -> None:
    found = results(
        demo_workspace,
        ScaleConnector("connector", max_instances=5, machine_type="f1-micro"),
        CONNECTOR,
    )
    check = found["connector-scale-in"]
    assert check.verdict == "warn"
    assert "max instances 10 → 5" in check.message
    assert "machine type e2-micro → f1-micro" in check.message
    assert "not to scale in" in check.message and "10 run now" in check.message
    assert "refuse" not in {r.verdict for r in found.values()}  # a warning does not block
    # raising does not warn
    assert "connector-scale-in" not in results(
        demo_workspace, ScaleConnector("connector", min_instances=3), CONNECTOR
    )


# ---- Cloud Run ----------------------------------------------------------------------------------


def test_service_max_below_min_is_refused(demo_workspace: Workspace) -> None:
    check = results(
        demo_workspace, ScaleService("backend", min_instances=5, max_instances=3), BACKEND
    )["service-max-at-least-min"]
    assert check.verdict == "refuse"
    assert "max instances (3) must not be below min instances (5)" in check.message
    check = results(demo_workspace, ScaleService("backend", max_instances=0), BACKEND)[
        "service-max-at-least-min"
    ]
    assert check.verdict == "refuse"
    check = results(demo_workspace, ScaleService("backend", min_instances=-1), BACKEND)[
        "service-max-at-least-min"
    ]
    assert check.verdict == "refuse"


def test_service_max_below_the_running_instances_warns(demo_workspace: Workspace) -> None:
    found = results(demo_workspace, ScaleService("backend", max_instances=30), BACKEND)
    assert found["service-max-below-running"].verdict == "warn"
    assert "46 instances run now" in found["service-max-below-running"].message
    assert found["service-max-at-least-min"].verdict == "pass"


def test_an_unknown_revision_is_refused(demo_workspace: Workspace) -> None:
    check = results(demo_workspace, RouteTraffic("backend", (("00799-zzz", 100),)), BACKEND)[
        "revision-exists-and-ready"
    ]
    assert check.verdict == "refuse"
    assert "'00799-zzz' does not exist" in check.message
    assert "00749-6tr, 00750-69k" in check.message


def test_a_revision_that_is_not_ready_is_refused(demo_workspace: Workspace) -> None:
    broken = backend(RevisionState(OLD, 100), RevisionState(NEW, 0, ready=False), latest_ready=OLD)
    check = results(demo_workspace, RouteTraffic("backend", (("00750-69k", 100),)), broken)[
        "revision-exists-and-ready"
    ]
    assert check.verdict == "refuse"
    assert "00750-69k is not ready" in check.message


def test_latest_needs_a_ready_revision(demo_workspace: Workspace) -> None:
    nothing_ready = backend(RevisionState(OLD, 0, ready=False), latest_ready="")
    check = results(demo_workspace, RouteTraffic("backend", to_latest=True), nothing_ready)[
        "revision-exists-and-ready"
    ]
    assert check.verdict == "refuse"


def test_a_split_not_summing_to_100_is_refused(demo_workspace: Workspace) -> None:
    check = results(
        demo_workspace, RouteTraffic("backend", (("00750-69k", 60), ("00749-6tr", 30))), BACKEND
    )["split-sums-to-100"]
    assert check.verdict == "refuse"
    assert "sums to 90%, not 100%" in check.message
    check = results(
        demo_workspace, RouteTraffic("backend", (("00750-69k", 120), ("00749-6tr", -20))), BACKEND
    )["split-sums-to-100"]
    assert check.verdict == "refuse"
    assert "between 0 and 100" in check.message


# ---- every action -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "state"),
    [
        (ScaleConnector("connector", min_instances=2, max_instances=10), CONNECTOR),
        (ScaleService("backend", max_instances=100), BACKEND),
        (RouteTraffic("backend", (("00749-6tr", 50), ("00750-69k", 50))), BACKEND),
    ],
)
def test_a_change_that_changes_nothing_is_refused(
    demo_workspace: Workspace, command: Command, state
) -> None:
    check = results(demo_workspace, command, state)["value-differs"]
    assert check.verdict == "refuse"
    assert check.message.startswith("nothing would change")


def test_every_rule_is_named_once_and_tested_here() -> None:
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    source = Path(__file__).read_text()
    for name in names:
        assert f'"{name}"' in source, f"rule {name} has no test in this file"


# ---- the plan -----------------------------------------------------------------------------------


def test_the_plan_shows_before_after_blast_radius_and_gcloud(demo_workspace: Workspace) -> None:
    plan = plan_of(
        demo_workspace, ScaleConnector("staging-connector", 3, None, "e2-standard-4"), CONNECTOR
    )
    assert [c.text() for c in plan.changes] == [
        "min instances: 2 → 3",
        "max instances: 10 (unchanged)",
        "machine type: e2-micro → e2-standard-4",
    ]
    assert plan.blast_radius.services == ("connector", "auth", "backend", "websocket", "chat")
    assert plan.blast_radius.steps == ("Login", "API", "WebSocket", "AI response")
    assert plan.gcloud == (
        "gcloud compute networks vpc-access connectors update staging-connector "
        "--region=us-central1 --project=netra-staging --min-instances=3 "
        "--machine-type=e2-standard-4"
    )
    assert plan.etag == CONNECTOR.etag  # a fingerprint: the connector API has no etag
    assert connector("UPDATING").etag != CONNECTOR.etag


def test_gcloud_for_cloud_run_uses_service_level_flags_and_full_revision_names(
    demo_workspace: Workspace,
) -> None:
    scale = plan_of(demo_workspace, ScaleService("backend", max_instances=30), BACKEND)
    assert scale.gcloud.endswith("--max=30")  # --max-instances would set the revision's limit
    route = plan_of(demo_workspace, RouteTraffic("backend", (("00750-69k", 100),)), BACKEND)
    assert route.gcloud == (
        "gcloud run services update-traffic netra-backend-staging --region=us-central1 "
        f"--project=netra-staging --to-revisions={NEW}=100"
    )
    assert [c.text() for c in route.changes] == [
        "traffic to 00749-6tr: 50% → 0%",
        "traffic to 00750-69k: 50% → 100%",
    ]
    latest = plan_of(demo_workspace, RouteTraffic("backend", to_latest=True), BACKEND)
    assert latest.gcloud.endswith("--to-latest")
    assert latest.after["traffic"] == {"LATEST": 100}


def test_blast_radius_of_a_leaf_service(demo_workspace: Workspace) -> None:
    radius = blast_radius(demo_workspace, "frontend")
    assert radius.services == ("frontend",)
    assert radius.steps == ("Open app",)
