"""The incident banner: environment, DEMO, clocks, the golden-path chips and the root cause.

Built on the deterministic demo session (virtual clock, no threads) or on a scripted one where
only the connector fails, so that the "only blocked" look can be checked too.
"""

from __future__ import annotations

import dataclasses

import pytest

from console.clock import VirtualClock
from console.session import Session
from console.session_factory import build_session
from console.workspace import Workspace
from ui.banner import IncidentBanner, incident_started_at
from ui.theme import STATUS_STYLES

pytestmark = pytest.mark.gui


@pytest.fixture
def banner(qtbot, demo_session: Session) -> IncidentBanner:
    widget = IncidentBanner(demo_session)
    qtbot.addWidget(widget)
    return widget


def chip_for(banner: IncidentBanner, service_name: str):
    return next(chip for chip in banner.chips if chip.service_name == service_name)


def test_demo_staging_banner_says_demo_and_staging(banner: IncidentBanner) -> None:
    assert not banner.demo_label.isHidden()
    assert "DEMO" in banner.demo_label.text()
    assert banner.environment_label.text() == "STAGING"
    assert banner.production_band.isHidden()
    assert banner.title_label.text().startswith("Golden path blocked")
    assert "netra-staging" in banner.location_label.text()
    assert "us-central1" in banner.location_label.text()


def test_production_workspace_shows_the_production_band(
    qtbot, demo_workspace: Workspace, demo_clock: VirtualClock
) -> None:
    incident = dataclasses.replace(demo_workspace.incident, environment="production")
    workspace = dataclasses.replace(demo_workspace, incident=incident)
    session = build_session(workspace, demo_clock)
    widget = IncidentBanner(session)
    qtbot.addWidget(widget)
    assert not widget.production_band.isHidden()
    assert "PRODUCTION" in widget.production_band.text()
    assert widget.environment_label.text() == "PRODUCTION"


def test_golden_path_chips_show_each_step_status(banner: IncidentBanner) -> None:
    assert [chip.service_name for chip in banner.chips] == [
        "Frontend",
        "Auth",
        "Backend",
        "WebSocket",
        "Chat AI",
    ]
    frontend, auth, backend = (chip_for(banner, n) for n in ("Frontend", "Auth", "Backend"))
    assert frontend.display_status == "ok"
    assert frontend.status_text == f"{STATUS_STYLES['ok'].symbol} OK"
    assert auth.display_status == "failing"
    assert auth.status_text == "✖ FAILING"
    assert auth.detail_text == "blocked by VPC connector"
    assert backend.detail_text == "blocked by Auth, VPC connector"


def test_first_broken_step_is_emphasised_and_named(banner: IncidentBanner) -> None:
    emphasised = [chip.service_name for chip in banner.chips if chip.emphasised]
    assert emphasised == ["Auth"]
    assert chip_for(banner, "Backend").place == "downstream"
    assert chip_for(banner, "Frontend").place == "upstream"
    assert "BROKEN at Login (Auth)" in banner.verdict_label.text()


def test_root_cause_line_names_the_connector_and_its_finding(banner: IncidentBanner) -> None:
    text = banner.root_cause_label.text()
    assert "Root-cause candidate: VPC connector (saturation" in text
    assert "≥ 95%" in text


def test_only_blocked_steps_say_blocked_by(qtbot, scripted_session: Session) -> None:
    widget = IncidentBanner(scripted_session)
    qtbot.addWidget(widget)
    auth, backend = chip_for(widget, "Auth"), chip_for(widget, "Backend")
    assert auth.display_status == "blocked"
    assert auth.status_text == "⊘ BLOCKED"
    assert auth.detail_text == "blocked by VPC connector"
    assert backend.detail_text == "blocked by Auth, VPC connector"
    assert chip_for(widget, "Frontend").status_text == "✔ OK"
    assert widget.root_cause_label.text() == (
        "◆ Root-cause candidate: VPC connector (saturation 100% ≥ 95%)"
    )


def test_elapsed_time_counts_from_the_simulated_incident_start(
    banner: IncidentBanner, demo_session: Session
) -> None:
    started = incident_started_at(demo_session, fallback=0.0)
    assert started == demo_session.sources[0].incident_started_at
    banner.set_now(started + 125)
    assert banner.elapsed_label.text() == "incident for 2m 05s"


def test_elapsed_time_falls_back_to_the_session_start(qtbot, scripted_session: Session) -> None:
    widget = IncidentBanner(scripted_session)
    qtbot.addWidget(widget)
    widget.set_now(widget.opened_at + 61)
    assert widget.elapsed_label.text() == "incident for 1m 01s"


def test_banner_follows_health_updates(qtbot, scripted_session: Session) -> None:
    widget = IncidentBanner(scripted_session)
    qtbot.addWidget(widget)
    source = scripted_session.sources[0]
    source.values[("connector", "saturation")] = 0.2
    scripted_session.clock.advance(1)
    scripted_session.poll_sources()
    widget.on_session_update(scripted_session.drain())
    assert [chip.display_status for chip in widget.chips] == ["ok"] * 5
    assert "WHOLE" in widget.verdict_label.text()
    assert "none" in widget.root_cause_label.text()
