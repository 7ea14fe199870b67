"""Cloud Monitoring as a source: the canonical metrics of every service from ``ListTimeSeries``.

One call per metric query for **all** services of a kind (``resource.label.X = one_of(...)`` and
``group_by_fields``), never one per service; every page is followed. The queries
(``QUERIES``, documented in docs/google-cloud.md) use the aligners and reducers of Google's own
dashboards: request counts as rates summed over revisions and split by response class (requests,
5xx, error ratio), latency percentiles of the revisions' merged distributions, instance counts by
state, utilizations as means.

Timing: windows of ``ALIGNMENT_PERIOD_S`` end on period boundaries. A window is reported once it
ended ``SETTLE_S`` ago, so a number is never a partial sum of revisions that have not all reported
yet (Monitoring data arrives 1–4 minutes late; ``expected_delay_s`` is 240 s, so that is not
stale). The first poll backfills ``[gcp] backfill``; then each query asks only for windows after
its own cursor, so a query that failed catches up at the next poll. Windows without request
counts are zeros (no requests), not gaps.

Up to ``QUERY_CONCURRENCY`` queries are in flight at once (a backfill of 15 queries does not wait
for each in turn). Faults are data: each call has an explicit timeout and bounded retries
(``clients.unary_retry``); a failed query keeps its cursor and the worst failure becomes the
source's status (``error``, ``unauthorized`` naming the
role, ``quota`` with its own growing back-off). Samples out of order or duplicated are sorted and
de-duplicated; NaN and points without a value are dropped.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from console.gcp.clients import (
    RETRY_DEADLINE_S,
    RPC_TIMEOUT_S,
    QuotaBackoff,
    describe_api_error,
    unary_retry,
    worst_problem,
)
from console.gcp.credentials import CredentialsError
from console.metrics import ServiceKind
from console.resource_state import ConnectorState, ResourceStateCache
from console.sources import Batch, SeriesKey, SourceStatus
from console.workspace import GcpSettings, Workspace

if TYPE_CHECKING:
    from google.cloud.monitoring_v3 import MetricServiceClient

#: Monitoring samples these metrics every 60 s: the alignment period of every query.
ALIGNMENT_PERIOD_S = 60
#: A window is reported only once it ended this long ago (late revisions have reported by then).
SETTLE_S = 120.0
#: How late Monitoring data normally is (docs: up to 240 s); older than that is stale.
EXPECTED_DELAY_S = 240.0
#: Windows of a connector kept while waiting for its maximum instances (24 h of minutes).
MAX_PENDING_WINDOWS = 24 * 60
#: Queries in flight at once (each still one call for all services of its kind).
QUERY_CONCURRENCY = 4
#: Quota back-off: first wait, and the longest.
QUOTA_BACKOFF_S = (60.0, 900.0)


@dataclass(frozen=True)
class MetricQuery:
    """One ``ListTimeSeries`` call for every service of ``kind``.

    The result is grouped by the kind's resource label and, when ``split_by`` is set, by that
    metric label too; ``metric`` names the canonical metric a plain result becomes.
    """

    key: str
    kind: ServiceKind
    metric_type: str
    aligner: str
    reducer: str
    metric: str = ""
    #: ``response_code_class`` → requests / 5xx / error ratio; ``state`` → active / idle.
    split_by: str = ""
    #: A window without points means zero (counts), not "no data".
    zero_fill: bool = False


#: The monitored resource and its label naming the resource, per service kind.
RESOURCES: dict[ServiceKind, tuple[str, str]] = {
    "cloud_run": ("cloud_run_revision", "service_name"),
    "vpc_connector": ("vpc_access_connector", "connector_name"),
    "cloud_sql": ("cloudsql_database", "database_id"),
}

QUERIES: tuple[MetricQuery, ...] = (
    MetricQuery(
        "run_requests",
        "cloud_run",
        "run.googleapis.com/request_count",
        "ALIGN_RATE",
        "REDUCE_SUM",
        split_by="response_code_class",
        zero_fill=True,
    ),
    *(
        MetricQuery(
            f"run_latency_p{p}",
            "cloud_run",
            "run.googleapis.com/request_latencies",
            "ALIGN_DELTA",
            f"REDUCE_PERCENTILE_{p}",
            metric=f"latency_p{p}_ms",
        )
        for p in (50, 95, 99)
    ),
    MetricQuery(
        "run_instances",
        "cloud_run",
        "run.googleapis.com/container/instance_count",
        "ALIGN_MAX",
        "REDUCE_SUM",
        split_by="state",
    ),
    MetricQuery(
        "run_cpu",
        "cloud_run",
        "run.googleapis.com/container/cpu/utilizations",
        "ALIGN_DELTA",
        "REDUCE_MEAN",
        metric="cpu_utilization",
    ),
    MetricQuery(
        "run_memory",
        "cloud_run",
        "run.googleapis.com/container/memory/utilizations",
        "ALIGN_DELTA",
        "REDUCE_MEAN",
        metric="memory_utilization",
    ),
    MetricQuery(
        "connector_sent",
        "vpc_connector",
        "vpcaccess.googleapis.com/connector/sent_bytes_count",
        "ALIGN_RATE",
        "REDUCE_SUM",
        metric="throughput_sent_bps",
        zero_fill=True,
    ),
    MetricQuery(
        "connector_received",
        "vpc_connector",
        "vpcaccess.googleapis.com/connector/received_bytes_count",
        "ALIGN_RATE",
        "REDUCE_SUM",
        metric="throughput_received_bps",
        zero_fill=True,
    ),
    MetricQuery(
        "connector_instances",
        "vpc_connector",
        "vpcaccess.googleapis.com/connector/instances",
        "ALIGN_MAX",
        "REDUCE_SUM",
        metric="instances",
    ),
    MetricQuery(
        "connector_cpu",
        "vpc_connector",
        "vpcaccess.googleapis.com/connector/cpu/utilizations",
        "ALIGN_MEAN",
        "REDUCE_MEAN",
        metric="cpu_utilization",
    ),
    MetricQuery(
        "sql_cpu",
        "cloud_sql",
        "cloudsql.googleapis.com/database/cpu/utilization",
        "ALIGN_MEAN",
        "REDUCE_MEAN",
        metric="cpu_utilization",
    ),
    MetricQuery(
        "sql_memory",
        "cloud_sql",
        "cloudsql.googleapis.com/database/memory/utilization",
        "ALIGN_MEAN",
        "REDUCE_MEAN",
        metric="memory_utilization",
    ),
    MetricQuery(
        "sql_connections_mysql",
        "cloud_sql",
        "cloudsql.googleapis.com/database/network/connections",
        "ALIGN_MEAN",
        "REDUCE_SUM",
        metric="connections",
    ),
    MetricQuery(
        "sql_connections_postgres",
        "cloud_sql",
        "cloudsql.googleapis.com/database/postgresql/num_backends",
        "ALIGN_MEAN",
        "REDUCE_SUM",
        metric="connections",
    ),
)

#: Turns a grouped series into canonical metric values per window: ``{window end: value}``.
Points = dict[float, float]


def monitoring_filter(query: MetricQuery, resources: list[str], region: str) -> str:
    """The filter of one query: its metric type, and every resource of its kind in one_of."""
    resource_type, label = RESOURCES[query.kind]
    names = ",".join(f'"{name}"' for name in resources)
    parts = [
        f'metric.type = "{query.metric_type}"',
        f'resource.type = "{resource_type}"',
        f"resource.label.{label} = one_of({names})",
    ]
    if region and query.kind in ("cloud_run", "vpc_connector"):
        parts.append(f'resource.label.location = "{region}"')
    return " AND ".join(parts)


def _point_value(point: Any) -> float | None:
    """A point's value as a float; None for a point without one (or NaN)."""
    which = point.value.WhichOneof("value")
    if which == "double_value":
        value = point.value.double_value
    elif which == "int64_value":
        value = float(point.value.int64_value)
    elif which == "distribution_value":
        dist = point.value.distribution_value
        value = dist.mean if dist.count else math.nan
    elif which == "bool_value":
        value = 1.0 if point.value.bool_value else 0.0
    else:
        return None
    return None if math.isnan(value) else value


class MonitoringSource:
    """The canonical metrics of a workspace's services from Cloud Monitoring."""

    name = "monitoring"
    expected_delay_s = EXPECTED_DELAY_S

    def __init__(
        self,
        workspace: Workspace,
        settings: GcpSettings,
        client_factory: Callable[[], MetricServiceClient],
        resources: ResourceStateCache | None = None,
        *,
        settle_s: float = SETTLE_S,
        rpc_timeout_s: float = RPC_TIMEOUT_S,
        retry_deadline_s: float = RETRY_DEADLINE_S,
    ) -> None:
        self.workspace = workspace
        self.rpc_timeout_s = rpc_timeout_s
        self.retry_deadline_s = retry_deadline_s
        self.settings = settings
        self.interval_s = settings.poll_interval_s
        self.project = settings.project or workspace.incident.project
        self.region = settings.region or workspace.incident.region
        self.settle_s = settle_s
        self._client_factory = client_factory
        self._client: MetricServiceClient | None = None
        self._resources = resources
        #: Resource name (as Monitoring labels it) → workspace service ids, per kind.
        self._by_resource: dict[ServiceKind, dict[str, list[str]]] = {}
        for service in workspace.services.values():
            if service.kind in RESOURCES:
                name = self._monitored_name(service.kind, service.resource)
                self._by_resource.setdefault(service.kind, {}).setdefault(name, []).append(
                    service.id
                )
        self.queries = tuple(q for q in QUERIES if q.kind in self._by_resource)
        #: Per query, the end of the last window reported (None before the first poll).
        self._cursor: dict[str, float | None] = {q.key: None for q in self.queries}
        self._quota_until = 0.0
        #: Per connector, ``{window end: [instances, cpu]}`` not yet turned into saturation.
        self._pending_saturation: dict[str, dict[float, list[float | None]]] = {}
        self._quota_backoff = QuotaBackoff(*QUOTA_BACKOFF_S)
        #: Calls made (pages included), for tests and benchmarks.
        self.calls = 0
        self._calls_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    def _monitored_name(self, kind: ServiceKind, resource: str) -> str:
        if kind == "cloud_sql" and ":" not in resource:
            return f"{self.project}:{resource}"
        return resource

    # -- the Source protocol ---------------------------------------------------------------------

    def poll(self, now: float) -> Batch:
        """Every settled window since the last poll, for every query; errors become status."""
        batch = Batch(self.name)
        if self._closed:
            batch.status = self._status("stopped", "closed")
            return batch
        if not self.queries:
            batch.status = self._status("ok", "no services with Monitoring metrics")
            return batch
        if now < self._quota_until:
            wait = self._quota_until - now
            batch.status = self._status("quota", f"quota exhausted; next try in {wait:.0f} s")
            return batch
        try:
            client = self._ensure_client()
        except CredentialsError as exc:
            batch.status = self._status("unauthorized", str(exc))
            return batch
        end = math.floor((now - self.settle_s) / ALIGNMENT_PERIOD_S) * ALIGNMENT_PERIOD_S
        results: dict[str, dict[tuple[str, str], Points]] = {}
        failures: list[tuple[str, str]] = []
        due: list[tuple[MetricQuery, float]] = []
        for query in self.queries:
            start = self._cursor[query.key]
            if start is None:
                start = end - max(ALIGNMENT_PERIOD_S, self.settings.backfill_s)
            if end > start:
                due.append((query, start))
        # The first query alone: when the API is down, denied or out of quota, one call says so.
        pending: dict[str, Future[dict[tuple[str, str], Points]]] = {}
        for index, (query, start) in enumerate(due):
            if index == 0:
                future: Future[dict[tuple[str, str], Points]] = Future()
                try:
                    future.set_result(self._run(client, query, start, end))
                except Exception as exc:  # every API failure is data
                    failures.append(describe_api_error(exc, "monitoring"))
                    break
                pending[query.key] = future
            else:
                pending[query.key] = self._ensure_pool().submit(
                    self._run, client, query, start, end
                )
        for key, future in pending.items():
            if future.cancelled():
                continue
            try:
                results[key] = future.result()
            except Exception as exc:  # every API failure is data
                failures.append(describe_api_error(exc, "monitoring"))
                for other in pending.values():
                    other.cancel()  # those not started yet wait for the next poll
                continue
            self._cursor[key] = float(end)
        failure = worst_problem(failures) if failures else None
        self._fill(batch, results)
        if failure is None:
            self._quota_backoff.reset()
            count = sum(len(ids) for ids in self._by_resource.values())
            batch.status = self._status(
                "ok",
                f"{len(self.queries)} queries for {count} services, every {self.interval_s:g} s",
            )
        else:
            state, message = failure
            if state == "quota":
                wait = self._quota_backoff.exhausted()
                self._quota_until = now + wait
                message += f"; next try in {wait:.0f} s"
            batch.status = self._status(state, message)  # type: ignore[arg-type]
        return batch

    def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        client, self._client = self._client, None
        if client is not None:
            client.transport.close()

    def _ensure_pool(self) -> ThreadPoolExecutor:
        if self._closed:
            raise RuntimeError("the Monitoring source is closed")
        if self._pool is None:
            self._pool = ThreadPoolExecutor(QUERY_CONCURRENCY, thread_name_prefix="monitoring")
        return self._pool

    # -- internals -------------------------------------------------------------------------------

    def _status(self, state: str, message: str) -> SourceStatus:
        return SourceStatus(self.name, state, message, self.expected_delay_s)  # type: ignore[arg-type]

    def _ensure_client(self) -> MetricServiceClient:
        if self._closed:
            raise RuntimeError("the source is closed")
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _run(
        self, client: MetricServiceClient, query: MetricQuery, start: float, end: float
    ) -> dict[tuple[str, str], Points]:
        """One query (all pages) → ``{(resource name, split label): {window end: value}}``."""
        from google.cloud import monitoring_v3

        _, label = RESOURCES[query.kind]
        group_by = [f"resource.label.{label}"]
        if query.split_by:
            group_by.append(f"metric.label.{query.split_by}")
        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{self.project}",
            filter=monitoring_filter(query, sorted(self._by_resource[query.kind]), self.region),
            interval=monitoring_v3.TimeInterval(
                start_time={"seconds": int(start)}, end_time={"seconds": int(end)}
            ),
            aggregation=monitoring_v3.Aggregation(
                alignment_period={"seconds": ALIGNMENT_PERIOD_S},
                per_series_aligner=monitoring_v3.Aggregation.Aligner[query.aligner],
                cross_series_reducer=monitoring_v3.Aggregation.Reducer[query.reducer],
                group_by_fields=group_by,
            ),
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
        )
        pager = client.list_time_series(
            request=request, retry=unary_retry(self.retry_deadline_s), timeout=self.rpc_timeout_s
        )
        grouped: dict[tuple[str, str], Points] = {}
        for page in pager.pages:
            with self._calls_lock:
                self.calls += 1
            for series in page.time_series:
                pb = type(series).pb(series)
                resource = pb.resource.labels.get(label, "")
                split = pb.metric.labels.get(query.split_by, "") if query.split_by else ""
                points = grouped.setdefault((resource, split), {})
                for point in pb.points:
                    value = _point_value(point)
                    t = point.interval.end_time.seconds + point.interval.end_time.nanos / 1e9
                    if value is not None and start < t <= end:
                        points[t] = value  # duplicates collapse; order is restored below
        if query.zero_fill:
            half = ALIGNMENT_PERIOD_S / 2
            windows = np.arange(start + ALIGNMENT_PERIOD_S, end + half, ALIGNMENT_PERIOD_S)
            for resource in self._by_resource[query.kind]:
                splits = {s for (r, s) in grouped if r == resource} or {""}
                for split in splits:
                    points = grouped.setdefault((resource, split), {})
                    for t in windows.tolist():
                        points.setdefault(t, 0.0)
        return grouped

    def _fill(self, batch: Batch, results: dict[str, dict[tuple[str, str], Points]]) -> None:
        values: dict[SeriesKey, Points] = {}
        for query in self.queries:
            grouped = results.get(query.key)
            if grouped is None:
                continue
            mapping = self._by_resource[query.kind]
            for (resource, split), points in grouped.items():
                for service_id in mapping.get(resource, ()):
                    self._to_metrics(query, service_id, split, points, values)
        for ids in self._by_resource.get("vpc_connector", {}).values():
            for service_id in ids:
                self._saturation(service_id, values)
        for key, points in values.items():
            if points:
                times = np.fromiter(sorted(points), dtype=np.float64, count=len(points))
                batch.add(key, times, np.array([points[t] for t in times.tolist()]))

    def _to_metrics(
        self,
        query: MetricQuery,
        service_id: str,
        split: str,
        points: Points,
        values: dict[SeriesKey, Points],
    ) -> None:
        if query.split_by == "response_code_class":
            total = values.setdefault((service_id, "requests_per_s"), {})
            errors = values.setdefault((service_id, "errors_5xx_per_s"), {})
            for t, value in points.items():
                total[t] = total.get(t, 0.0) + value
                errors[t] = errors.get(t, 0.0) + (value if split == "5xx" else 0.0)
            ratio = values.setdefault((service_id, "error_ratio"), {})
            for t, requests in total.items():
                ratio[t] = errors.get(t, 0.0) / requests if requests > 0 else 0.0
        elif query.split_by == "state":
            if split in ("active", "idle"):
                target = values.setdefault((service_id, f"instances_{split}"), {})
                target.update(points)
        else:
            values.setdefault((service_id, query.metric), {}).update(points)

    def _saturation(self, service_id: str, values: dict[SeriesKey, Points]) -> None:
        """Busy instances over the configured maximum: instances × CPU / max instances.

        Windows wait (bounded) until both numbers and the connector's maximum (from the Cloud
        Run state source, on another thread) are known, so the backfill gets saturation too.
        """
        pending = self._pending_saturation.setdefault(service_id, {})
        for metric, slot in (("instances", 0), ("cpu_utilization", 1)):
            for t, value in values.get((service_id, metric), {}).items():
                pair = pending.setdefault(t, [None, None])
                pair[slot] = value
        state = self._resources.get(service_id) if self._resources else None
        if isinstance(state, ConnectorState) and state.max_instances:
            saturation = values.setdefault((service_id, "saturation"), {})
            for t in sorted(pending):
                count, cpu = pending[t]
                if count is not None and cpu is not None:
                    saturation[t] = min(1.0, count * min(1.0, cpu) / state.max_instances)
                    del pending[t]
        for t in sorted(pending)[:-MAX_PENDING_WINDOWS]:
            del pending[t]
