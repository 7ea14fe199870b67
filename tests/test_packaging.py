"""Packaging: the desktop entry validates, the wheel installs and runs in a fresh venv, and the
PyInstaller bundle renders the demo offscreen.

These build real artifacts (slow: about a minute in all), so they are marked ``slow``; CI runs
them. They work in a temporary folder and never touch the checkout's dist/ or build/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def run(*args: str | Path, cwd: Path | None = None, timeout: float = 600) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=ENV, timeout=timeout
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def assert_png(path: Path, size: tuple[int, int]) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == size


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_desktop_entry_validates_and_names_the_snapshot_type() -> None:
    entry = PACKAGING / "incident-console.desktop"
    result = subprocess.run(
        ["desktop-file-validate", str(entry)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()
    text = entry.read_text()
    assert "MimeType=application/x-incident-snapshot;" in text
    assert (
        'type="application/x-incident-snapshot"'
        in (PACKAGING / "incident-console-mime.xml").read_text()
    )


def test_icon_sizes_render_from_the_svg(tmp_path: Path) -> None:
    out = run(sys.executable, PACKAGING / "make_icons.py", tmp_path)
    written = out.split()
    assert len(written) == 7
    for size in (16, 48, 256, 512):
        assert_png(tmp_path / f"incident-console-{size}.png", (size, size))


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", ROOT)
    wheels = list((tmp_path / "dist").glob("incident_console-*.whl"))
    assert len(wheels) == 1
    venv.create(tmp_path / "venv", with_pip=True)
    py = tmp_path / "venv" / "bin" / "python"
    run(py, "-m", "pip", "install", "-q", wheels[0], timeout=900)
    elsewhere = tmp_path / "elsewhere"  # not the checkout: resources must come from the wheel
    elsewhere.mkdir()
    version = run(tmp_path / "venv" / "bin" / "incident-console", "--version", cwd=elsewhere)
    assert version.startswith("incident-console ")
    status = run(tmp_path / "venv" / "bin" / "incident-console", "status", "--demo", cwd=elsewhere)
    assert "BROKEN at Login (auth)" in status
    where = run(py, "-c", "import console, resources; print(console.__file__)", cwd=elsewhere)
    assert str(tmp_path / "venv") in where


@pytest.mark.slow
def test_bundle_builds_and_renders_the_demo_offscreen(tmp_path: Path) -> None:
    run(
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "ERROR",
        "--distpath",
        tmp_path / "dist",
        "--workpath",
        tmp_path / "build",
        PACKAGING / "incident-console.spec",
        cwd=ROOT,
        timeout=900,
    )
    app = tmp_path / "dist" / "incident-console" / "incident-console"
    assert app.is_file()
    bundled = {p.name for p in (app.parent / "_internal").rglob("*.so*")}
    assert not any(n.startswith(("libqgtk3", "libgtk-3", "libgdk-3")) for n in bundled)
    out = tmp_path / "bundle.png"
    run(app, "screenshot", "--demo", "--output", out, "--size", "1280x800", cwd=tmp_path)
    assert_png(out, (1280, 800))
