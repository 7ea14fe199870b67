"""Recovery criteria over a recording: the live recovery board run again over the recorded series.

A recording's timeline holds only the moments a criterion became met or was lost (kind
``criterion``) and recovery declared or lost (kind ``recovery``); it cannot say whether a
criterion was breached, holding or not yet measurable at a given moment, nor does an older
recording have those entries at all. So the review re-evaluates: ``criteria_history`` replays the
recorded samples in time order into a fresh ``SeriesStore`` and, every ``step_s`` seconds, does
what a live drain does: health by ``console.health.evaluate`` with the review's stale limits,
then the same ``RecoveryBoard.evaluate`` (``console.criteria``), which scans every sample that
arrived since the previous evaluation (so a breach between two evaluations is never missed, and
"met since" is exact: the hold's start plus the sustain period). Each evaluation's statuses and
verdict are kept as a ``CriteriaMoment``.

``CriteriaHistory.at(t)`` answers with the newest evaluation at or before ``t`` by bisection, in
memory: a cursor move costs no SQL. The replay reads the file in chunks of ``CHUNK_S`` (one query
per series per chunk) and is meant for a worker thread with its own connection; ``stop`` ends it
early and ``progress`` hears how far it got.

No Qt here.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from console.criteria import CriterionStatus, RecoveryBoard, RecoveryVerdict
from console.health import evaluate
from console.snapshot import Snapshot
from console.sources import SeriesKey
from console.store import SeriesStore
from console.workspace import Workspace

#: At most this many evaluations over a recording (a short one is evaluated every second, like
#: the live window's one-second tick; a day every ~17 s).
MAX_EVALUATIONS = 5000
#: Never evaluate more often than this (seconds).
MIN_STEP_S = 1.0
#: Seconds of samples read from the file at once.
CHUNK_S = 900.0
#: ``progress`` is called after this many evaluations (and at the end).
PROGRESS_EVERY = 200

#: Called with the share of the recording evaluated so far (0–1).
Progress = Callable[[float], None]


@dataclass(frozen=True)
class CriteriaMoment:
    """Every criterion's status and the verdict as evaluated at ``t``."""

    t: float
    statuses: tuple[CriterionStatus, ...]
    verdict: RecoveryVerdict


@dataclass(frozen=True)
class CriteriaHistory:
    """The recovery board evaluated over a recording every ``step_s`` seconds."""

    step_s: float
    moments: tuple[CriteriaMoment, ...]
    #: False when the replay was stopped early (the moments cover the start only).
    complete: bool = True
    _times: list[float] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._times[:] = [moment.t for moment in self.moments]

    def at(self, t: float) -> CriteriaMoment | None:
        """The newest evaluation at or before ``t``; None before the first one."""
        index = bisect.bisect_right(self._times, t) - 1
        return self.moments[index] if index >= 0 else None

    @property
    def end(self) -> float | None:
        """The time of the last evaluation (where an incomplete history stops)."""
        return self._times[-1] if self._times else None


def evaluation_times(start: float, end: float, step_s: float) -> np.ndarray:
    """``start``, every ``step_s`` after it, and ``end``."""
    count = max(1, math.floor((end - start) / step_s) + 1)
    times = start + step_s * np.arange(count, dtype=np.float64)
    return times if times[-1] >= end else np.append(times, end)


class _Replay:
    """The recorded samples fed into a store in time order, a chunk of the file at a time."""

    def __init__(self, snapshot: Snapshot, store: SeriesStore, chunk_s: float) -> None:
        self.snapshot = snapshot
        self.store = store
        self.chunk_s = chunk_s
        self.keys = snapshot.series_keys()
        self.loaded_to: float | None = None
        self._buffers: dict[SeriesKey, tuple[np.ndarray, np.ndarray, int]] = {}

    def advance(self, t: float) -> None:
        """Append every recorded sample up to ``t`` (inclusive) to the store."""
        if self.loaded_to is None or t > self.loaded_to:
            self._load(max(t, (self.loaded_to if self.loaded_to is not None else t) + self.chunk_s))
        for key, (ts, vs, done) in self._buffers.items():
            upto = int(np.searchsorted(ts, t, side="right"))
            if upto > done:
                self.store.append(key, ts[done:upto], vs[done:upto])
                self._buffers[key] = (ts, vs, upto)

    def _load(self, until: float) -> None:
        since = self.loaded_to
        for key in self.keys:
            old = self._buffers.get(key)
            ts, vs = self.snapshot.series(key, since, until)
            if since is not None and len(ts) and ts[0] <= since:
                keep = ts > since
                ts, vs = ts[keep], vs[keep]
            if old is not None and old[2] < len(old[0]):  # samples not appended yet
                ts = np.concatenate([old[0][old[2] :], ts])
                vs = np.concatenate([old[1][old[2] :], vs])
            self._buffers[key] = (ts, vs, 0)
        self.loaded_to = until


def criteria_history(
    snapshot: Snapshot,
    workspace: Workspace,
    stale_after: Mapping[str, float],
    start: float,
    end: float,
    *,
    max_evaluations: int = MAX_EVALUATIONS,
    min_step_s: float = MIN_STEP_S,
    chunk_s: float = CHUNK_S,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> CriteriaHistory:
    """Evaluate ``workspace``'s recovery criteria over ``snapshot`` from ``start`` to ``end``
    (at most ``max_evaluations`` times, never closer than ``min_step_s``), as a live session
    would have at each of those moments. An empty history when the workspace has no criteria."""
    span = max(0.0, end - start)
    step = max(min_step_s, span / max(1, max_evaluations - 1))
    if not workspace.criteria:
        return CriteriaHistory(step, ())
    board = RecoveryBoard(workspace)
    store = SeriesStore()
    replay = _Replay(snapshot, store, chunk_s)
    times = evaluation_times(start, end, step)
    moments: list[CriteriaMoment] = []
    complete = True
    for index, t in enumerate(times.tolist()):
        if stop is not None and stop.is_set():
            complete = False
            break
        replay.advance(t)
        readings = {}
        for key in store.series_keys():
            reading = store.latest(key)
            if reading is not None:
                readings[key] = reading
        health = evaluate(workspace, readings, t, stale_after)
        board.evaluate(store, health, t, stale_after)
        moments.append(CriteriaMoment(t, tuple(board.statuses()), board.verdict()))
        if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
            progress((index + 1) / len(times))
    if progress is not None and complete:
        progress(1.0)
    return CriteriaHistory(step, tuple(moments), complete)
