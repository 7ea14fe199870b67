"""Counting events per whole minute, only for minutes that were fully observed.

The Cloud Logging source counts failing requests from log lines into ``errors_5xx_per_min_logs``
(one point per service per minute, at the minute's end); the demo simulation counts its simulated
5xx the same way. A minute is reported once, after it ended (plus a settling delay for late log
lines), and only when the source was watching for the whole minute: a minute with a gap (the
tail was down and the gap could not be listed) gets no point rather than a false zero.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable

import numpy as np

MINUTE_S = 60.0


class MinuteCounts:
    """Per key, event counts in whole minutes, released once each minute is settled and covered."""

    def __init__(self, keys: Iterable[Hashable], *, settle_s: float = 0.0) -> None:
        self.keys = list(keys)
        self.settle_s = settle_s
        #: Per key and minute, the counts added (summed exactly at release, so the result does
        #: not depend on how the adds were grouped).
        self._counts: dict[Hashable, dict[int, list[float]]] = {key: {} for key in self.keys}
        #: Observed intervals ``[start, end]``, merged, in time order.
        self._covered: list[list[float]] = []
        #: Minutes (by index) before this one are released or abandoned.
        self._next_minute: int | None = None

    def add(self, key: Hashable, t: float, count: float = 1.0) -> None:
        """Count ``count`` events for ``key`` at time ``t`` (ignored for an unknown key)."""
        per_key = self._counts.get(key)
        if per_key is None:
            return
        minute = math.floor(t / MINUTE_S)
        if self._next_minute is not None and minute < self._next_minute:
            return  # that minute was already reported; a late line cannot change it
        per_key.setdefault(minute, []).append(float(count))

    def add_many(self, key: Hashable, times: np.ndarray, counts: np.ndarray) -> None:
        """``add`` for arrays of times and counts."""
        per_key = self._counts.get(key)
        if per_key is None or len(times) == 0:
            return
        minutes = np.floor(np.asarray(times, dtype=np.float64) / MINUTE_S).astype(np.int64)
        values = np.asarray(counts, dtype=np.float64)
        keep = values != 0
        if self._next_minute is not None:
            keep &= minutes >= self._next_minute
        for minute, value in zip(minutes[keep].tolist(), values[keep].tolist(), strict=True):
            per_key.setdefault(minute, []).append(value)

    def observed(self, start: float, end: float) -> None:
        """Record that every event in ``[start, end]`` was (or will be) counted."""
        if end < start:
            return
        if self._next_minute is None:
            self._next_minute = math.ceil(start / MINUTE_S)
        merged: list[list[float]] = []
        for interval in sorted([*self._covered, [start, end]]):
            if merged and interval[0] <= merged[-1][1] + 1e-3:
                merged[-1][1] = max(merged[-1][1], interval[1])
            else:
                merged.append(list(interval))
        self._covered = merged

    def _is_covered(self, t0: float, t1: float) -> bool:
        return any(start <= t0 + 1e-3 and end >= t1 - 1e-3 for start, end in self._covered)

    def release(self, now: float) -> dict[Hashable, tuple[np.ndarray, np.ndarray]]:
        """Counts of every minute that ended at least ``settle_s`` before ``now`` and was fully
        observed, as ``(minute end times, counts)`` per key; each minute is released once."""
        result: dict[Hashable, tuple[list[float], list[float]]] = {k: ([], []) for k in self.keys}
        if self._next_minute is None:
            return {}
        last = math.floor((now - self.settle_s) / MINUTE_S)  # minutes < last have settled
        minute = self._next_minute
        while minute < last:
            t0, t1 = minute * MINUTE_S, (minute + 1) * MINUTE_S
            if self._is_covered(t0, t1):
                for key in self.keys:
                    times, values = result[key]
                    times.append(t1)
                    values.append(math.fsum(self._counts[key].get(minute, ())))
            for key in self.keys:
                self._counts[key].pop(minute, None)
            minute += 1
        self._next_minute = max(self._next_minute, minute)
        horizon = self._next_minute * MINUTE_S
        self._covered = [c for c in self._covered if c[1] > horizon - MINUTE_S]
        return {
            key: (np.asarray(times, dtype=np.float64), np.asarray(values, dtype=np.float64))
            for key, (times, values) in result.items()
            if times
        }
