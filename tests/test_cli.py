"""The command line end to end, as a user runs it: real subprocesses, exit codes, output.

Subprocesses make sure nothing leaks a traceback and the exit codes are what scripts see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import __version__

DEMO_ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=DEMO_ENV,
    )


def assert_clean_failure(result: subprocess.CompletedProcess, code: int = 2) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip(), "a failure must say what went wrong"


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"incident-console {__version__}"


def test_status_demo_json_reports_the_seed_incident() -> None:
    result = run_cli("status", "--demo", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    services = status["services"]
    assert services["auth"]["status"] == "failing"
    assert services["backend"]["status"] == "failing"
    assert services["frontend"]["status"] == "ok"
    assert "connector" in services["auth"]["blocked_by"]
    assert status["golden_path"]["first_broken"] == "auth"
    assert [s["service"] for s in status["golden_path"]["steps"]] == [
        "frontend",
        "auth",
        "backend",
        "websocket",
        "chat",
    ]
    assert status["root_cause"] == "connector"
    assert status["sources"]["simulation"]["state"] == "ok"
    latency = services["auth"]["metrics"]["latency_p95_ms"]
    assert latency["value"] > 2000 and latency["age_s"] < 5
    assert services["connector"]["metrics"]["saturation"]["value"] >= 0.95


def test_status_text_after_fast_forward() -> None:
    result = run_cli("status", "--demo", "--at", "30m")
    assert result.returncode == 0, result.stderr
    assert "BROKEN at Login (auth)" in result.stdout
    assert "Root-cause candidate: VPC connector (connector)" in result.stdout


def test_no_arguments_prefers_incident_toml_in_the_current_folder(tmp_path: Path) -> None:
    demo = Path(__file__).parent.parent / "resources" / "demo.toml"
    text = demo.read_text().replace(
        'title = "Golden path blocked: VPC connector capacity exhausted"',
        'title = "Local workspace"',
    )
    (tmp_path / "incident.toml").write_text(text)
    result = run_cli("status", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["incident"]["title"] == "Local workspace"


def test_check_config_accepts_the_demo() -> None:
    demo = Path(__file__).parent.parent / "resources" / "demo.toml"
    result = run_cli("check-config", str(demo))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
    assert len(result.stdout.strip().splitlines()) == 1


def test_check_config_refuses_a_misspelled_workspace(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[incident]\ntitle = "x"\n\n[[services]]\nid = "auth"\nkind = "cloud_run"\n'
        'resource = "a"\ndepends_ob = ["db"]\n\n[golden_path]\nsteps = ["auth"]\n'
    )
    result = run_cli("check-config", str(bad))
    assert_clean_failure(result)
    assert "depends_ob" in result.stderr and "depends_on" in result.stderr
    assert f"{bad}:8" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--at", "ten minutes"),
        ("status", "--config", "/nonexistent/ws.toml"),
        ("screenshot", "--demo", "--output", "/nonexistent-dir/x.png"),
        ("screenshot", "--demo", "--output", "x.png", "--size", "big"),
        ("check-config",),
        ("no-such-command",),
        ("status", "--demo", "--config", "x.toml"),
    ],
)
def test_bad_usage_exits_2_without_a_traceback(args: tuple[str, ...], tmp_path: Path) -> None:
    assert_clean_failure(run_cli(*args, cwd=tmp_path))


@pytest.mark.slow
def test_screenshot_writes_a_png_of_the_requested_size(tmp_path: Path) -> None:
    out = tmp_path / "demo.png"
    result = run_cli("screenshot", "--demo", "--output", str(out), "--size", "1280x800")
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 800)
