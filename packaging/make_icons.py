"""Render the application icon's PNG sizes from its SVG source (Qt's SVG renderer, offscreen).

    .venv/bin/python packaging/make_icons.py [OUTPUT_DIR]

Writes ``incident-console-{16,32,48,64,128,256,512}.png`` into OUTPUT_DIR (default
``resources/icons``), where the desktop entry, the window icon and the bundle pick them up.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZES = (16, 32, 48, 64, 128, 256, 512)
SOURCE = Path(__file__).resolve().parent.parent / "resources" / "icons" / "incident-console.svg"


def render_icons(output_dir: Path, source: Path = SOURCE) -> list[Path]:
    """Render every size of ``source`` into ``output_dir``; returns the files written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise SystemExit(f"cannot read the icon source {source}")
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = output_dir / f"incident-console-{size}.png"
        if not image.save(str(path)):
            raise SystemExit(f"cannot write {path}")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE.parent
    for path in render_icons(target):
        print(path)
