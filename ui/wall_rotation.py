"""Which page the wall shows, and when it moves on: rotation, pause, pin, next and previous.

Plain Python with no Qt and no clock of its own: every method takes ``now`` (monotonic seconds,
given by the wall; tests give a virtual clock's time), so rotation is deterministic in tests.

- Rotating: each page stays ``interval_s``, then the next one comes (0 turns rotation off).
- Paused (Space): the page stays; rotation resumes by itself after ``pause_s`` (an unattended
  wall never stays paused for days because someone forgot), or at once on Space again.
- Pinned (P): the page stays until P again; Right/Left move the pin to another page.
- Right/Left while rotating show the next/previous page and give it a full interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: How long Space pauses the rotation before it resumes by itself.
DEFAULT_PAUSE_S = 300.0

RotationMode = Literal["rotating", "paused", "pinned", "off"]


@dataclass(frozen=True)
class RotationState:
    """What the footer says about the rotation: its mode and the seconds until it acts."""

    mode: RotationMode
    #: Seconds until the next page (rotating) or until rotation resumes (paused); else None.
    seconds_left: float | None


class PageRotation:
    """The current page of ``page_count`` and the rules that move it."""

    def __init__(
        self, page_count: int, interval_s: float, now: float, pause_s: float = DEFAULT_PAUSE_S
    ) -> None:
        if page_count < 1:
            raise ValueError("a wall needs at least one page")
        if interval_s < 0:
            raise ValueError("the rotation interval cannot be negative")
        self.page_count = page_count
        self.interval_s = float(interval_s)
        self.pause_s = float(pause_s)
        self.current = 0
        self.pinned = False
        self._paused_until: float | None = None
        self._shown_at = now

    # -- questions ----------------------------------------------------------------------------

    def paused(self, now: float) -> bool:
        """True while a pause lasts."""
        return self._paused_until is not None and now < self._paused_until

    def state(self, now: float) -> RotationState:
        """The mode and countdown to show."""
        if self.pinned:
            return RotationState("pinned", None)
        if self.paused(now):
            assert self._paused_until is not None
            return RotationState("paused", self._paused_until - now)
        if self.interval_s <= 0 or self.page_count == 1:
            return RotationState("off", None)
        return RotationState("rotating", max(0.0, self._shown_at + self.interval_s - now))

    # -- time passing ---------------------------------------------------------------------------

    def advance_if_due(self, now: float) -> bool:
        """Move to the next page if its time has come; True when the page changed."""
        if self._paused_until is not None and now >= self._paused_until:
            self._paused_until = None  # the pause is over: the page gets a fresh interval
            self._shown_at = now
        if self.state(now).mode != "rotating" or now < self._shown_at + self.interval_s:
            return False
        self._show((self.current + 1) % self.page_count, now)
        return True

    # -- keys -----------------------------------------------------------------------------------

    def next(self, now: float) -> int:
        """Show the next page (Right); returns its index."""
        self._show((self.current + 1) % self.page_count, now)
        return self.current

    def previous(self, now: float) -> int:
        """Show the previous page (Left); returns its index."""
        self._show((self.current - 1) % self.page_count, now)
        return self.current

    def go_to(self, index: int, now: float) -> int:
        """Show page ``index`` (0-based); returns it. Raises ``IndexError`` when out of range."""
        if not 0 <= index < self.page_count:
            raise IndexError(f"page {index + 1} does not exist (1..{self.page_count})")
        self._show(index, now)
        return self.current

    def toggle_pause(self, now: float) -> bool:
        """Pause the rotation for ``pause_s`` or resume it now (Space); returns True if paused."""
        if self.paused(now):
            self._paused_until = None
            self._shown_at = now
            return False
        self._paused_until = now + self.pause_s
        return True

    def toggle_pin(self, now: float) -> bool:
        """Pin the current page or release it (P); returns True if pinned."""
        self.pinned = not self.pinned
        self._paused_until = None
        self._shown_at = now
        return self.pinned

    def _show(self, index: int, now: float) -> None:
        self.current = index
        self._shown_at = now
        if self._paused_until is not None:  # looking around restarts the pause
            self._paused_until = now + self.pause_s
