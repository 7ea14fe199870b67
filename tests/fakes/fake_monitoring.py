"""A fake Cloud Monitoring ``MetricService`` (``ListTimeSeries``) that aggregates like Google.

Tests store raw series (per revision, per response code, ...) with ``add_series``; the fake answers
``ListTimeSeries`` the way the real API does: it parses the filter (``metric.type``,
``resource.type``, ``resource.label.K`` / ``metric.label.K`` with ``=``, ``!=`` and
``one_of(...)``), selects points in the interval, aligns each series into windows of the alignment
period ending at the interval's end (``ALIGN_RATE``, ``ALIGN_DELTA``, ``ALIGN_MEAN``, ``ALIGN_MAX``,
``ALIGN_MIN``, ``ALIGN_SUM``, ``ALIGN_COUNT``, ``ALIGN_PERCENTILE_*``), reduces across series
grouped by ``group_by_fields`` (``REDUCE_SUM``, ``REDUCE_MEAN``, ``REDUCE_MAX``, ``REDUCE_MIN``,
``REDUCE_COUNT``, ``REDUCE_PERCENTILE_*``; distributions are merged bucket by bucket before a
percentile is taken), keeps only the grouped labels, returns points newest first and pages the
series. Invalid requests (``ALIGN_RATE`` on a gauge, two metric types, an unknown filter key) are
refused with ``INVALID_ARGUMENT`` like Google.

Faults: ``faults`` (see ``tests.fakes.Faults``), plus ``shuffle_points`` / ``duplicate_points`` to
send points out of order and twice, and ``max_page_size`` to force many pages.
"""

from __future__ import annotations

import math
import random
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import grpc
from google.api import distribution_pb2, metric_pb2, monitored_resource_pb2
from google.cloud import monitoring_v3
from google.protobuf import timestamp_pb2

from tests.fakes import GrpcFakeServer, fill_page

SERVICE = "google.monitoring.v3.MetricService"

MetricKind = Literal["GAUGE", "DELTA", "CUMULATIVE"]
ValueType = Literal["DOUBLE", "INT64", "DISTRIBUTION"]

#: Cloud Run's latency distributions use exponential buckets (scale 1 ms, growth 1.4).
DEFAULT_GROWTH = 1.4
DEFAULT_SCALE = 1.0
DEFAULT_FINITE_BUCKETS = 70

_ALIGNER = monitoring_v3.Aggregation.Aligner
_REDUCER = monitoring_v3.Aggregation.Reducer
_LABEL_FIELD = re.compile(r"^(resource|metric)\.labels?\.([A-Za-z0-9_]+)$")
_CLAUSE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(!=|=)\s*(.+?)\s*$")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


class FilterError(ValueError):
    """The filter is not one the real API would accept."""


@dataclass
class Histogram:
    """A distribution value: finite bucket bounds and counts (len(bounds) + 1 buckets)."""

    bounds: tuple[float, ...]
    counts: list[int]
    total: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.counts)

    @classmethod
    def of_samples(cls, samples: Iterable[float], bounds: tuple[float, ...]) -> Histogram:
        """Bucket ``samples`` (underflow bucket first, overflow last)."""
        counts = [0] * (len(bounds) + 1)
        total = 0.0
        for sample in samples:
            index = _bucket_index(bounds, sample)
            counts[index] += 1
            total += sample
        return cls(bounds, counts, total)

    def merged(self, other: Histogram) -> Histogram:
        if other.bounds != self.bounds:
            raise ValueError("cannot merge distributions with different buckets")
        counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        return Histogram(self.bounds, counts, self.total + other.total)

    def percentile(self, fraction: float) -> float:
        """Google's way: find the bucket holding the rank, interpolate linearly inside it."""
        count = self.count
        if count == 0:
            return math.nan
        rank = fraction * count
        seen = 0
        for index, in_bucket in enumerate(self.counts):
            if in_bucket == 0 or seen + in_bucket < rank:
                seen += in_bucket
                continue
            lower = self.bounds[index - 1] if index > 0 else 0.0
            if index >= len(self.bounds):
                return lower
            upper = self.bounds[index]
            return lower + (upper - lower) * (rank - seen) / in_bucket
        return self.bounds[-1]

    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan


def exponential_bounds(
    growth: float = DEFAULT_GROWTH,
    scale: float = DEFAULT_SCALE,
    finite_buckets: int = DEFAULT_FINITE_BUCKETS,
) -> tuple[float, ...]:
    """The finite bounds of Google's exponential buckets: scale * growth**i, i = 0..N."""
    return tuple(scale * growth**i for i in range(finite_buckets + 1))


def _bucket_index(bounds: Sequence[float], value: float) -> int:
    lo, hi = 0, len(bounds)
    while lo < hi:
        mid = (lo + hi) // 2
        if value < bounds[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


Value = float | int | Histogram | None


@dataclass
class RawSeries:
    """One stored series as Google keeps it: a metric, a monitored resource and raw points."""

    metric_type: str
    resource_type: str
    resource_labels: dict[str, str]
    metric_labels: dict[str, str]
    metric_kind: MetricKind
    value_type: ValueType
    #: ``(end time in epoch seconds, value)``; a delta point covers the sample period before it.
    points: list[tuple[float, Value]] = field(default_factory=list)

    def label(self, name: str) -> str | None:
        match = _LABEL_FIELD.match(name)
        if match is None:
            return None
        labels = self.resource_labels if match.group(1) == "resource" else self.metric_labels
        return labels.get(match.group(2))


@dataclass
class _Clause:
    key: str
    negate: bool
    values: tuple[str, ...]

    def matches(self, series: RawSeries) -> bool:
        if self.key == "metric.type":
            actual: str | None = series.metric_type
        elif self.key == "resource.type":
            actual = series.resource_type
        else:
            actual = series.label(self.key)
        hit = actual is not None and actual in self.values
        return hit != self.negate


def parse_filter(text: str) -> list[_Clause]:
    """The clauses of a Monitoring filter joined by AND; raises ``FilterError``."""
    clauses: list[_Clause] = []
    for part in _split_and(text):
        match = _CLAUSE.match(part)
        if match is None:
            raise FilterError(f"could not parse filter clause {part!r}")
        key, op, raw = match.groups()
        if key not in ("metric.type", "resource.type") and not _LABEL_FIELD.match(key):
            raise FilterError(f"unknown filter key {key!r}")
        if raw.startswith("one_of(") and raw.endswith(")"):
            values = tuple(_QUOTED.findall(raw[len("one_of(") : -1]))
            if not values:
                raise FilterError(f"one_of() needs quoted values: {raw!r}")
        elif _QUOTED.fullmatch(raw):
            values = (_QUOTED.fullmatch(raw).group(1),)  # type: ignore[union-attr]
        else:
            raise FilterError(f"filter values must be quoted: {part!r}")
        clauses.append(_Clause(key, op == "!=", values))
    types = [c for c in clauses if c.key == "metric.type" and not c.negate]
    if len(types) != 1 or len(types[0].values) != 1:
        raise FilterError("a filter must name exactly one metric type")
    return clauses


def _split_and(text: str) -> list[str]:
    parts, depth, quoted, start = [], 0, False, 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and text[i : i + 5] == " AND ":
            parts.append(text[start:i])
            start = i + 5
            i += 5
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_PERCENTILES = {
    _ALIGNER.ALIGN_PERCENTILE_99: 0.99,
    _ALIGNER.ALIGN_PERCENTILE_95: 0.95,
    _ALIGNER.ALIGN_PERCENTILE_50: 0.50,
    _ALIGNER.ALIGN_PERCENTILE_05: 0.05,
}
_REDUCER_PERCENTILES = {
    _REDUCER.REDUCE_PERCENTILE_99: 0.99,
    _REDUCER.REDUCE_PERCENTILE_95: 0.95,
    _REDUCER.REDUCE_PERCENTILE_50: 0.50,
    _REDUCER.REDUCE_PERCENTILE_05: 0.05,
}


def _numbers(values: Sequence[Value]) -> list[float]:
    return [float(v) for v in values if v is not None and not isinstance(v, Histogram)]


def _merge(values: Sequence[Value]) -> Histogram | None:
    histograms = [v for v in values if isinstance(v, Histogram)]
    if not histograms:
        return None
    merged = histograms[0]
    for other in histograms[1:]:
        merged = merged.merged(other)
    return merged


def _align(aligner: int, kind: MetricKind, values: Sequence[Value], period: float) -> Value:
    present = [v for v in values if v is not None]
    if not present:
        return None
    if isinstance(present[0], Histogram):
        merged = _merge(present)
        assert merged is not None
        if aligner in (_ALIGNER.ALIGN_DELTA, _ALIGNER.ALIGN_SUM):
            return merged
        if aligner in _PERCENTILES:
            return merged.percentile(_PERCENTILES[aligner])
        if aligner == _ALIGNER.ALIGN_MEAN:
            return merged.mean()
        raise FilterError(f"{_ALIGNER(aligner).name} is not valid for a distribution")
    numbers = _numbers(present)
    if aligner == _ALIGNER.ALIGN_RATE:
        return math.fsum(numbers) / period
    if aligner in (_ALIGNER.ALIGN_DELTA, _ALIGNER.ALIGN_SUM):
        total = math.fsum(numbers)
        return int(total) if all(isinstance(v, int) for v in present) else total
    if aligner == _ALIGNER.ALIGN_MEAN:
        return math.fsum(numbers) / len(numbers)
    if aligner == _ALIGNER.ALIGN_MAX:
        return max(numbers)
    if aligner == _ALIGNER.ALIGN_MIN:
        return min(numbers)
    if aligner == _ALIGNER.ALIGN_COUNT:
        return len(numbers)
    raise FilterError(f"aligner {_ALIGNER(aligner).name} is not supported by the fake")


def _reduce(reducer: int, values: Sequence[Value]) -> Value:
    present = [v for v in values if v is not None]
    if not present:
        return None
    if isinstance(present[0], Histogram):
        merged = _merge(present)
        assert merged is not None
        if reducer == _REDUCER.REDUCE_SUM:
            return merged
        if reducer in _REDUCER_PERCENTILES:
            return merged.percentile(_REDUCER_PERCENTILES[reducer])
        if reducer == _REDUCER.REDUCE_MEAN:
            return merged.mean()
        raise FilterError(f"{_REDUCER(reducer).name} is not valid for a distribution")
    numbers = _numbers(present)
    if reducer == _REDUCER.REDUCE_SUM:
        total = math.fsum(numbers)
        return int(total) if all(isinstance(v, int) for v in present) else total
    if reducer == _REDUCER.REDUCE_MEAN:
        return math.fsum(numbers) / len(numbers)
    if reducer == _REDUCER.REDUCE_MAX:
        return max(numbers)
    if reducer == _REDUCER.REDUCE_MIN:
        return min(numbers)
    if reducer == _REDUCER.REDUCE_COUNT:
        return len(numbers)
    if reducer in _REDUCER_PERCENTILES:
        ordered = sorted(numbers)
        index = min(
            len(ordered) - 1, max(0, math.ceil(_REDUCER_PERCENTILES[reducer] * len(ordered)) - 1)
        )
        return ordered[index]
    raise FilterError(f"reducer {_REDUCER(reducer).name} is not supported by the fake")


def _timestamp(t: float) -> timestamp_pb2.Timestamp:
    seconds = math.floor(t)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=round((t - seconds) * 1e9))


def _seconds(ts: timestamp_pb2.Timestamp) -> float:
    return ts.seconds + ts.nanos / 1e9


def _typed_value(value: Value, value_type: ValueType) -> object:
    typed = monitoring_v3.TypedValue.pb()()
    if value is None:
        return typed  # a point without a value (Google sends these rarely; clients must cope)
    if isinstance(value, Histogram):
        dist = distribution_pb2.Distribution(
            count=value.count, mean=value.mean() if value.count else 0
        )
        dist.bucket_options.explicit_buckets.bounds.extend(value.bounds)
        dist.bucket_counts.extend(value.counts)
        typed.distribution_value.CopyFrom(dist)
    elif value_type == "INT64" and not (isinstance(value, float) and math.isnan(value)):
        typed.int64_value = int(value)
    else:
        typed.double_value = float(value)
    return typed


class FakeMonitoring(GrpcFakeServer):
    """``google.monitoring.v3.MetricService`` with ``ListTimeSeries`` over stored raw series."""

    def __init__(self) -> None:
        super().__init__()
        self.series: list[RawSeries] = []
        self._data_lock = threading.Lock()
        #: Cap on series per page whatever the request asks (forces many pages).
        self.max_page_size: int | None = None
        self.shuffle_points = False
        self.duplicate_points = False
        self.add_unary(
            SERVICE,
            "ListTimeSeries",
            monitoring_v3.ListTimeSeriesRequest.deserialize,
            lambda message: message.SerializeToString(),
            self._list_time_series,
        )

    # -- data ------------------------------------------------------------------------------------

    def add_series(
        self,
        metric_type: str,
        resource_type: str,
        resource_labels: dict[str, str],
        points: Iterable[tuple[float, Value | Sequence[float]]],
        *,
        metric_labels: dict[str, str] | None = None,
        kind: MetricKind = "GAUGE",
        value_type: ValueType = "DOUBLE",
        bounds: tuple[float, ...] | None = None,
    ) -> RawSeries:
        """Store a raw series. For ``DISTRIBUTION`` each point's value is a list of samples
        (bucketed with ``bounds``, Google's exponential buckets by default) or a ``Histogram``."""
        stored: list[tuple[float, Value]] = []
        for t, value in points:
            if (
                value_type == "DISTRIBUTION"
                and value is not None
                and not isinstance(value, Histogram)
            ):
                value = Histogram.of_samples(value, bounds or exponential_bounds())  # type: ignore[arg-type]
            stored.append((float(t), value))  # type: ignore[arg-type]
        series = RawSeries(
            metric_type,
            resource_type,
            dict(resource_labels),
            dict(metric_labels or {}),
            kind,
            value_type,
            stored,
        )
        with self._data_lock:
            self.series.append(series)
        return series

    def add_points(self, series: RawSeries, points: Iterable[tuple[float, Value]]) -> None:
        """Append points to a stored series (new data arriving)."""
        with self._data_lock:
            series.points.extend((float(t), v) for t, v in points)

    def clear_series(self) -> None:
        with self._data_lock:
            self.series.clear()

    # -- the RPC ---------------------------------------------------------------------------------

    def _list_time_series(self, request: object, context: grpc.ServicerContext) -> object:
        pb = monitoring_v3.ListTimeSeriesRequest.pb(request)
        try:
            if not pb.name.startswith("projects/"):
                raise FilterError(f"name must be projects/PROJECT, not {pb.name!r}")
            if not pb.interval.HasField("end_time"):
                raise FilterError("interval.end_time is required")
            clauses = parse_filter(pb.filter)
            result = self._evaluate(pb, clauses)
        except FilterError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        return fill_page(
            monitoring_v3.ListTimeSeriesResponse.pb()(),
            "time_series",
            result,
            pb.page_size,
            pb.page_token,
            context,
            default_size=100_000,
            max_size=self.max_page_size,
        )

    def _evaluate(self, pb: object, clauses: list[_Clause]) -> list[object]:
        end = _seconds(pb.interval.end_time)  # type: ignore[attr-defined]
        start = _seconds(pb.interval.start_time) if pb.interval.HasField("start_time") else end  # type: ignore[attr-defined]
        aggregation = pb.aggregation  # type: ignore[attr-defined]
        aligner = aggregation.per_series_aligner
        reducer = aggregation.cross_series_reducer
        period = aggregation.alignment_period.seconds + aggregation.alignment_period.nanos / 1e9
        if aligner != _ALIGNER.ALIGN_NONE and period <= 0:
            raise FilterError("alignment_period is required with a per-series aligner")
        if reducer != _REDUCER.REDUCE_NONE and aligner == _ALIGNER.ALIGN_NONE:
            raise FilterError("a cross-series reducer needs a per-series aligner")
        group_by = list(aggregation.group_by_fields)
        for name in group_by:
            if not _LABEL_FIELD.match(name):
                raise FilterError(f"cannot group by {name!r}")
        with self._data_lock:
            selected = [
                RawSeries(
                    s.metric_type,
                    s.resource_type,
                    s.resource_labels,
                    s.metric_labels,
                    s.metric_kind,
                    s.value_type,
                    [(t, v) for t, v in s.points if (start < t <= end) or (start == end == t)],
                )
                for s in self.series
                if all(clause.matches(s) for clause in clauses)
            ]
        selected = [s for s in selected if s.points]
        if aligner == _ALIGNER.ALIGN_NONE:
            return [
                self._to_proto(s, s.points, s.metric_kind, s.value_type, None) for s in selected
            ]
        if aligner in (_ALIGNER.ALIGN_RATE, _ALIGNER.ALIGN_DELTA):
            for s in selected:
                if s.metric_kind == "GAUGE":
                    raise FilterError(
                        f"{_ALIGNER(aligner).name} is not valid for GAUGE metric {s.metric_type}"
                    )
        aligned: list[tuple[RawSeries, dict[float, Value]]] = []
        for s in selected:
            windows: dict[float, list[Value]] = {}
            for t, value in s.points:
                k = math.floor((end - t) / period) if t < end else 0
                windows.setdefault(end - k * period, []).append(value)
            aligned.append(
                (s, {w: _align(aligner, s.metric_kind, vs, period) for w, vs in windows.items()})
            )
        out_kind, out_type = self._output_types(aligner, reducer, selected)
        if reducer == _REDUCER.REDUCE_NONE:
            return [
                self._to_proto(s, sorted(pts.items()), out_kind, out_type, None)
                for s, pts in aligned
            ]
        groups: dict[tuple[str | None, ...], list[tuple[RawSeries, dict[float, Value]]]] = {}
        for s, pts in aligned:
            groups.setdefault(tuple(s.label(name) for name in group_by), []).append((s, pts))
        result = []
        for members in groups.values():
            times = sorted({w for _, pts in members for w in pts})
            points = [
                (w, _reduce(reducer, [pts[w] for _, pts in members if w in pts])) for w in times
            ]
            result.append(self._to_proto(members[0][0], points, out_kind, out_type, group_by))
        return result

    @staticmethod
    def _output_types(
        aligner: int, reducer: int, selected: list[RawSeries]
    ) -> tuple[MetricKind, ValueType]:
        raw_type: ValueType = selected[0].value_type if selected else "DOUBLE"
        if aligner == _ALIGNER.ALIGN_DELTA:
            kind: MetricKind = "DELTA"
            value_type = raw_type
        elif aligner in (_ALIGNER.ALIGN_MAX, _ALIGNER.ALIGN_MIN, _ALIGNER.ALIGN_SUM):
            kind, value_type = "GAUGE", raw_type
        elif aligner == _ALIGNER.ALIGN_COUNT:
            kind, value_type = "GAUGE", "INT64"
        else:
            kind, value_type = "GAUGE", "DOUBLE"
        if reducer in (_REDUCER.REDUCE_MEAN, *_REDUCER_PERCENTILES):
            value_type = "DOUBLE"
        elif reducer == _REDUCER.REDUCE_COUNT:
            value_type = "INT64"
        return kind, value_type

    def _to_proto(
        self,
        series: RawSeries,
        points: list[tuple[float, Value]],
        kind: MetricKind,
        value_type: ValueType,
        group_by: list[str] | None,
    ) -> object:
        if group_by is None:
            metric_labels, resource_labels = series.metric_labels, series.resource_labels
        else:
            metric_labels, resource_labels = {}, {}
            for name in group_by:
                match = _LABEL_FIELD.match(name)
                assert match is not None
                value = series.label(name)
                if value is not None:
                    target = resource_labels if match.group(1) == "resource" else metric_labels
                    target[match.group(2)] = value
        proto = monitoring_v3.TimeSeries.pb()(
            metric=metric_pb2.Metric(type=series.metric_type, labels=metric_labels),
            resource=monitored_resource_pb2.MonitoredResource(
                type=series.resource_type, labels=resource_labels
            ),
            metric_kind=metric_pb2.MetricDescriptor.MetricKind.Value(kind),
            value_type=metric_pb2.MetricDescriptor.ValueType.Value(value_type),
        )
        ordered = sorted(points, key=lambda p: p[0], reverse=True)  # Google: newest first
        if self.duplicate_points:
            ordered = [p for p in ordered for _ in range(2)]
        if self.shuffle_points:
            random.Random(len(ordered)).shuffle(ordered)
        for t, value in ordered:
            point = proto.points.add()
            point.interval.end_time.CopyFrom(_timestamp(t))
            point.value.CopyFrom(_typed_value(value, value_type))
        return proto
