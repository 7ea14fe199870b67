"""The engine never imports Qt or the frontend: every ``console`` module imports with them blocked.

Runs in a subprocess so that Qt modules already imported by other tests cannot hide a leak.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import console

PROBE = r"""
import importlib, pkgutil, sys

class BlockFrontend:
    BLOCKED = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "pyqtgraph", "ui")
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError(f"console must not import {name}")
        return None

sys.meta_path.insert(0, BlockFrontend())
import console
for info in pkgutil.walk_packages(console.__path__, "console."):
    if info.name != "console.__main__":
        importlib.import_module(info.name)
print("imported", len(sys.modules))
"""


def test_every_console_module_imports_without_qt_or_ui() -> None:
    modules = [m.name for m in pkgutil.walk_packages(console.__path__, "console.")]
    assert "console.session" in modules and "console.health" in modules
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(console.__file__).parent.parent,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("imported")
