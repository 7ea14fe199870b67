"""The ``report`` and ``open`` commands, end to end in real subprocesses: the post-incident report
of a recorded demo (summary, outage window, timeline, actions with before/after, criteria, the
pictures as PNG data URIs), ``open --screenshot``, and every kind of bad file refused with one
line and exit 2, the file untouched.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from console.timeline import TimelineEntry
from tests.damaged_snapshots import DAMAGED_SNAPSHOTS
from tests.recordings import record_demo, write_snapshot
from tests.test_health import HEALTHY, INCIDENT, make_workspace

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_700_000_000.0
DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def console(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_demo(tmp_path_factory.mktemp("report") / "demo.incident", duration_s=300)


@pytest.mark.slow
def test_report_of_a_recorded_demo(demo_recording: Path, tmp_path: Path) -> None:
    output, images = tmp_path / "report.html", tmp_path / "pictures"
    result = console(
        "report", str(demo_recording), "--output", str(output), "--images", str(images)
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == f"wrote {output} and 2 pictures in {images}"
    text = output.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    # Summary: duration, the golden path's outage window, services affected.
    assert "Post-incident report: Golden path blocked: VPC connector capacity exhausted" in text
    assert "(1h 04m)" in text  # an hour of history and five recorded minutes (less 1 s)
    assert re.search(r"BROKEN</span> from \d\d:\d\d:\d\d UTC, still broken at the end", text)
    assert "<th>Broken at</th><td>Login (Auth)</td>" in text
    assert "<b>VPC connector</b> (the candidate for" in text
    for service in ("Auth", "Backend", "WebSocket", "Chat AI", "VPC connector"):
        assert f'{service} <span class="pill"' in text
    assert "no actions recorded" in text and "No recovery criteria recorded." in text
    # Timeline.
    assert "<td>recording started</td>" in text and "golden path broken at Auth" in text
    # Pictures: embedded PNGs, the same as the files written beside.
    embedded = [base64.b64decode(data) for data in DATA_URI.findall(text)]
    assert [p.read_bytes() for p in sorted(images.iterdir())] == [embedded[1], embedded[0]]
    for png, name in zip(embedded, ("golden-path.png", "charts.png"), strict=True):
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        image = QImage(str(images / name))
        assert image.width() == 1400 and image.height() > 40
    assert QImage(str(images / "charts.png")).height() > 7 * 100  # a row per service
    assert sorted(p.name for p in demo_recording.parent.iterdir()) == ["demo.incident"]


@pytest.fixture
def incident_with_actions(tmp_path: Path) -> Path:
    """Ten minutes, broken from +200 s to +400 s, an action with before/after, criteria."""
    t = T0 + np.arange(600, dtype=float)
    series = {}
    for key, healthy in HEALTHY.items():
        values = np.full(600, healthy)
        values[200:400] = INCIDENT[key]
        series[key] = (t, values)
    timeline = [
        TimelineEntry(
            T0 + 300,
            "action",
            "✔ scale-connector staging-connector succeeded: max 3 → 10",
            {
                "outcome": "succeeded",
                "before": {"min_instances": 2, "max_instances": 3, "machine_type": "e2-micro"},
                "after": {"min_instances": 2, "max_instances": 10, "machine_type": "e2-micro"},
                "who": {"local": "ic", "cloud": "ic@example.com"},
                "gcloud": "gcloud compute networks vpc-access connectors update …",
            },
        ),
        TimelineEntry(
            T0 + 450,
            "criterion",
            "✔ criterion met: endpoints under 2 s",
            {"criterion": "latency", "state": "met"},
        ),
        TimelineEntry(
            T0 + 500,
            "recovery",
            "RECOVERED: all 1 recovery criteria met",
            {"recovered": True, "criteria": ["latency"]},
        ),
        TimelineEntry(
            T0 + 210, "note", "paged <networking> & the <b>DB</b> team", {"starred": True}
        ),
    ]
    return write_snapshot(tmp_path / "actions.incident", make_workspace(), series, timeline)


def test_report_shows_actions_before_and_after_and_criteria(
    incident_with_actions: Path, tmp_path: Path
) -> None:
    from ui.incident_report import write_report

    output = tmp_path / "report.html"
    write_report(incident_with_actions, output)
    text = output.read_text(encoding="utf-8")
    assert "restored at 22:20:00 UTC" in text  # T0 + 400 s, located to the second
    assert "broken for 3m 20s in all" in text
    assert (
        "<h3>22:18:20 UTC · ✔ scale-connector staging-connector succeeded: max 3 → 10</h3>" in text
    )
    assert "<tr><td>max_instances</td><td>3</td><td>10 ◀</td></tr>" in text
    assert "<tr><td>min_instances</td><td>2</td><td>2</td></tr>" in text
    assert "<dt>who</dt><dd>{&quot;cloud&quot;: &quot;ic@example.com&quot;" in text
    assert "<td>latency</td><td>✔ criterion met: endpoints under 2 s</td>" in text
    assert "RECOVERED at 22:21:40 UTC" in text
    assert "1 succeeded" in text
    # Text from the recording is escaped, never markup.
    assert "paged &lt;networking&gt; &amp; the &lt;b&gt;DB&lt;/b&gt; team ★" in text
    assert "<b>DB</b>" not in text


def test_open_screenshot_in_a_subprocess(demo_recording: Path, tmp_path: Path) -> None:
    output = tmp_path / "review.png"
    result = console(
        "open",
        str(demo_recording),
        "--at",
        "20m",
        "--screenshot",
        str(output),
        "--size",
        "1280x800",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {output} (1280x800)"
    image = QImage(str(output))
    assert (image.width(), image.height()) == (1280, 800)


# -- bad input ---------------------------------------------------------------------------------


#: The damages ``open`` and ``report`` are tried with (the messages as ``open_snapshot`` says them).
BAD = {
    name: DAMAGED_SNAPSHOTS[name]
    for name in ("truncated", "random bytes", "newer version", "empty")
}


@pytest.mark.parametrize("command", ["open", "report"])
@pytest.mark.parametrize("case", list(BAD))
def test_bad_files_get_one_line_and_exit_2(
    demo_recording: Path, tmp_path: Path, case: str, command: str
) -> None:
    make, expected = BAD[case]
    path = tmp_path / "bad.incident"
    make(path, demo_recording)
    before = path.read_bytes()
    output = tmp_path / "out.html"
    args = (
        ["--output", str(output)]
        if command == "report"
        else ["--screenshot", str(tmp_path / "x.png")]
    )
    result = console(command, str(path), *args, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and str(path) in lines[0], result.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.incident"]


@pytest.mark.parametrize("command", ["open", "report"])
def test_a_missing_file_or_bad_arguments_get_one_line_and_exit_2(
    demo_recording: Path, tmp_path: Path, command: str
) -> None:
    extra = ["--output", str(tmp_path / "r.html")] if command == "report" else []
    result = console(command, str(tmp_path / "nowhere.incident"), *extra, timeout=120)
    assert result.returncode == 2
    assert (
        result.stderr.strip() == f"incident-console: {tmp_path / 'nowhere.incident'}: no such file"
    )
    if command == "open":
        result = console("open", str(demo_recording), "--at", "soon", timeout=120)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "--at soon: not a moment of the recording" in result.stderr
    else:
        result = console("report", str(demo_recording), "--output", str(tmp_path / "no" / "r.html"))
        assert result.returncode == 2
        assert "does not exist" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", ["open", "report"])
def test_an_unreadable_file_gets_one_line_and_exit_2(
    demo_recording: Path, world_readable_folder: Path, command: str
) -> None:
    path = world_readable_folder / "locked.incident"
    shutil.copyfile(demo_recording, path)
    path.chmod(0o000)
    prefix: list[str] = []
    if os.geteuid() == 0:
        # Root reads anything: drop the capabilities that let it, as a real user lacks them.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    extra = ["--output", str(world_readable_folder / "r.html")] if command == "report" else []
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "console", command, str(path), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"incident-console: {path}: permission denied"
    assert sorted(p.name for p in world_readable_folder.iterdir()) == ["locked.incident"]
