"""The ring-buffer store: bounded memory, contiguous windows, order handling, downsampling."""

from __future__ import annotations

import numpy as np
import pytest

from console.store import SeriesRing, SeriesStore, peak_downsample


def test_ring_keeps_the_newest_capacity_samples_in_order() -> None:
    ring = SeriesRing(5)
    ring.append(np.arange(3.0), np.arange(3.0) * 10)
    ring.append(np.arange(3.0, 8.0), np.arange(3.0, 8.0) * 10)
    t, v = ring.arrays()
    assert t.tolist() == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert v.tolist() == [30.0, 40.0, 50.0, 60.0, 70.0]
    assert ring.latest() == (7.0, 70.0)


def test_windows_are_contiguous_views_without_copies() -> None:
    ring = SeriesRing(100)
    for start in range(0, 250, 7):  # wrap around several times in uneven chunks
        ts = np.arange(start, start + 7, dtype=float)
        ring.append(ts, ts * 2)
    t, v = ring.window(200.0, 240.0)
    assert t.flags.c_contiguous and v.flags.c_contiguous
    assert t.base is not None  # a view into the ring, not a copy
    assert t.tolist() == [float(x) for x in range(200, 241)]
    assert np.array_equal(v, t * 2)
    with pytest.raises(ValueError):
        t[0] = 1.0  # read-only: a chart cannot corrupt the store


def test_old_and_duplicate_timestamps_are_dropped_and_unsorted_batches_sorted() -> None:
    ring = SeriesRing(10)
    assert ring.append(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])) == 3
    assert ring.append(np.array([2.0, 3.0]), np.array([9.0, 9.0])) == 0
    assert ring.append(np.array([6.0, 4.0, 5.0, 5.0]), np.array([6.0, 4.0, 5.0, 7.0])) == 3
    t, v = ring.arrays()
    assert t.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert v.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_a_batch_larger_than_capacity_keeps_its_tail() -> None:
    ring = SeriesRing(4)
    ring.append(np.arange(10.0), np.arange(10.0))
    assert ring.arrays()[0].tolist() == [6.0, 7.0, 8.0, 9.0]


def test_value_at_returns_the_newest_sample_at_or_before() -> None:
    ring = SeriesRing(10)
    ring.append(np.array([10.0, 20.0, 30.0]), np.array([1.0, 2.0, 3.0]))
    assert ring.value_at(25.0) == (20.0, 2.0)
    assert ring.value_at(30.0) == (30.0, 3.0)
    assert ring.value_at(5.0) is None


def test_version_changes_only_when_samples_are_kept() -> None:
    store = SeriesStore(capacity=10)
    key = ("auth", "latency_p95_ms")
    assert store.version(key) == 0
    store.append(key, np.array([1.0]), np.array([5.0]))
    first = store.version(key)
    store.append(key, np.array([1.0]), np.array([6.0]))  # stale: dropped
    assert store.version(key) == first
    store.append(key, np.array([2.0]), np.array([6.0]))
    assert store.version(key) == first + 1


def test_memory_is_bounded_by_capacity_whatever_the_session_length() -> None:
    store = SeriesStore(capacity=1000)
    key = ("backend", "requests_per_s")
    store.append(key, np.arange(10.0), np.ones(10))
    size_early = store.nbytes()
    for hour in range(24):
        ts = np.arange(hour * 3600, (hour + 1) * 3600, dtype=float) + 100
        store.append(key, ts, np.ones_like(ts))
    assert store.nbytes() == size_early
    assert len(store.ring(key)) == 1000


def test_peak_downsampling_keeps_spikes_and_time_order() -> None:
    t = np.arange(100_000, dtype=float)
    v = np.sin(t / 500.0)
    v[54_321] = 17.0
    v[12_345] = -9.0
    dt, dv = peak_downsample(t, v, 1000)
    assert len(dt) <= 1000 + 1
    assert np.all(np.diff(dt) >= 0)
    assert dv.max() == 17.0 and dv.min() == -9.0


def test_peak_downsampling_keeps_gaps_as_gaps() -> None:
    t = np.arange(1000, dtype=float)
    v = np.ones(1000)
    v[400:600] = np.nan
    _, dv = peak_downsample(t, v, 100)
    assert np.isnan(dv).any() and np.nanmax(dv) == 1.0


def test_store_window_downsamples_on_request() -> None:
    store = SeriesStore(capacity=50_000)
    key = ("connector", "saturation")
    ts = np.arange(40_000, dtype=float)
    store.append(key, ts, np.full_like(ts, 0.5))
    full_t, _ = store.window(key, 0, 40_000)
    small_t, _ = store.window(key, 0, 40_000, max_points=800)
    assert len(full_t) == 40_000 and len(small_t) <= 801
    empty_t, empty_v = store.window(("nobody", "nothing"), 0, 1)
    assert empty_t.size == 0 and empty_v.size == 0
