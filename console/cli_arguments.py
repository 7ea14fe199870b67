"""Value types for the command line's arguments, shared by every command module.

Each turns a string into a value or raises ``argparse.ArgumentTypeError`` with a message that says
what to write instead, so argparse reports it as bad usage (exit 2), never as a traceback.
"""

from __future__ import annotations

import argparse

from console.durations import parse_duration


def duration_argument(text: str) -> float:
    """Seconds in ``10m``, ``1h30m``, ``45`` (zero allowed)."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_duration_argument(text: str) -> float:
    """Seconds in a duration that must be longer than zero."""
    seconds = duration_argument(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"duration {text!r} must be longer than zero")
    return seconds


def size_argument(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` in pixels, each side 200..8192."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a size: {text!r} (write WIDTHxHEIGHT, e.g. 1600x1000)"
        ) from None
    if not (200 <= width <= 8192 and 200 <= height <= 8192):
        raise argparse.ArgumentTypeError(f"size {text} out of range (200..8192 per side)")
    return width, height
