"""Bounded in-memory time series: one ring buffer of float64 per series ``(service, metric)``.

Memory is fixed by the capacity, whatever the session length; long history lives in the flight
recorder's file, not here. Each ring keeps every sample twice (at ``i`` and ``i + capacity``), so
any window of the newest ``capacity`` samples is one contiguous numpy view: reads for charts never
copy or build Python lists. Samples must arrive in time order per series; an older or equal
timestamp than the newest is dropped (sources deliver out-of-order points now and then).

Views stay valid only until the ring wraps over them: a consumer that keeps an array (pyqtgraph
keeps what ``setData`` is given) must copy it, or use a downsampled result, which is a copy.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from console.sources import SeriesKey

#: Six hours at one sample per second: the longest chart range at full resolution.
DEFAULT_CAPACITY = 6 * 3600


class SeriesRing:
    """A fixed-capacity ring of ``(timestamp, value)`` samples, readable as contiguous views."""

    __slots__ = ("_count", "_next", "_t", "_v", "capacity", "version")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._t = np.zeros(2 * capacity, dtype=np.float64)
        self._v = np.zeros(2 * capacity, dtype=np.float64)
        self._next = 0  # index in [0, capacity) where the next sample goes
        self._count = 0
        #: Bumped on every append that adds samples; views compare it to skip repaints.
        self.version = 0

    def __len__(self) -> int:
        return self._count

    def append(self, timestamps: np.ndarray, values: np.ndarray) -> int:
        """Append samples newer than the newest held; returns how many were kept."""
        ts = np.asarray(timestamps, dtype=np.float64)
        vs = np.asarray(values, dtype=np.float64)
        if self._count:
            newest = self._t[self._next - 1 + self.capacity]
            if ts.size and ts[0] <= newest:
                keep = ts > newest
                ts, vs = ts[keep], vs[keep]
        if ts.size > 1 and np.any(np.diff(ts) <= 0):
            order = np.argsort(ts, kind="stable")
            ts, vs = ts[order], vs[order]
            unique = np.concatenate([[True], np.diff(ts) > 0])
            ts, vs = ts[unique], vs[unique]
        n = ts.size
        if n == 0:
            return 0
        if n > self.capacity:
            ts, vs = ts[-self.capacity :], vs[-self.capacity :]
            n = self.capacity
        cap, start = self.capacity, self._next
        first = min(n, cap - start)
        for dst in (start, start + cap):
            self._t[dst : dst + first] = ts[:first]
            self._v[dst : dst + first] = vs[:first]
        rest = n - first
        if rest:
            for dst in (0, cap):
                self._t[dst : dst + rest] = ts[first:]
                self._v[dst : dst + rest] = vs[first:]
        self._next = (start + n) % cap
        self._count = min(cap, self._count + n)
        self.version += 1
        return n

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All held samples, oldest first, as read-only contiguous views."""
        end = self._next + self.capacity
        t = self._t[end - self._count : end]
        v = self._v[end - self._count : end]
        t.flags.writeable = False
        v.flags.writeable = False
        return t, v

    def latest(self) -> tuple[float, float] | None:
        """The newest ``(timestamp, value)``, or None when empty."""
        if not self._count:
            return None
        i = self._next - 1 + self.capacity
        return float(self._t[i]), float(self._v[i])

    def window(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        """Samples with ``t0 <= t <= t1`` as contiguous views (binary search, no copy)."""
        t, v = self.arrays()
        lo = int(np.searchsorted(t, t0, side="left"))
        hi = int(np.searchsorted(t, t1, side="right"))
        return t[lo:hi], v[lo:hi]

    def value_at(self, t: float) -> tuple[float, float] | None:
        """The newest sample at or before ``t``, or None."""
        ts, vs = self.arrays()
        i = int(np.searchsorted(ts, t, side="right")) - 1
        if i < 0:
            return None
        return float(ts[i]), float(vs[i])


def peak_downsample(t: np.ndarray, v: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce to at most ``max_points`` keeping each bin's minimum and maximum (in time order).

    Spikes survive (a single 17 s latency in a 6 h range still shows). NaNs are ignored within a
    bin; a bin of only NaNs stays NaN, so gaps stay gaps.
    """
    n = t.size
    if n <= max_points or max_points < 4:
        return t, v
    bins = max_points // 2
    per_bin = int(np.ceil(n / bins))
    usable = (n // per_bin) * per_bin
    tb = t[:usable].reshape(-1, per_bin)
    vb = v[:usable].reshape(-1, per_bin)
    nan = np.isnan(vb)
    lo_idx = np.argmin(np.where(nan, np.inf, vb), axis=1)
    hi_idx = np.argmax(np.where(nan, -np.inf, vb), axis=1)
    rows = np.arange(vb.shape[0])
    first = np.minimum(lo_idx, hi_idx)
    second = np.maximum(lo_idx, hi_idx)
    out_t = np.empty(2 * rows.size + (n - usable))
    out_v = np.empty_like(out_t)
    out_t[0 : 2 * rows.size : 2] = tb[rows, first]
    out_t[1 : 2 * rows.size : 2] = tb[rows, second]
    out_v[0 : 2 * rows.size : 2] = vb[rows, first]
    out_v[1 : 2 * rows.size : 2] = vb[rows, second]
    out_t[2 * rows.size :] = t[usable:]
    out_v[2 * rows.size :] = v[usable:]
    return out_t, out_v


class SeriesStore:
    """All series of a session, keyed by ``(service_id, metric)``."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._rings: dict[SeriesKey, SeriesRing] = {}

    def __contains__(self, key: SeriesKey) -> bool:
        return key in self._rings

    def series_keys(self) -> Iterable[SeriesKey]:
        """Every series key that has received data."""
        return self._rings.keys()

    def ring(self, key: SeriesKey) -> SeriesRing | None:
        """The ring of ``key``, or None if it has no data yet."""
        return self._rings.get(key)

    def append(self, key: SeriesKey, timestamps: np.ndarray, values: np.ndarray) -> int:
        """Append samples to ``key``'s ring (created on first use); returns how many were kept."""
        ring = self._rings.get(key)
        if ring is None:
            ring = self._rings[key] = SeriesRing(self.capacity)
        return ring.append(timestamps, values)

    def latest(self, key: SeriesKey) -> tuple[float, float] | None:
        """The newest ``(timestamp, value)`` of ``key``, or None."""
        ring = self._rings.get(key)
        return ring.latest() if ring else None

    def value_at(self, key: SeriesKey, t: float) -> tuple[float, float] | None:
        """The newest sample of ``key`` at or before ``t``, or None."""
        ring = self._rings.get(key)
        return ring.value_at(t) if ring else None

    def window(
        self, key: SeriesKey, t0: float, t1: float, max_points: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Samples of ``key`` in ``[t0, t1]``, peak-downsampled to ``max_points`` if given."""
        ring = self._rings.get(key)
        if ring is None:
            empty = np.empty(0, dtype=np.float64)
            return empty, empty
        t, v = ring.window(t0, t1)
        if max_points is not None:
            return peak_downsample(t, v, max_points)
        return t, v

    def data_span(self, key: SeriesKey, t0: float, t1: float) -> tuple[float, float] | None:
        """The first and last sample time of ``key`` within ``[t0, t1]``, or None (lets a
        reader size its point budget before asking for a downsampled window)."""
        ring = self._rings.get(key)
        if ring is None:
            return None
        t, _ = ring.window(t0, t1)
        return (float(t[0]), float(t[-1])) if t.size else None

    def version(self, key: SeriesKey) -> int:
        """A counter that changes whenever ``key`` receives samples (0 before any)."""
        ring = self._rings.get(key)
        return ring.version if ring else 0

    def nbytes(self) -> int:
        """Bytes held by all rings' buffers."""
        return sum(r._t.nbytes + r._v.nbytes for r in self._rings.values())
