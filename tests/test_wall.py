"""The war-room wall: read-only by construction, pages and keys, honesty about stale data and
source errors, recovery by itself, screenshots at 1920×1080 and 3840×2160, the command line.

Everything runs offscreen. Time is a ``VirtualClock`` (the session's clock and, for rotation, the
wall's monotonic clock); the sources are polled synchronously and the bridge is deterministic,
except in the recovery test, where real worker threads retry a failing source and the test waits
on conditions (never sleeps).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QMenu,
    QMenuBar,
    QToolBar,
)

from console.chart_specs import charts_for
from console.clock import SystemClock, VirtualClock
from console.freshness import clock_text
from console.session import Session
from console.session_factory import build_session
from console.sources import Batch, Source, SourceStatus
from console.workspace import Workspace
from tests.conftest import CONNECTOR_DOWN, ScriptedSource
from ui.session_bridge import SessionBridge
from ui.wall import (
    WallScreenError,
    WallWindow,
    open_wall_review,
    page_outputs,
    render_wall_screenshot,
)
from ui.wall_pages import (
    MAX_CHARTS_PER_PAGE,
    OverviewPage,
    ServicePage,
    chart_parts,
    service_page_layout,
)
from ui.wall_rotation import PageRotation, RotationState
from ui.wall_style import SMALL_PX, WallScale
from ui.wall_workflow_pages import CriteriaPage, TimelinePage

pytestmark = pytest.mark.gui

#: The footer's tabs on the demo: the overview, then each service (golden path first).
DEMO_TABS = [
    "Overview",
    "Recovery",
    "Frontend",
    "Auth",
    "Backend",
    "WebSocket",
    "Chat AI",
    "VPC connector",
    "Cloud SQL",
    "Timeline",
]


class OutageSource:
    """A real source behind a switch: delivering, silent (answers "ok" with nothing new, as a
    monitoring API does when its data stops) or failing (raises, as a refused connection does)."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.name = inner.name
        self.interval_s = inner.interval_s
        self.expected_delay_s = inner.expected_delay_s
        self.mode = "deliver"

    def poll(self, now: float) -> Batch:
        if self.mode == "silent":
            return Batch(self.name, status=SourceStatus(self.name, "ok", "", self.expected_delay_s))
        if self.mode == "error":
            raise ConnectionError("connection refused by monitoring.example:443")
        return self.inner.poll(now)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def monotonic() -> VirtualClock:
    """The wall's rotation clock."""
    return VirtualClock(1000.0)


def show(qtbot, wall: WallWindow, size: tuple[int, int] = (1920, 1080)) -> WallWindow:
    qtbot.addWidget(wall)
    wall.resize(*size)
    wall.show()
    qtbot.waitExposed(wall)
    wall.activateWindow()
    return wall


@pytest.fixture
def demo_wall(qtbot, demo_workspace: Workspace, demo_clock: VirtualClock, monotonic) -> WallWindow:
    """The wall on the read-only demo session, polled once and drained."""
    session = build_session(demo_workspace, demo_clock, read_only=True)
    session.poll_sources()
    session.drain()
    bridge = SessionBridge(session, coalesce_ms=None)
    wall = show(qtbot, WallWindow(session, bridge, rotate_s=20, monotonic=monotonic.now))
    bridge.tick_now()
    yield wall
    session.stop()


@pytest.fixture
def outage() -> OutageSource:
    return OutageSource(ScriptedSource(CONNECTOR_DOWN))


@pytest.fixture
def outage_wall(
    qtbot, demo_workspace: Workspace, demo_clock: VirtualClock, outage: OutageSource, monotonic
) -> Iterator[WallWindow]:
    """The wall on a read-only session fed by a source the test can silence or break."""
    session = Session(demo_workspace, demo_clock, [outage], read_only=True)
    session.poll_sources()
    session.drain()
    bridge = SessionBridge(session, coalesce_ms=None)
    wall = show(qtbot, WallWindow(session, bridge, rotate_s=20, monotonic=monotonic.now))
    bridge.tick_now()
    yield wall
    session.stop()


def step(wall: WallWindow, clock: VirtualClock, seconds: float = 1.0) -> None:
    """One second of a live wall: time passes, the sources are polled, the bridge ticks."""
    clock.advance(seconds)
    wall.session.poll_sources()
    wall.bridge.tick_now()


# -- read-only by construction ---------------------------------------------------------------


def test_wall_mode_builds_no_executor_and_shows_no_action_ui(
    demo_workspace: Workspace, demo_clock: VirtualClock, demo_wall: WallWindow
) -> None:
    # The same factory gives a desk session an executor: the check below can fail.
    desk = build_session(demo_workspace, demo_clock)
    try:
        assert not desk.read_only
        assert getattr(desk, "executor", None) is not None
    finally:
        desk.stop()

    session = demo_wall.session
    assert session.read_only
    assert not hasattr(session, "executor")
    assert not hasattr(demo_wall, "executor")
    assert not any("executor" in name.lower() for name in vars(demo_wall))
    for kind in (QToolBar, QMenuBar, QMenu, QAbstractButton):
        assert demo_wall.findChildren(kind) == [], kind.__name__
    texts = {action.text() for action in demo_wall.key_actions}
    assert texts >= {"Next page", "Previous page", "Pause rotation", "Pin page", "Keys", "Quit"}
    changing = ("scale", "route", "traffic", "execute", "apply", "rollback", "action")
    assert not [t for t in texts if any(word in t.lower() for word in changing)]


def test_the_wall_refuses_a_session_that_could_act(
    qtbot, demo_workspace: Workspace, demo_clock: VirtualClock
) -> None:
    session = build_session(demo_workspace, demo_clock)
    try:
        with pytest.raises(ValueError, match="read-only"):
            WallWindow(session, SessionBridge(session, coalesce_ms=None))
    finally:
        session.stop()


def test_read_only_window_sessions_get_no_executor(demo_workspace: Workspace) -> None:
    from ui.app import _open_session

    session = _open_session(demo_workspace, None, lambda _: False, read_only=True)
    assert session is not None
    try:
        assert session.read_only and not hasattr(session, "executor")
    finally:
        session.stop()


# -- pages -----------------------------------------------------------------------------------


def demo_page_count(workspace: Workspace) -> int:
    """Overview, recovery, each service's pages, timeline."""
    return 3 + sum(len(chart_parts(charts_for(s.kind))) for s in workspace.services.values())


def test_pages_are_the_overview_then_each_service_with_all_its_charts(
    demo_wall: WallWindow,
) -> None:
    workspace = demo_wall.session.workspace
    assert isinstance(demo_wall.pages[0], OverviewPage)
    assert len(demo_wall.pages) == demo_page_count(workspace)
    assert [demo_wall.pages[tab[0]].group_title for tab in demo_wall.tabs] == DEMO_TABS
    assert isinstance(demo_wall.pages[1], CriteriaPage)
    assert isinstance(demo_wall.pages[-1], TimelinePage)
    for tab in demo_wall.tabs[2:-1]:
        pages = [demo_wall.pages[i] for i in tab]
        assert all(isinstance(page, ServicePage) for page in pages)
        service_pages = [page for page in pages if isinstance(page, ServicePage)]
        kind = workspace.services[service_pages[0].service_id].kind
        shown = [chart.title for page in service_pages for chart in page.charts]
        assert shown == [spec.title for spec in charts_for(kind)]  # every chart, in order
        assert all(1 <= len(page.charts) <= MAX_CHARTS_PER_PAGE for page in service_pages)
        if len(pages) > 1:
            assert pages[0].title.endswith(f"1/{len(pages)}")


def test_charts_split_evenly_over_pages() -> None:
    assert [len(part) for part in chart_parts(list(range(6)))] == [3, 3]
    assert [len(part) for part in chart_parts(list(range(5)))] == [5]
    assert [len(part) for part in chart_parts(list(range(11)))] == [4, 4, 3]


def test_overview_shows_the_golden_path_by_word_and_symbol_and_the_root_cause(
    demo_wall: WallWindow,
) -> None:
    overview = demo_wall.pages[0]
    assert isinstance(overview, OverviewPage)
    labels = [label for label, *_ in overview.golden_path.steps]
    assert labels == ["Open app", "Login", "API", "WebSocket", "AI response"]
    places = [place for *_, place in overview.golden_path.steps]
    assert places.count("first_break") == 1
    status, verdict = overview.verdict.verdict
    assert status == "failing" and verdict.startswith("✖ GOLDEN PATH BROKEN at")
    assert overview.verdict.root_cause is not None
    assert "VPC connector" in overview.verdict.root_cause
    assert overview.worst_signals.rows[0][1].startswith("◆")  # the root cause's findings first
    # The footer names every page with its status symbol.
    assert [title for title, _ in demo_wall.footer.tabs] == DEMO_TABS
    assert dict(demo_wall.footer.tabs)["VPC connector"] == "failing"
    assert demo_wall.footer.tab_label(DEMO_TABS.index("Auth")) == "4 ✖ Auth"


def test_a_service_page_charts_the_session_data(demo_wall: WallWindow) -> None:
    demo_wall.go_to_tab(DEMO_TABS.index("Auth"))
    page = demo_wall.current_page
    assert isinstance(page, ServicePage)
    assert page.status_panel.status == "failing"
    latency = page.charts[0]
    assert latency.title == "Latency"
    assert all(curve.t.size > 100 for curve in latency.curves)
    assert latency.values[1].endswith(" s")  # p95 in seconds: the incident's latency
    assert latency.age_text.endswith("ago")
    assert latency.header.alert is not None  # latency breaches its threshold


def test_service_pages_lay_their_cells_out_for_a_wide_screen() -> None:
    for charts in range(0, 6):
        cells, stretches = service_page_layout(charts)
        assert len(cells) == charts + 1  # the status panel, then each chart
        covered = [
            (r, c)
            for row, col, rows, cols in cells
            for r in range(row, row + rows)
            for c in range(col, col + cols)
        ]
        assert len(covered) == len(set(covered))  # no two cells overlap
        assert max(c for _, c in covered) < len(stretches)
    # Two charts: stacked right of a panel as high as both, in a column twice as wide.
    assert service_page_layout(2) == ([(0, 0, 2, 1), (0, 1, 1, 1), (1, 1, 1, 1)], [1, 2])


def test_the_recovery_page_shows_every_criterion_and_the_verdict(
    demo_wall: WallWindow, demo_clock: VirtualClock
) -> None:
    demo_wall.go_to_tab(DEMO_TABS.index("Recovery"))
    step(demo_wall, demo_clock)
    page = demo_wall.current_page
    assert isinstance(page, CriteriaPage)
    workspace = demo_wall.session.workspace
    assert [s.spec.id for s in page.statuses] == [c.id for c in workspace.criteria]
    assert page.verdict is not None and not page.verdict.recovered
    assert page.page_status() == "failing"  # the seed incident: nothing recovered yet


def test_the_timeline_page_lists_what_happened_newest_first(
    demo_wall: WallWindow, demo_clock: VirtualClock
) -> None:
    demo_wall.session.add_timeline_entry("note", "Scaling the connector to 10 instances")
    step(demo_wall, demo_clock)
    demo_wall.go_to_tab(DEMO_TABS.index("Timeline"))
    page = demo_wall.current_page
    assert isinstance(page, TimelinePage)
    assert page.entries[0].text == "Scaling the connector to 10 instances"
    times = [entry.t for entry in page.entries]
    assert times == sorted(times, reverse=True)
    assert any(entry.kind == "golden_path" for entry in page.entries)


# -- keys and rotation -----------------------------------------------------------------------


def test_rotation_rules_without_a_window() -> None:
    rotation = PageRotation(3, 20, now=0.0)
    assert rotation.state(5.0) == RotationState("rotating", 15.0)
    assert not rotation.advance_if_due(19.9)
    assert rotation.advance_if_due(20.0) and rotation.current == 1
    assert rotation.previous(21.0) == 0 and rotation.previous(21.0) == 2
    with pytest.raises(IndexError, match="page 4 does not exist"):
        rotation.go_to(3, 22.0)
    still = PageRotation(3, 0, now=0.0)
    assert still.state(10_000.0).mode == "off"
    assert not still.advance_if_due(10_000.0)


def test_right_and_left_move_between_pages(qtbot, demo_wall: WallWindow) -> None:
    qtbot.keyClick(demo_wall, Qt.Key.Key_Right)
    assert demo_wall.page_index == 1
    assert demo_wall.header.page_title == "Recovery"
    qtbot.keyClick(demo_wall, Qt.Key.Key_Left)
    qtbot.keyClick(demo_wall, Qt.Key.Key_Left)
    assert demo_wall.page_index == len(demo_wall.pages) - 1
    assert demo_wall.footer.current == len(DEMO_TABS) - 1
    qtbot.keyClick(demo_wall, Qt.Key.Key_4)  # the fourth tab: Auth's first page
    assert demo_wall.tab_index == 3
    assert demo_wall.page_index == demo_wall.tabs[3][0]
    assert demo_wall.stack.currentWidget() is demo_wall.current_page
    assert demo_wall.header.page_title.startswith("Auth")


def test_pages_rotate_at_the_interval(
    demo_wall: WallWindow, demo_clock: VirtualClock, monotonic: VirtualClock
) -> None:
    monotonic.advance(19)
    step(demo_wall, demo_clock)
    assert demo_wall.page_index == 0
    assert demo_wall.rotation_text() == "▶ next page in 1s"
    monotonic.advance(1)
    step(demo_wall, demo_clock)
    assert demo_wall.page_index == 1
    for _ in range(len(demo_wall.pages) - 1):
        monotonic.advance(20)
        step(demo_wall, demo_clock)
    assert demo_wall.page_index == 0  # round the whole wall and back


def test_space_pauses_the_rotation_which_resumes_by_itself(
    qtbot, demo_wall: WallWindow, demo_clock: VirtualClock, monotonic: VirtualClock
) -> None:
    qtbot.keyClick(demo_wall, Qt.Key.Key_Space)
    assert demo_wall.rotation.paused(monotonic.now())
    monotonic.advance(120)
    step(demo_wall, demo_clock)
    assert demo_wall.page_index == 0
    assert demo_wall.footer.rotation_text.startswith("❚❚ PAUSED · resumes in 3m")
    qtbot.keyClick(demo_wall, Qt.Key.Key_Space)  # Space again resumes at once
    monotonic.advance(20)
    step(demo_wall, demo_clock)
    assert demo_wall.page_index == 1
    qtbot.keyClick(demo_wall, Qt.Key.Key_Space)
    monotonic.advance(301)  # nobody resumed: after five minutes the wall moves on by itself
    step(demo_wall, demo_clock)
    monotonic.advance(20)
    step(demo_wall, demo_clock)
    assert demo_wall.page_index == 2


def test_p_pins_the_page_and_arrows_move_the_pin(
    qtbot, demo_wall: WallWindow, demo_clock: VirtualClock, monotonic: VirtualClock
) -> None:
    qtbot.keyClick(demo_wall, Qt.Key.Key_P)
    assert demo_wall.rotation.pinned
    monotonic.advance(3600)
    step(demo_wall, demo_clock)
    assert demo_wall.page_index == 0
    assert demo_wall.footer.rotation_text.startswith("⚑ PINNED")
    qtbot.keyClick(demo_wall, Qt.Key.Key_Right)
    monotonic.advance(3600)
    step(demo_wall, demo_clock)
    assert demo_wall.page_index == 1 and demo_wall.rotation.pinned
    qtbot.keyClick(demo_wall, Qt.Key.Key_P)
    monotonic.advance(20)
    step(demo_wall, demo_clock)
    assert demo_wall.page_index == 2


def test_f1_shows_the_keys_and_esc_closes_them_then_the_wall(qtbot, demo_wall: WallWindow) -> None:
    qtbot.keyClick(demo_wall, Qt.Key.Key_F1)
    assert demo_wall.help_overlay.isVisible()
    qtbot.keyClick(demo_wall, Qt.Key.Key_Escape)
    assert not demo_wall.help_overlay.isVisible()
    assert demo_wall.isVisible()
    qtbot.keyClick(demo_wall, Qt.Key.Key_Escape)
    assert not demo_wall.isVisible()


def test_ctrl_q_quits(qtbot, demo_wall: WallWindow) -> None:
    qtbot.keyClick(demo_wall, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not demo_wall.isVisible()


def test_the_cursor_hides_when_idle_and_returns_on_movement(
    qtbot, demo_workspace: Workspace, demo_clock: VirtualClock
) -> None:
    session = Session(demo_workspace, demo_clock, [ScriptedSource(CONNECTOR_DOWN)], read_only=True)
    wall = show(
        qtbot, WallWindow(session, SessionBridge(session, coalesce_ms=None), cursor_idle_ms=20)
    )
    qtbot.waitUntil(lambda: wall.cursor_hider.hidden, timeout=2000)
    assert QApplication.overrideCursor().shape() == Qt.CursorShape.BlankCursor
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(10, 10),
        QPointF(10, 10),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(wall, move)
    assert not wall.cursor_hider.hidden
    assert QApplication.overrideCursor() is None
    qtbot.waitUntil(lambda: wall.cursor_hider.hidden, timeout=2000)
    wall.close()  # closing gives the cursor back
    assert QApplication.overrideCursor() is None


# -- honesty ---------------------------------------------------------------------------------


def test_header_shows_clock_incident_time_and_data_age(
    demo_wall: WallWindow, demo_clock: VirtualClock
) -> None:
    step(demo_wall, demo_clock)
    header = demo_wall.header
    assert header.clock_text == clock_text(demo_clock.now(), demo_clock.now())
    assert header.elapsed_text  # since the simulated incident began
    assert header.data_age_text in ("0s", "1s") and header.data_age_style is None
    assert demo_wall.alert_headlines == []


def test_stale_banner_appears_within_the_expected_delay_and_goes_when_data_returns(
    outage_wall: WallWindow, outage: OutageSource, demo_clock: VirtualClock
) -> None:
    session = outage_wall.session
    last_good = demo_clock.now()
    limit = session.stale_after()["frontend"]
    assert limit == 15.0  # the source's expected delay (0) plus the session's margin
    outage.mode = "silent"
    appeared_after = None
    for second in range(1, 60):
        step(outage_wall, demo_clock)
        stale = [h for h in outage_wall.alert_headlines if "STALE" in h]
        if stale:
            appeared_after = second
            break
        assert second <= limit, "still no STALE banner past the stale limit"
    assert appeared_after is not None
    assert limit < appeared_after <= limit + 2  # within the expected delay plus one tick
    headline = outage_wall.alert_headlines[0]
    assert headline.startswith("◷ STALE · no new data since")
    assert clock_text(last_good, demo_clock.now()) in headline
    assert outage_wall.alert_banner.isVisible()
    assert outage_wall.stale_frame
    assert outage_wall.header.data_age_style == "stale"
    assert "every service" in outage_wall.alert_banner.alerts[0].detail
    overview = outage_wall.pages[0]
    assert isinstance(overview, OverviewPage)
    # Nothing old passes for a verdict: every tile says STALE, no cause is named.
    assert {status for _, _, status, _, _ in overview.golden_path.steps} == {"stale"}
    assert overview.verdict.root_line == "Root-cause candidate: unknown (no fresh data for 7)"
    assert len(overview.worst_signals.unjudged) == len(session.workspace.services)

    outage.mode = "deliver"
    step(outage_wall, demo_clock)
    assert outage_wall.alert_headlines == []
    assert not outage_wall.alert_banner.isVisible()
    assert not outage_wall.stale_frame
    assert outage_wall.header.data_age_style is None


def test_a_source_error_is_on_the_wall_at_once(
    outage_wall: WallWindow, outage: OutageSource, demo_clock: VirtualClock
) -> None:
    outage.mode = "error"
    step(outage_wall, demo_clock)
    headlines = outage_wall.alert_headlines
    assert headlines == [
        "✖ SOURCE ERROR · scripted: ConnectionError: connection refused by monitoring.example:443"
    ]
    detail = outage_wall.alert_banner.alerts[0].detail
    assert detail.startswith("since ") and detail.endswith("retrying by itself")
    assert outage_wall.header.data_age_style == "failing"
    for _ in range(16):  # the error goes on: its data goes stale too, and both are said
        step(outage_wall, demo_clock)
    kinds = [alert.kind for alert in outage_wall.alert_banner.alerts]
    assert kinds == ["stale", "error"]
    assert "(16s)" in outage_wall.alert_banner.alerts[1].detail  # since when, still counting

    outage.mode = "deliver"
    step(outage_wall, demo_clock)
    assert outage_wall.alert_headlines == []


def test_before_the_first_data_the_wall_says_so(
    qtbot, demo_workspace: Workspace, demo_clock: VirtualClock
) -> None:
    session = Session(demo_workspace, demo_clock, [ScriptedSource(CONNECTOR_DOWN)], read_only=True)
    wall = show(qtbot, WallWindow(session, SessionBridge(session, coalesce_ms=None)))
    assert wall.alert_headlines == ["? NO DATA YET · waiting for scripted"]
    assert wall.header.data_age_text == "NO DATA"


class FlakySource:
    """Fails while ``outage`` is set, like a network that comes and goes."""

    name = "flaky"
    interval_s = 0.02
    expected_delay_s = 0.0

    def __init__(self) -> None:
        self.outage = threading.Event()
        self.outage.set()
        self.inner = ScriptedSource(CONNECTOR_DOWN)

    def poll(self, now: float) -> Batch:
        if self.outage.is_set():
            raise TimeoutError("deadline exceeded after 5 s")
        batch = self.inner.poll(now)
        batch.source = self.name
        batch.status = SourceStatus(self.name, "ok")
        return batch

    def close(self) -> None:
        pass


def test_the_wall_recovers_by_itself_when_the_source_comes_back(
    qtbot, demo_workspace: Workspace
) -> None:
    source = FlakySource()
    session = Session(demo_workspace, SystemClock(), [source], read_only=True)
    bridge = SessionBridge(session)
    wall = show(qtbot, WallWindow(session, bridge))
    bridge.start()
    try:
        qtbot.waitUntil(
            lambda: any("SOURCE ERROR · flaky: TimeoutError" in h for h in wall.alert_headlines),
            timeout=5000,
        )
        source.outage.clear()  # the network is back; nobody touches the wall
        qtbot.waitUntil(lambda: wall.alert_headlines == [], timeout=10_000)
        assert wall.freshness is not None and wall.freshness.live
    finally:
        bridge.stop()


# -- scaling and screenshots -----------------------------------------------------------------


def test_sizes_follow_the_window_height() -> None:
    full_hd, uhd = WallScale(1920, 1080), WallScale(3840, 2160)
    assert uhd.px(SMALL_PX) == 2 * full_hd.px(SMALL_PX) == 2 * SMALL_PX
    assert WallScale(1280, 1024).factor == pytest.approx(1280 / 1920)  # narrower than 16:9


def test_the_layout_scales_from_full_hd_to_4k_without_clipping(
    qtbot, demo_wall: WallWindow
) -> None:
    heights = {}
    for size in ((1920, 1080), (3840, 2160)):
        demo_wall.resize(*size)
        qtbot.waitUntil(lambda size=size: demo_wall.stack.height() > 0.5 * size[1])
        heights[size] = (demo_wall.header.height(), demo_wall.footer.height())
        for index, page in enumerate(demo_wall.pages):
            demo_wall.go_to_page(index)
            QApplication.processEvents()
            assert page.geometry().bottom() < demo_wall.stack.height()
            if isinstance(page, ServicePage):
                for chart in page.charts:
                    # Every chart keeps a readable plot: at least a fifth of the screen high.
                    assert chart.plot_widget.height() >= size[1] / 5, (page.title, chart.title)
    (header_hd, footer_hd), (header_4k, footer_4k) = heights.values()
    assert header_4k == pytest.approx(2 * header_hd, abs=2)
    assert footer_4k == pytest.approx(2 * footer_hd, abs=2)


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_screenshots_of_every_page_have_the_requested_size(
    demo_workspace: Workspace, tmp_path: Path, size: tuple[int, int]
) -> None:
    written = render_wall_screenshot(demo_workspace, tmp_path / "wall.png", size, page=None)
    count = demo_page_count(demo_workspace)
    assert [p.name for p in written] == [f"wall-{n}.png" for n in range(1, count + 1)]
    for path in written:
        image = QImage(str(path))
        assert (image.width(), image.height()) == size
        # Not blank: texts, tiles and curves put many colours on every page.
        step = size[0] // 96
        colours = {
            image.pixel(x, y) for x in range(0, size[0], step) for y in range(0, size[1], step)
        }
        assert len(colours) > 20, path.name


def test_page_outputs_name_each_page_and_refuse_a_missing_one(tmp_path: Path) -> None:
    assert page_outputs(tmp_path / "w.png", 2, 8) == [(1, tmp_path / "w.png")]
    assert page_outputs(tmp_path / "w.png", None, 2) == [
        (0, tmp_path / "w-1.png"),
        (1, tmp_path / "w-2.png"),
    ]
    with pytest.raises(WallScreenError, match="no page 9"):
        page_outputs(tmp_path / "w.png", 9, 8)


# -- a recording on the wall ------------------------------------------------------------------

RECORDING = Path(__file__).parent / "fixtures" / "snapshot-v1.incident"


def test_a_recording_on_the_wall_is_read_only_and_never_looks_live(qtbot) -> None:
    wall = open_wall_review(RECORDING, deterministic=True)
    show(qtbot, wall)
    wall.bridge.tick_now()
    assert wall.session.read_only and not hasattr(wall.session, "executor")
    headline = wall.alert_headlines[0]
    assert headline.startswith("● RECORDING · NOT LIVE · snapshot-v1.incident · recorded ")
    assert wall.header.data_age_text == "● REC"
    assert wall.alert_banner.isVisible()


@pytest.mark.slow
def test_cli_opens_a_recording_on_the_wall_as_a_screenshot(tmp_path: Path) -> None:
    out = tmp_path / "rec.png"
    result = run_cli(
        "open", str(RECORDING), "--wall", "--screenshot", str(out), "--size", "1920x1080"
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1920, 1080)


# -- command line ----------------------------------------------------------------------------


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


@pytest.mark.slow
def test_cli_screenshot_of_a_wall_page(tmp_path: Path) -> None:
    out = tmp_path / "wall.png"
    result = run_cli(
        "screenshot", "--wall", "--demo", "--size", "3840x2160", "--page", "3", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (3840x2160)" in result.stdout
    image = QImage(str(out))
    assert (image.width(), image.height()) == (3840, 2160)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("screenshot", "--wall", "--demo", "--page", "99", "-o", "w.png"), "no page 99"),
        (("screenshot", "--demo", "--page", "2", "-o", "w.png"), "add --wall"),
        (("--wall", "--demo", "--screen", "7"), "there is no screen 7"),
        (("--screen", "2", "--demo"), "only for the wall"),
        (("--wall", "--rotate", "2s", "--demo"), "too short"),
        (("--wall", "status", "--demo"), "only for the wall"),
        (("--screen", "4", "open", str(RECORDING), "--wall"), "there is no screen 4"),
        (("--rotate", "30s", "open", str(RECORDING)), "only for the wall"),
        (("--read-only", "status", "--demo"), "--read-only is for the window"),
    ],
)
def test_cli_refuses_bad_wall_usage_with_exit_2(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert not list(tmp_path.iterdir())  # nothing written
