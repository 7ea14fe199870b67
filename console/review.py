"""Review of a recorded incident: an ``.incident`` snapshot as a read-only session with a cursor.

- ``CursorClock``: the clock of a review: it is wherever the time cursor is (it may go back).
- ``SnapshotSeriesStore``: the read side of ``console.store.SeriesStore`` (``window``,
  ``data_span``, ``latest``, ``value_at``, ``version``, ``series_keys``) over an open snapshot, as
  seen at the cursor: ``latest`` is the newest sample at or before the cursor. Nothing is loaded
  into memory up front: a narrow window is one range read, a wide one is read downsampled
  (min/max per bucket) from a per-series pyramid of bucket extremes, built from one SQL
  aggregate per series (lazily, or ahead of time on a worker with ``build_pyramids``). A day of
  60 series at 1 s (5 M samples) therefore opens and scrubs without reading it all.
- ``ReviewSession``: a ``Session`` without sources (nothing feeds it, nothing can change the
  cloud: ``read_only`` is always true and no executor is ever attached). ``seek(t)`` moves the
  cursor: health is re-evaluated at ``t`` with ``console.health`` (``evaluate_health(at=t)``),
  ``logs``/``timeline`` hold what was recorded up to ``t``, ``source_statuses`` the recorded
  states at ``t``, ``resources`` the newest recorded resource state per service at or before
  ``t`` (``console.recorded_resources``); subscribers get a ``SessionUpdate`` like after a live
  drain.
- ``health_history``: health sampled over the recording, merged into spans of the golden path's
  state (whole, degraded, broken at a step, no data): the review bar's strip and the report's
  outage window.

No Qt here; the review window (``ui/review_window.py``) drives this.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np

from console.durations import parse_duration
from console.health import HealthReport
from console.notes import fold_timeline
from console.recorded_resources import RecordedResources
from console.session import STALE_MARGIN_S, Session, SessionUpdate
from console.snapshot import Snapshot, SnapshotError
from console.snapshot_format import RecordedSourceStatus
from console.sources import Batch, LogEntry, SeriesKey, SourceStatus
from console.store import peak_downsample
from console.timeline import TimelineEntry

#: The finest pyramid level's bucket, in multiples of a series' sample spacing.
PYRAMID_BASE_SPACINGS = 8
#: Each coarser level merges this many buckets of the level below.
PYRAMID_FACTOR = 4
#: No coarser level is built once a level has at most this many buckets.
PYRAMID_MIN_BUCKETS = 256
#: A wide read builds a missing pyramid itself when it spans at least this share of the series.
PYRAMID_ON_DEMAND_SHARE = 0.5
#: Samples read to estimate a series' spacing.
SPACING_SAMPLE = 64
#: Log entries kept in ``ReviewSession.logs`` (the newest at or before the cursor).
REVIEW_LOG_CAPACITY = 2000


class ReadOnlyError(Exception):
    """Something tried to change a review: a snapshot under review is never written."""


class CursorClock:
    """A clock that reads the review cursor; unlike ``VirtualClock`` it may move backward."""

    def __init__(self, t: float) -> None:
        self._t = float(t)

    def now(self) -> float:
        return self._t

    def set(self, t: float) -> None:
        """Put the cursor at ``t``."""
        self._t = float(t)


# -- downsampled reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PyramidLevel:
    """Bucket extremes of one series at one resolution: rows ``(first t, last t, min, max)``."""

    bucket_s: float
    extremes: np.ndarray

    def between(self, t0: float, t1: float) -> np.ndarray:
        """The buckets that hold samples in ``[t0, t1]`` (whole buckets: a bucket may reach a
        little outside the range)."""
        rows = self.extremes
        lo = int(np.searchsorted(rows[:, 1], t0, side="left"))
        hi = int(np.searchsorted(rows[:, 0], t1, side="right"))
        return rows[lo:hi]


@dataclass(frozen=True)
class SeriesPyramid:
    """A series summarised at several resolutions, finest first."""

    spacing_s: float
    levels: tuple[PyramidLevel, ...]

    def level_for(self, bucket_s: float) -> PyramidLevel | None:
        """The coarsest level whose buckets are no wider than ``bucket_s``, or None."""
        best = None
        for level in self.levels:
            if level.bucket_s <= bucket_s:
                best = level
        return best

    @property
    def nbytes(self) -> int:
        """Memory held by the levels."""
        return sum(level.extremes.nbytes for level in self.levels)


def coarser_extremes(extremes: np.ndarray, origin: float, bucket_s: float) -> np.ndarray:
    """Merge rows of bucket extremes into buckets of ``bucket_s`` counted from ``origin``."""
    if len(extremes) == 0:
        return extremes
    groups = np.floor((extremes[:, 0] - origin) / bucket_s)
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    return np.column_stack(
        [
            extremes[starts, 0],
            np.maximum.reduceat(extremes[:, 1], starts),
            np.fmin.reduceat(extremes[:, 2], starts),
            np.fmax.reduceat(extremes[:, 3], starts),
        ]
    )


def extremes_as_points(extremes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two points per bucket: its minimum at its first time, its maximum at its last. Within a
    bucket (less than a pixel wide) the order does not show; the peaks do."""
    n = len(extremes)
    t = np.empty(2 * n)
    v = np.empty(2 * n)
    t[0::2], t[1::2] = extremes[:, 0], extremes[:, 1]
    v[0::2], v[1::2] = extremes[:, 2], extremes[:, 3]
    return t, v


def build_pyramid(
    snapshot: Snapshot, key: SeriesKey, origin: float, spacing_s: float
) -> SeriesPyramid:
    """The pyramid of ``key``: one SQL aggregate for the finest level, numpy for the rest."""
    bucket = spacing_s * PYRAMID_BASE_SPACINGS
    extremes = snapshot.bucket_extremes(key, origin, bucket)
    levels = [PyramidLevel(bucket, extremes)]
    while len(extremes) > PYRAMID_MIN_BUCKETS:
        bucket *= PYRAMID_FACTOR
        extremes = coarser_extremes(extremes, origin, bucket)
        levels.append(PyramidLevel(bucket, extremes))
    return SeriesPyramid(spacing_s, tuple(levels))


def _empty() -> tuple[np.ndarray, np.ndarray]:
    empty = np.empty(0, dtype=np.float64)
    return empty, empty.copy()


class SnapshotSeriesStore:
    """The read interface of ``SeriesStore`` over a snapshot, as seen at ``clock``'s time.

    ``window``, ``value_at`` and ``data_span`` read the whole recording (the charts draw all of
    it; the cursor is a line over it); ``latest`` and ``series_keys`` answer as the live store
    would have at the cursor. ``version`` never changes (a recording does not grow), so a chart
    fetches only when its visible range moves. Reads belong to one thread (the GUI's; the
    snapshot serialises its connection, and ``value_at`` remembers the readings of the moment last
    asked for); only the pyramids may be built on another thread (``build_pyramids``).
    """

    def __init__(self, snapshot: Snapshot, clock: CursorClock) -> None:
        self.snapshot = snapshot
        self.clock = clock
        self._spans: dict[SeriesKey, tuple[float, float]] = {}
        for key in snapshot.series_keys():
            span = snapshot.data_span(key)
            if span is not None:
                self._spans[key] = span
        time_range = snapshot.time_range
        self.origin = math.floor(time_range[0]) if time_range is not None else 0.0
        self._spacings: dict[SeriesKey, float] = {}
        self._pyramids: dict[SeriesKey, SeriesPyramid] = {}
        self._memo_t: float | None = None
        self._memo: dict[SeriesKey, tuple[float, float] | None] = {}
        #: How many reads went to SQL as a range aggregate or to a pyramid (tests, benchmarks).
        self.reads = {"raw": 0, "aggregate": 0, "pyramid": 0}

    # -- the SeriesStore read interface ----------------------------------------------------------

    def __contains__(self, key: SeriesKey) -> bool:
        return key in self._spans

    def series_keys(self) -> list[SeriesKey]:
        """Series with a sample at or before the cursor."""
        now = self.clock.now()
        return [key for key, span in self._spans.items() if span[0] <= now]

    def recorded_keys(self) -> list[SeriesKey]:
        """Every series with samples, wherever the cursor is."""
        return list(self._spans)

    def version(self, key: SeriesKey) -> int:
        """1 for a recorded series, 0 for one without samples; it never changes."""
        return 1 if key in self._spans else 0

    def latest(self, key: SeriesKey) -> tuple[float, float] | None:
        """The newest sample at or before the cursor."""
        return self.value_at(key, self.clock.now())

    def value_at(self, key: SeriesKey, t: float) -> tuple[float, float] | None:
        """The newest sample of ``key`` at or before ``t``, or None. Readings at one moment
        are remembered until another moment is asked for: a cursor move reads each series for
        health, the charts' values and their ages, at the same time."""
        span = self._spans.get(key)
        if span is None or t < span[0]:
            return None
        if t != self._memo_t:
            self._memo_t, self._memo = t, {}
        elif key in self._memo:
            return self._memo[key]
        reading = self._memo[key] = self.snapshot.value_at(key, t)
        return reading

    def data_span(self, key: SeriesKey, t0: float, t1: float) -> tuple[float, float] | None:
        """The first and last sample time of ``key`` within ``[t0, t1]``, or None."""
        span = self._spans.get(key)
        if span is None or t1 < span[0] or t0 > span[1]:
            return None
        if t0 <= span[0] and span[1] <= t1:
            return span
        return self.snapshot.data_span(key, t0, t1)

    def window(
        self, key: SeriesKey, t0: float, t1: float, max_points: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Samples of ``key`` in ``[t0, t1]``; with ``max_points``, at most about that many,
        keeping each bucket's minimum and maximum (like ``peak_downsample``)."""
        extent = self.data_span(key, t0, t1)
        if extent is None:
            return _empty()
        if max_points is None:
            self.reads["raw"] += 1
            return self.snapshot.series(key, t0, t1)
        spacing = self.spacing(key)
        expected = (extent[1] - extent[0]) / spacing + 1
        if expected <= max_points or max_points < 4:
            self.reads["raw"] += 1
            t, v = self.snapshot.series(key, t0, t1)
            return peak_downsample(t, v, max_points)
        needed_bucket = (extent[1] - extent[0]) / (max_points // 2)
        level = None
        if needed_bucket >= spacing * PYRAMID_BASE_SPACINGS:
            pyramid = self._pyramids.get(key)
            if pyramid is None and self._worth_building_now(key, extent):
                pyramid = self.pyramid(key)
            level = pyramid.level_for(needed_bucket) if pyramid is not None else None
        if level is None:
            self.reads["aggregate"] += 1
            extremes = self.snapshot.bucket_extremes(key, self.origin, needed_bucket, t0, t1)
        else:
            self.reads["pyramid"] += 1
            extremes = level.between(t0, t1)
        t, v = extremes_as_points(extremes)
        return peak_downsample(t, v, max_points)

    def append(self, key: SeriesKey, timestamps: np.ndarray, values: np.ndarray) -> int:
        """A recording is never written: always raises ``ReadOnlyError``."""
        raise ReadOnlyError("a snapshot under review is read-only")

    # -- resolution ------------------------------------------------------------------------------

    def _worth_building_now(self, key: SeriesKey, extent: tuple[float, float]) -> bool:
        """Build a pyramid on demand only for a read that spans most of the series: it costs
        about one aggregate over the whole series, so for a narrower read one aggregate over
        the range is cheaper (and the background worker builds the pyramid anyway)."""
        first, last = self._spans[key]
        return extent[1] - extent[0] >= PYRAMID_ON_DEMAND_SHARE * max(last - first, 1e-9)

    def spacing(self, key: SeriesKey) -> float:
        """The typical time between two samples of ``key`` (median of the first few)."""
        spacing = self._spacings.get(key)
        if spacing is None:
            times = self.snapshot.first_times(key, SPACING_SAMPLE)
            steps = np.diff(times)
            steps = steps[steps > 0]
            spacing = float(np.median(steps)) if len(steps) else 1.0
            self._spacings[key] = spacing = max(spacing, 1e-3)
        return spacing

    def pyramid(self, key: SeriesKey, source: Snapshot | None = None) -> SeriesPyramid:
        """The pyramid of ``key``, built now (from ``source``, default this snapshot) if needed."""
        pyramid = self._pyramids.get(key)
        if pyramid is None:
            pyramid = build_pyramid(source or self.snapshot, key, self.origin, self.spacing(key))
            self._pyramids[key] = pyramid  # one assignment: safe beside readers
        return pyramid

    def has_pyramid(self, key: SeriesKey) -> bool:
        """True once ``key``'s pyramid exists."""
        return key in self._pyramids

    def build_pyramids(
        self,
        source: Snapshot | None = None,
        keys: Iterable[SeriesKey] | None = None,
        stop: threading.Event | None = None,
    ) -> int:
        """Build the pyramids of ``keys`` (default all) ahead of need; returns how many were
        built. Meant for a worker thread with its own ``source`` (a second ``open_snapshot`` of
        the same file, so the worker never waits on the GUI's reads); ``stop`` ends it early."""
        built = 0
        for key in list(keys if keys is not None else self._spans):
            if stop is not None and stop.is_set():
                break
            if key in self._spans and key not in self._pyramids:
                self.pyramid(key, source)
                built += 1
        return built

    def nbytes(self) -> int:
        """Memory held by the pyramids built so far."""
        return sum(p.nbytes for p in list(self._pyramids.values()))


# -- the review session ---------------------------------------------------------------------------


def _stale_limits(snapshot: Snapshot, store: SnapshotSeriesStore) -> dict[str, float]:
    """Per service, how old data may be at the cursor before it counts as stale: the recorded
    sources' largest expected delay plus the live margin (or three sample spacings)."""
    delays = [r.status.expected_delay_s for r in snapshot.source_statuses()]
    delay = max(delays, default=0.0)
    spacing: dict[str, float] = {}
    for key in store.recorded_keys():
        spacing[key[0]] = max(spacing.get(key[0], 0.0), store.spacing(key))
    return {
        sid: delay + max(STALE_MARGIN_S, 3 * spacing.get(sid, 0.0))
        for sid in snapshot.workspace.services
    }


class ReviewSession(Session):
    """A recorded incident as a read-only session; the clock is the review cursor.

    ``time_range`` is the recorded range; the cursor stays inside it. No sources, no queue, no
    executor: ``submit`` raises ``ReadOnlyError``. ``drain`` re-evaluates at the cursor (so a
    ``SessionBridge`` tick works as in a live window); ``seek`` moves the cursor.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        at: float | None = None,
        log_capacity: int = REVIEW_LOG_CAPACITY,
    ) -> None:
        time_range = snapshot.time_range
        if time_range is None:
            raise SnapshotError(f"{snapshot.path}: nothing was recorded in it")
        self.snapshot = snapshot
        self.time_range: tuple[float, float] = time_range
        clock = CursorClock(self.clamp(time_range[1] if at is None else at))
        self.review_store = SnapshotSeriesStore(snapshot, clock)
        self._stale_limits = _stale_limits(snapshot, self.review_store)
        super().__init__(snapshot.workspace, clock, (), log_capacity=log_capacity, read_only=True)
        self.clock: CursorClock = clock
        self.store = self.review_store  # type: ignore[assignment]  # the same read interface
        #: Every recorded timeline entry, in time order (``timeline`` holds those up to the cursor).
        #: Notes appear once, at their corrected time, with their edits folded in.
        self.recorded_timeline: list[TimelineEntry] = fold_timeline(snapshot.timeline())
        self._timeline_times = [e.t for e in self.recorded_timeline]
        self._log_times = snapshot.log_times()
        self._recorded_statuses: list[RecordedSourceStatus] = snapshot.source_statuses()
        #: Every recorded resource state (``resources`` holds the newest per service at the cursor).
        self.recorded_resources = RecordedResources(snapshot.resource_states())
        self._cursor: float | None = None
        self.seek(clock.now())

    # -- facts -------------------------------------------------------------------------------

    @property
    def cursor(self) -> float:
        """The review cursor (the session clock's time)."""
        return self.clock.now()

    def clamp(self, t: float) -> float:
        """``t`` moved into the recorded range."""
        start, end = self.time_range
        return min(max(float(t), start), end)

    def stale_after(self) -> dict[str, float]:
        return dict(self._stale_limits)

    def log_count_until(self, t: float) -> int:
        """How many log entries were recorded at or before ``t``."""
        return int(np.searchsorted(self._log_times, t, side="right"))

    def logs_until(self, t: float, limit: int) -> list[LogEntry]:
        """The newest ``limit`` log entries at or before ``t``, in time order."""
        count = self.log_count_until(t)
        if count == 0 or limit <= 0:
            return []
        first = float(self._log_times[max(0, count - limit)])
        entries = self.snapshot.logs(first, t)
        return entries[-limit:]

    def timeline_index(self, t: float) -> int:
        """How many recorded timeline entries are at or before ``t``."""
        return bisect.bisect_right(self._timeline_times, t)

    def statuses_at(self, t: float) -> dict[str, SourceStatus]:
        """Each recorded source's state at ``t``; before a source's first record, the state it
        settled in at that first moment (a recording starts with history the source delivered)."""
        first: dict[str, float] = {}
        for record in self._recorded_statuses:
            first.setdefault(record.status.name, record.t)
        statuses: dict[str, SourceStatus] = {}
        for record in self._recorded_statuses:
            name = record.status.name
            if record.t <= max(t, first[name]):
                statuses[name] = record.status
        return statuses

    # -- moving the cursor -----------------------------------------------------------------------

    def seek(self, t: float) -> SessionUpdate:
        """Move the cursor to ``t`` (clamped to the recording) and re-evaluate everything there;
        subscribers hear of it like after a drain. Returns the update."""
        t = self.clamp(t)
        previous = self._cursor
        self.clock.set(t)
        self._cursor = t
        update = SessionUpdate()
        if previous is not None and t == previous:
            return update
        self._follow_logs(previous, t, update)
        self._follow_timeline(previous, t, update)
        statuses = self.statuses_at(t)
        if statuses != self.source_statuses:
            self.source_statuses = statuses
            update.statuses_changed = True
        resources = self.recorded_resources.at(t)
        update.resources_changed = {
            sid
            for sid in resources.keys() | self.resources.keys()
            if resources.get(sid) is not self.resources.get(sid)
        }
        self.resources = resources
        self.health = self.evaluate_health()
        update.health_changed = True  # values at the cursor moved, even when statuses did not
        for callback in list(self._subscribers):
            callback(update)
        return update

    def drain(self) -> SessionUpdate:
        """Nothing is queued in a review: re-evaluate at the cursor if it moved."""
        return self.seek(self.clock.now())

    def _follow_logs(self, previous: float | None, t: float, update: SessionUpdate) -> None:
        capacity = self.logs.maxlen or REVIEW_LOG_CAPACITY
        if previous is not None and t > previous:
            count = self.log_count_until(t) - self.log_count_until(previous)
            new = self.logs_until(t, min(count, capacity))
            if count > capacity:
                self.logs.clear()
            self.logs.extend(new)
            update.new_logs.extend(new)
            return
        self.logs.clear()
        self.logs.extend(self.logs_until(t, capacity))

    def _follow_timeline(self, previous: float | None, t: float, update: SessionUpdate) -> None:
        end = self.timeline_index(t)
        if previous is not None and t > previous:
            new = self.recorded_timeline[self.timeline_index(previous) : end]
            self.timeline.extend(new)
            update.new_timeline.extend(new)
            return
        self.timeline.clear()
        self.timeline.extend(self.recorded_timeline[:end])

    # -- a review is never fed ---------------------------------------------------------------------

    def submit(self, batch: Batch) -> None:
        raise ReadOnlyError("a review session takes no data: the snapshot is read-only")

    def poll_sources(self) -> None:
        """A review has no sources."""

    def start(self) -> None:
        """A review has no worker threads."""


# -- health over the recording ----------------------------------------------------------------

PathState = Literal["whole", "degraded", "broken", "no_data"]


@dataclass(frozen=True)
class GoldenPathSpan:
    """A stretch of the recording in which the golden path stayed in one state."""

    start: float
    end: float
    state: PathState
    #: Service id of the first broken step (``broken`` only).
    first_broken: str | None = None
    #: The root-cause candidate at the span's start (``broken`` only).
    root_cause: str | None = None

    @property
    def duration_s(self) -> float:
        return self.end - self.start


def path_state(report: HealthReport) -> PathState:
    """The golden path's state in one health report (as the banner words it)."""
    if report.first_broken is not None:
        return "broken"
    if all(step.status == "ok" for step in report.golden_path):
        return "whole"
    if any(step.status in ("unknown", "stale") for step in report.golden_path):
        return "no_data"
    return "degraded"


#: Order of badness used to keep each service's worst status over the recording.
SERVICE_SEVERITY = {"ok": 0, "unknown": 1, "stale": 2, "degraded": 3, "blocked": 4, "failing": 5}


@dataclass(frozen=True)
class HealthHistory:
    """Health sampled over a recording every ``step_s`` seconds."""

    step_s: float
    spans: tuple[GoldenPathSpan, ...]
    #: Per service, the worst status seen (``failing`` > ``blocked`` > ``degraded`` > ...).
    worst: dict[str, str]
    #: Root-cause candidates seen, in order of first appearance.
    root_causes: tuple[str, ...]
    #: Per service, about how long (seconds) it was the best root-cause candidate.
    root_cause_s: dict[str, float]
    #: False when sampling was stopped early (the spans cover the start of the recording only).
    complete: bool = True

    def broken_spans(self) -> list[GoldenPathSpan]:
        """The spans in which the golden path was broken."""
        return [s for s in self.spans if s.state == "broken"]

    def outage_window(self) -> tuple[float, float] | None:
        """From the first break to the end of the last one, or None if it never broke."""
        broken = self.broken_spans()
        return (broken[0].start, broken[-1].end) if broken else None


def _key(report: HealthReport) -> tuple[PathState, str | None]:
    state = path_state(report)
    return state, report.first_broken if state == "broken" else None


def health_history(
    session: Session,
    start: float,
    end: float,
    *,
    max_samples: int = 1500,
    min_step_s: float = 1.0,
    refine_to_s: float | None = 1.0,
    stop: threading.Event | None = None,
) -> HealthHistory:
    """Sample ``session.evaluate_health(at=t)`` from ``start`` to ``end`` (at most
    ``max_samples`` times, never closer than ``min_step_s``) and merge equal golden-path states
    into spans. With ``refine_to_s``, each change is located by bisection to that precision.
    A change shorter than one step between two samples can be missed; the history says its step.
    """
    span = max(0.0, end - start)
    step = max(min_step_s, span / max(1, max_samples - 1))
    count = math.floor(span / step) + 1
    times = [start + i * step for i in range(count)]
    if times[-1] < end:
        times.append(end)
    worst: dict[str, str] = {}
    roots: list[str] = []
    root_time: dict[str, float] = {}
    spans: list[GoldenPathSpan] = []
    previous_t: float | None = None
    previous_key: tuple[PathState, str | None] | None = None
    span_start = start
    span_root: str | None = None
    complete = True
    for t in times:
        if stop is not None and stop.is_set():
            complete = False
            break
        report = session.evaluate_health(at=t)
        _note_worst(report, worst, roots)
        if report.root_cause is not None:
            root_time[report.root_cause] = root_time.get(report.root_cause, 0.0) + step
        key = _key(report)
        if previous_key is None:
            previous_key, span_root = key, report.root_cause
        elif key != previous_key:
            change = t
            if refine_to_s is not None and previous_t is not None:
                change = _locate_change(session, previous_t, t, previous_key, refine_to_s)
            spans.append(_span(span_start, change, previous_key, span_root))
            span_start, previous_key = change, key
            span_root = report.root_cause
        previous_t = t
    if previous_key is not None:
        spans.append(
            _span(
                span_start, previous_t if previous_t is not None else end, previous_key, span_root
            )
        )
    return HealthHistory(step, tuple(spans), worst, tuple(roots), root_time, complete)


def _span(
    start: float, end: float, key: tuple[PathState, str | None], root: str | None
) -> GoldenPathSpan:
    state, first_broken = key
    return GoldenPathSpan(start, end, state, first_broken, root if state == "broken" else None)


def _note_worst(report: HealthReport, worst: dict[str, str], roots: list[str]) -> None:
    for sid, health in report.services.items():
        status = "blocked" if health.blocked and health.status != "failing" else health.status
        if SERVICE_SEVERITY[status] > SERVICE_SEVERITY.get(worst.get(sid, "ok"), 0):
            worst[sid] = status
        worst.setdefault(sid, status)
    for root in report.root_cause_candidates:
        if root not in roots:
            roots.append(root)


def _locate_change(
    session: Session,
    before: float,
    after: float,
    before_key: tuple[PathState, str | None],
    precision_s: float,
) -> float:
    """The first time in ``(before, after]`` whose state differs from ``before_key`` (to
    ``precision_s``), assuming one change in between."""
    low, high = before, after
    while high - low > precision_s:
        middle = (low + high) / 2
        if _key(session.evaluate_health(at=middle)) == before_key:
            low = middle
        else:
            high = middle
    return high


def services_affected(history: HealthHistory, order: Sequence[str]) -> list[str]:
    """Service ids that were failing, blocked or degraded at some point, in ``order``."""
    bad = {"failing", "blocked", "degraded"}
    return [sid for sid in order if history.worst.get(sid) in bad]


def resolve_moment(text: str, time_range: tuple[float, float]) -> float:
    """A moment of a recording from the command line: ``start``, ``end``, ``25m`` (after the
    start), ``-5m`` (before the end), ``HH:MM[:SS]`` (local time, on a day of the recording) or
    an ISO 8601 time. Raises ``ValueError`` naming what is accepted; the result may lie outside
    the recording (the review clamps it)."""
    start, end = time_range
    cleaned = text.strip()
    lowered = cleaned.lower()
    if lowered == "start":
        return start
    if lowered == "end":
        return end
    if lowered.startswith("-"):
        return end - parse_duration(lowered[1:])
    if ":" in cleaned and "T" not in cleaned and "-" not in cleaned:
        return _time_of_day(cleaned, start, end)
    if "T" in cleaned or cleaned.count("-") >= 2:
        try:
            moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(_MOMENT_HELP) from None
        if moment.tzinfo is None:
            moment = moment.astimezone()
        return moment.timestamp()
    try:
        return start + parse_duration(lowered)
    except ValueError:
        raise ValueError(_MOMENT_HELP) from None


_MOMENT_HELP = (
    "not a moment of the recording: write start, end, 25m (after the start), -5m (before the "
    "end), 09:30 or 09:30:15 (local time) or 2025-03-14T09:30:00Z"
)


def _time_of_day(text: str, start: float, end: float) -> float:
    """``HH:MM[:SS]`` local time: on the recording's first day, or the next day when that is
    before the recording began (a recording across midnight)."""
    try:
        numbers = [int(p) for p in text.split(":")]
    except ValueError:
        raise ValueError(_MOMENT_HELP) from None
    if len(numbers) not in (2, 3) or not (0 <= numbers[0] < 24 and 0 <= numbers[1] < 60):
        raise ValueError(_MOMENT_HELP)
    hour, minute, second = (*numbers, 0)[:3]
    day = datetime.fromtimestamp(start).astimezone()
    candidate = day.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if candidate.timestamp() < start and (candidate + timedelta(days=1)).timestamp() <= end:
        candidate += timedelta(days=1)
    return candidate.timestamp()
