"""Parsing and formatting of durations such as ``10m``, ``1h30m``, ``90s`` or ``2 h``.

Used by the workspace file (``history = "1h"``) and the command line (``--at 10m``).
"""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*")


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (``"10m"``, ``"1h30m"``, ``"45"`` = seconds). Raises ``ValueError``."""
    cleaned = text.strip().lower()
    if not cleaned:
        raise ValueError("empty duration: write e.g. 30s, 10m, 1h or 1h30m")
    try:
        seconds = float(cleaned)
    except ValueError:
        pass
    else:
        if seconds < 0:
            raise ValueError(f"duration {text!r} is negative")
        return seconds
    total, pos = 0.0, 0
    while pos < len(cleaned):
        match = _PART.match(cleaned, pos)
        if not match:
            raise ValueError(f"not a duration: {text!r} (write e.g. 30s, 10m, 1h or 1h30m)")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return total


def format_duration(seconds: float) -> str:
    """A short human form: ``42s``, ``7m 05s``, ``2h 03m``, ``3d 4h``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"
