"""The dependency status graph: nodes per service, status by word and shape, blocked edges,
the root-cause mark, the layout's direction, and repaint economy.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF

from console.session import Session
from console.workspace import Workspace
from ui.findings_list import FindingsList
from ui.status_graph import (
    MAX_SCALE,
    NodeLook,
    ServiceNodeItem,
    StatusGraphView,
    graph_cells,
)
from ui.theme import STATUS_STYLES, display_status

pytestmark = pytest.mark.gui


@pytest.fixture
def graph(qtbot, demo_session: Session) -> StatusGraphView:
    view = StatusGraphView(demo_session)
    qtbot.addWidget(view)
    return view


def test_one_node_per_service(graph: StatusGraphView, demo_workspace: Workspace) -> None:
    assert set(graph.node_items) == set(demo_workspace.services)
    assert {n.name for n in graph.node_items.values()} >= {"VPC connector", "Cloud SQL"}


def test_node_status_texts_match_session_health(
    graph: StatusGraphView, demo_session: Session
) -> None:
    for sid, node in graph.node_items.items():
        health = demo_session.health.services[sid]
        expected = display_status(health.status, health.blocked)
        style = STATUS_STYLES[expected]
        assert node.display_status == expected, sid
        assert node.status_text == f"{style.symbol} {style.word}", sid
    assert graph.node_items["frontend"].display_status == "ok"
    assert graph.node_items["auth"].display_status == "failing"


def test_connector_is_marked_as_root_cause(graph: StatusGraphView) -> None:
    marked = [sid for sid, node in graph.node_items.items() if node.root_cause]
    assert marked == ["connector"]


def test_blocking_edges_are_styled_blocked(graph: StatusGraphView, demo_session: Session) -> None:
    for (sid, dep), edge in graph.edge_items.items():
        assert edge.blocked == (dep in demo_session.health.services[sid].blocked_by)
    assert graph.edge_items[("auth", "connector")].blocked
    assert graph.edge_items[("backend", "auth")].blocked
    assert not graph.edge_items[("auth", "database")].blocked  # degraded does not block


def test_only_blocked_services_are_drawn_blocked(qtbot, scripted_session: Session) -> None:
    view = StatusGraphView(scripted_session)
    qtbot.addWidget(view)
    assert view.node_items["auth"].display_status == "blocked"
    assert view.node_items["auth"].status_text == "⊘ BLOCKED"
    assert view.node_items["auth"].look.details == ("blocked by VPC connector",)
    assert view.node_items["connector"].display_status == "failing"
    assert view.node_items["connector"].root_cause


def test_each_status_has_its_own_outline() -> None:
    """Colour is never the only cue: shape or border differs for every status."""
    node = ServiceNodeItem("x", "X", "Cloud Run")
    outlines = []
    for status in ("ok", "degraded", "failing", "blocked", "unknown", "stale"):
        node.set_look(NodeLook(status, status, (), False))
        pen = node.outline_pen()
        outlines.append((node.outline_path(), pen.style(), pen.widthF()))
    for i, first in enumerate(outlines):
        for second in outlines[i + 1 :]:
            assert first != second


def test_dependencies_are_left_of_dependents_and_the_path_reads_left_to_right(
    demo_workspace: Workspace,
) -> None:
    cells = graph_cells(demo_workspace)
    assert len(set(cells.values())) == len(cells), "two services share a cell"
    for sid, service in demo_workspace.services.items():
        for dep in service.depends_on:
            assert cells[dep][0] <= cells[sid][0], (sid, dep)
    path = [step.service for step in demo_workspace.golden_path]
    assert all(cells[s][1] == 0 for s in path)
    columns = [cells[s][0] for s in path]
    assert columns == sorted(columns)


def test_unchanged_health_repaints_nothing(graph: StatusGraphView, demo_session: Session) -> None:
    looks = {sid: node.look for sid, node in graph.node_items.items()}
    changed = [node.set_look(looks[sid]) for sid, node in graph.node_items.items()]
    assert not any(changed)
    assert not any(e.set_blocked(e.blocked) for e in graph.edge_items.values())


def test_graph_fits_the_view(qtbot, graph: StatusGraphView) -> None:
    graph.resize(700, 300)
    graph.show()
    qtbot.waitExposed(graph)
    scale = graph.transform().m11()
    assert 0 < scale <= MAX_SCALE
    visible = graph.mapToScene(graph.viewport().rect()).boundingRect()
    scene = graph.sceneRect()
    assert visible.adjusted(-2, -2, 2, 2).contains(QRectF(scene))


def test_findings_list_puts_the_root_cause_first(qtbot, demo_session: Session) -> None:
    findings = FindingsList(demo_session)
    qtbot.addWidget(findings)
    texts = findings.texts()
    assert texts[0].startswith("◆ ✖ VPC connector · saturation")
    assert any(t.startswith("✖ Auth · ") for t in texts)
    assert not any("Frontend" in t for t in texts)
