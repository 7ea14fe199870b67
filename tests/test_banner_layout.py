"""The banner keeps its height whatever it shows, so nothing below it jumps when states change.

A status symbol comes from a fallback font taller than the text around it, the step where the
golden path first breaks has a thicker border, and the root-cause line changes with the health:
none of it may change a height (a jumping window is hard to read, and in review it made every
cursor move re-lay out the chart grid).
"""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtWidgets import QApplication

from console.session import Session
from tests.shown_windows import show_for_test
from ui.banner import ElidedLabel, GoldenPathChip, IncidentBanner
from ui.theme import STATUS_STYLES


def test_a_golden_path_chip_has_one_height_in_every_state(qtbot) -> None:
    chip = GoldenPathChip("Auth", "Login")
    qtbot.addWidget(chip)
    heights = set()
    for status in STATUS_STYLES:
        for place in ("upstream", "first_break", "downstream"):
            for detail in ("", "blocked by VPC connector"):
                chip.show_step(status, detail, place)
                heights.add(chip.sizeHint().height())
    assert len(heights) == 1, heights


def test_an_elided_label_is_as_tall_with_or_without_symbols(qtbot) -> None:
    label = ElidedLabel()
    qtbot.addWidget(label)
    label.setStyleSheet("font-size: 13pt; font-weight: bold;")
    heights = set()
    for text in ("", "Root-cause candidate: none", "◆ Root-cause candidate: VPC connector"):
        label.setText(text)
        heights.add(label.sizeHint().height())
    for style in STATUS_STYLES.values():
        label.setText(f"{style.symbol} {style.word}")
        heights.add(label.sizeHint().height())
    assert len(heights) == 1, heights


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's only complaint
def test_the_banner_keeps_its_height_when_the_incident_resolves(
    qtbot, demo_session: Session
) -> None:
    banner = IncidentBanner(demo_session)
    show_for_test(qtbot, banner, (1400, 220))
    banner.show_health(demo_session.health)
    assert demo_session.health.first_broken is not None  # the demo starts broken
    QApplication.processEvents()  # style sheets apply when the labels are polished
    broken = banner.sizeHint().height()
    resolved = dataclasses.replace(demo_session.health, first_broken=None, root_cause_candidates=())
    banner.show_health(resolved)
    QApplication.processEvents()
    assert "none" in banner.root_cause_label.text()
    assert banner.sizeHint().height() == broken
