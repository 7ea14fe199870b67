"""Injectable clocks: all time in the engine comes from one of these, never from ``time.time()``.

``SystemClock`` is wall time; ``VirtualClock`` only moves when told to, so tests and the
simulation's fast-forward are deterministic and never sleep.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of the current time, in seconds since the Unix epoch (UTC)."""

    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()


class VirtualClock:
    """A clock that stands still until ``advance`` or ``set`` moves it."""

    def __init__(self, start: float) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backward) and return the new time."""
        if seconds < 0:
            raise ValueError("a virtual clock does not run backward")
        self._now += seconds
        return self._now

    def set(self, t: float) -> None:
        """Jump to ``t``, which must not be earlier than now."""
        if t < self._now:
            raise ValueError("a virtual clock does not run backward")
        self._now = float(t)
