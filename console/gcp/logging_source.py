"""Cloud Logging as a source: the failing requests of the workspace's Cloud Run services, live.

Logs arrive in seconds where Monitoring takes minutes, so this source is the fresh signal:

* **Tail.** A worker thread keeps a ``TailLogEntries`` stream open (HTTP 5xx or severity ERROR
  and worse, for every Cloud Run service of the workspace in one filter). Entries reach the session
  within a second. The stream has its own deadline (``TAIL_STREAM_S``) and is reopened after it,
  after a drop (with back-off), or abandoned for listing when the API refuses it (permission,
  quota, not implemented) and tried again later (``TAIL_RETRY_S``).
* **Listing.** ``ListLogEntries`` backfills the recent past at start and then runs every
  ``LIST_EVERY_TAILING_S`` (every ``LIST_EVERY_FALLBACK_S`` without a tail) over the time since
  the last successful list. It catches what the tail missed (drops, suppression) and is what
  makes a minute *complete*: entries are de-duplicated by log name and insert id.
* **Counts.** ``errors_5xx_per_min_logs``: HTTP 5xx per service per minute, one point at each
  minute's end, only for minutes fully covered by successful listing (``console.minute_counts``);
  a gap stays a gap, never a false zero.
* **Suppression.** When the tail reports suppressed entries (rate limit), a NOTICE line says so in
  the log table and the status message keeps the count.

Every call has an explicit timeout and bounded retries; errors become the status (``error``,
``unauthorized`` naming roles/logging.viewer, ``quota``) and the source keeps trying.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from console.gcp.clients import (
    RETRY_DEADLINE_S,
    RPC_TIMEOUT_S,
    QuotaBackoff,
    describe_api_error,
    unary_retry,
)
from console.gcp.credentials import CredentialsError
from console.minute_counts import MinuteCounts
from console.sources import Batch, LogEntry, SourceStatus
from console.workspace import GcpSettings, Workspace

if TYPE_CHECKING:
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client

#: A tail stream's deadline; it is reopened after it (a stream never waits for an hour).
TAIL_STREAM_S = 600.0
#: After the API refused the tail, list instead and try the tail again this much later.
TAIL_RETRY_S = 300.0
#: Consecutive tail failures before falling back to listing.
TAIL_MAX_FAILURES = 3
LIST_EVERY_TAILING_S = 30.0
LIST_EVERY_FALLBACK_S = 15.0
#: Log entries can take seconds to become visible to a list: lists stop this long before now.
INGEST_LAG_S = 10.0
#: Each list starts this long before the previous one ended (late entries; duplicates dropped).
LIST_OVERLAP_S = 30.0
#: At start, the log table is filled with this much of the past.
BACKFILL_S = 1800.0
LIST_PAGE_SIZE = 1000
#: Pages per list call at most (the newest first); older entries beyond are left out.
LIST_MAX_PAGES = 10
#: How long ``poll`` waits for tailed entries before returning (it runs on a worker thread).
POLL_WAIT_S = 1.0
QUOTA_BACKOFF_S = (60.0, 600.0)
#: How many (log name, insert id) pairs are remembered to drop duplicates.
SEEN_CAPACITY = 50_000
MESSAGE_LIMIT = 500

#: Tail errors that mean "not now, not like this": list instead of reconnecting.
_REFUSALS = (
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "RESOURCE_EXHAUSTED",
    "UNIMPLEMENTED",
    "INVALID_ARGUMENT",
    "FAILED_PRECONDITION",
)


def rfc3339(t: float) -> str:
    """``2025-11-24T16:00:00.000000Z`` for a Logging filter."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def failing_requests_filter(resources: list[str], region: str) -> str:
    """The filter for the failing requests (5xx, or ERROR and worse) of these Cloud Run services."""
    names = " OR ".join(f'"{name}"' for name in resources)
    parts = ['resource.type = "cloud_run_revision"', f"resource.labels.service_name = ({names})"]
    if region:
        parts.append(f'resource.labels.location = "{region}"')
    parts.append("(httpRequest.status >= 500 OR severity >= ERROR)")
    return " AND ".join(parts)


def _notice(now: float, message: str) -> LogEntry:
    """A line of the source itself in the log (no service: the log table never filters it out)."""
    return LogEntry(t=now, service="", severity="NOTICE", message=message)


def _status_code(exc: BaseException) -> str:
    code = getattr(exc, "grpc_status_code", None)
    return getattr(code, "name", "") or type(exc).__name__


class _TailWorker:
    """Keeps a tail stream open on its own thread and hands every event to ``events``.

    Events: ``("response", TailLogEntriesResponse)``, ``("error", exc)`` (will reconnect),
    ``("refused", exc)`` (gave up: the source lists instead).
    """

    def __init__(
        self,
        client: LoggingServiceV2Client,
        request: Any,
        events: queue.SimpleQueue[tuple[str, Any]],
        *,
        stream_timeout_s: float = TAIL_STREAM_S,
    ) -> None:
        self.client = client
        self.request = request
        self.events = events
        self.stream_timeout_s = stream_timeout_s
        self._stop = threading.Event()
        self._stream_ended = threading.Event()
        self._stream: Any = None
        self.thread = threading.Thread(target=self._run, name="logging-tail", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._stream_ended.set()
        stream = self._stream
        if stream is not None:
            stream.cancel()

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def _requests(self, ended: threading.Event) -> Iterator[Any]:
        yield self.request
        ended.wait()  # returning would half-close the stream: hold it open until it ends

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            ended = self._stream_ended = threading.Event()
            try:
                stream = self.client.tail_log_entries(
                    requests=self._requests(ended), retry=None, timeout=self.stream_timeout_s
                )
                self._stream = stream
                for response in stream:
                    failures = 0
                    self.events.put(("response", response))
                failures = 0  # the server ended the stream cleanly: reopen it
            except Exception as exc:  # every failure is reported, none escapes the thread
                if self._stop.is_set():
                    break
                code = _status_code(exc)
                if code in _REFUSALS:
                    self.events.put(("refused", exc))
                    return
                if code != "DEADLINE_EXCEEDED":  # our own stream deadline is routine
                    failures += 1
                    self.events.put(("error", exc))
                if failures >= TAIL_MAX_FAILURES:
                    self.events.put(("refused", exc))
                    return
                # A routine reset reconnects at once; repeated failures back off (1, 2, 4 … s).
                self._stop.wait(min(30.0, 2.0 ** (failures - 2)) if failures > 1 else 0.0)
            finally:
                ended.set()
                self._stream = None


class LoggingSource:
    """Failing requests from Cloud Logging: a live tail, listing to catch up, counts per minute."""

    name = "logging"
    interval_s = 0.05  # poll itself waits up to POLL_WAIT_S for tailed entries
    #: A minute's count appears after the minute, the next list and the ingest lag.
    expected_delay_s = 60.0 + LIST_EVERY_TAILING_S + INGEST_LAG_S

    def __init__(
        self,
        workspace: Workspace,
        settings: GcpSettings,
        client_factory: Callable[[], LoggingServiceV2Client],
        *,
        backfill_s: float = BACKFILL_S,
        poll_wait_s: float = POLL_WAIT_S,
        tail: bool = True,
        rpc_timeout_s: float = RPC_TIMEOUT_S,
        retry_deadline_s: float = RETRY_DEADLINE_S,
    ) -> None:
        self.workspace = workspace
        self.rpc_timeout_s = rpc_timeout_s
        self.retry_deadline_s = retry_deadline_s
        self.project = settings.project or workspace.incident.project
        self.region = settings.region or workspace.incident.region
        self.backfill_s = backfill_s
        self.poll_wait_s = poll_wait_s
        self.use_tail = tail
        self._client_factory = client_factory
        self._client: LoggingServiceV2Client | None = None
        self._service_ids: dict[str, list[str]] = {}
        for service in workspace.services.values():
            if service.kind == "cloud_run":
                self._service_ids.setdefault(service.resource, []).append(service.id)
        service_ids = [sid for ids in self._service_ids.values() for sid in ids]
        self.filter = failing_requests_filter(sorted(self._service_ids), self.region)
        self._counts = MinuteCounts(service_ids, settle_s=INGEST_LAG_S)
        self._events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._tail: _TailWorker | None = None
        self._closed = False
        self._tail_retry_at = 0.0
        self._tail_problem = ""
        self._listed_until: float | None = None
        self._next_list_at = 0.0
        self._list_problem: tuple[str, str] | None = None
        self._quota_backoff = QuotaBackoff(*QUOTA_BACKOFF_S)
        self._seen: set[tuple[str, str]] = set()
        self._seen_order: deque[tuple[str, str]] = deque()
        self._suppressed: deque[tuple[float, int]] = deque()
        #: Pages read per list call at most (newest first).
        self.max_pages = LIST_MAX_PAGES
        #: List pages read, for tests and benchmarks.
        self.list_calls = 0

    # -- the Source protocol ---------------------------------------------------------------------

    def poll(self, now: float) -> Batch:
        batch = Batch(self.name)
        if self._closed:
            batch.status = self._status("stopped", "closed")
            return batch
        if not self._service_ids:
            batch.status = self._status("ok", "no Cloud Run services to read logs of")
            return batch
        try:
            client = self._ensure_client()
        except CredentialsError as exc:
            batch.status = self._status("unauthorized", str(exc))
            return batch
        first = self._listed_until is None
        if not first and self.use_tail:
            self._keep_tail(client, now)
            self._take_events(batch, now, wait=self._tail is not None)
        if now >= self._next_list_at:
            self._list(client, batch, now)
        for service_id, (times, values) in self._counts.release(now).items():
            batch.add((service_id, "errors_5xx_per_min_logs"), times, values)
        batch.status = self._current_status(now)
        return batch

    def close(self) -> None:
        self._closed = True
        tail, self._tail = self._tail, None
        if tail is not None:
            tail.stop()
        client, self._client = self._client, None
        if client is not None:
            client.transport.close()

    # -- tail ------------------------------------------------------------------------------------

    def _keep_tail(self, client: LoggingServiceV2Client, now: float) -> None:
        if self._closed or (self._tail is not None and self._tail.alive):
            return
        if self._tail is not None:
            self._tail = None
        if now < self._tail_retry_at:
            return
        from google.cloud.logging_v2.types import TailLogEntriesRequest

        request = TailLogEntriesRequest(
            resource_names=[f"projects/{self.project}"], filter=self.filter
        )
        self._tail = _TailWorker(client, request, self._events)
        self._tail.start()

    def _take_events(self, batch: Batch, now: float, *, wait: bool) -> None:
        try:
            first = (
                self._events.get(timeout=self.poll_wait_s) if wait else self._events.get_nowait()
            )
        except queue.Empty:
            return
        events = [first]
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                break
        for kind, payload in events:
            if kind == "response":
                self._take_response(batch, payload, now)
            elif kind == "error":
                message = describe_api_error(payload, "logging")[1]
                self._tail_problem = f"tail dropped, reconnecting: {message}"
                self._next_list_at = min(self._next_list_at, now)  # catch up what it missed
                batch.logs.append(
                    _notice(
                        now,
                        f"Cloud Logging's live tail dropped ({message}); reconnecting, "
                        "and the lines of the gap are listed",
                    )
                )
            elif kind == "refused":
                message = describe_api_error(payload, "logging")[1]
                self._tail_problem = (
                    f"tail unavailable ({message}); listing every {LIST_EVERY_FALLBACK_S:g} s"
                )
                self._tail_retry_at = now + TAIL_RETRY_S
                self._next_list_at = min(self._next_list_at, now)

    def _take_response(self, batch: Batch, response: Any, now: float) -> None:
        pb = type(response).pb(response)
        self._add_entries(batch, pb.entries)
        suppressed = sum(info.suppressed_count for info in pb.suppression_info)
        if suppressed:
            from google.cloud.logging_v2.types import TailLogEntriesResponse

            reasons = sorted(
                {
                    TailLogEntriesResponse.SuppressionInfo.Reason(info.reason).name.lower()
                    for info in pb.suppression_info
                }
            )
            self._suppressed.append((now, suppressed))
            batch.logs.append(
                _notice(
                    now,
                    f"Cloud Logging suppressed {suppressed} entries of the live tail "
                    f"({', '.join(reasons)}); listing every {LIST_EVERY_TAILING_S:g} s fills them "
                    "in",
                )
            )

    # -- list ------------------------------------------------------------------------------------

    def _list(self, client: LoggingServiceV2Client, batch: Batch, now: float) -> None:
        from google.cloud.logging_v2.types import ListLogEntriesRequest

        end = now - INGEST_LAG_S
        if self._listed_until is None:
            start = end - self.backfill_s
        else:
            start = min(self._listed_until, end) - LIST_OVERLAP_S
        request = ListLogEntriesRequest(
            resource_names=[f"projects/{self.project}"],
            filter=f'{self.filter} AND timestamp >= "{rfc3339(start)}" AND '
            f'timestamp <= "{rfc3339(end)}"',
            order_by="timestamp desc",
            page_size=LIST_PAGE_SIZE,
        )
        entries: list[Any] = []
        complete = True
        try:
            pager = client.list_log_entries(
                request=request,
                retry=unary_retry(self.retry_deadline_s),
                timeout=self.rpc_timeout_s,
            )
            for index, page in enumerate(pager.pages):
                self.list_calls += 1
                entries.extend(type(e).pb(e) for e in page.entries)
                if index + 1 >= self.max_pages and page.next_page_token:
                    complete = False
                    break
        except Exception as exc:  # every API failure is data
            state, message = describe_api_error(exc, "logging")
            self._list_problem = (state, message)
            if state == "quota":
                self._next_list_at = now + self._quota_backoff.exhausted()
            else:
                self._next_list_at = now + LIST_EVERY_FALLBACK_S
            return
        self._list_problem = None
        self._quota_backoff.reset()
        entries.reverse()  # oldest first, like a tail
        self._add_entries(batch, entries)
        covered_from = start
        if not complete and entries:
            covered_from = max(start, _entry_time(entries[0]))
        self._counts.observed(covered_from, end)
        self._listed_until = end
        tailing = self._tail is not None and self._tail.alive
        self._next_list_at = now + (LIST_EVERY_TAILING_S if tailing else LIST_EVERY_FALLBACK_S)
        if self._listed_until is not None and tailing:
            self._tail_problem = ""

    # -- entries ---------------------------------------------------------------------------------

    def _add_entries(self, batch: Batch, entries: Any) -> None:
        for pb in entries:
            key = (pb.log_name, pb.insert_id)
            if key in self._seen:
                continue
            self._remember(key)
            entry = self._to_log_entry(pb)
            if entry is None:
                continue
            batch.logs.append(entry)
            if entry.status is not None and entry.status >= 500:
                self._counts.add(entry.service, entry.t)

    def _remember(self, key: tuple[str, str]) -> None:
        self._seen.add(key)
        self._seen_order.append(key)
        while len(self._seen_order) > SEEN_CAPACITY:
            self._seen.discard(self._seen_order.popleft())

    def _to_log_entry(self, pb: Any) -> LogEntry | None:
        from google.logging.type import log_severity_pb2

        labels = pb.resource.labels
        service_ids = self._service_ids.get(labels.get("service_name", ""))
        if not service_ids:
            return None
        status: int | None = None
        latency_ms: float | None = None
        request_line = ""
        if pb.HasField("http_request"):
            http = pb.http_request
            status = http.status or None
            if http.HasField("latency"):
                latency_ms = http.latency.seconds * 1000.0 + http.latency.nanos / 1e6
            path = http.request_url.split("://", 1)[-1]
            path = "/" + path.split("/", 1)[1] if "/" in path else path
            request_line = f"{http.request_method} {path}".strip()
        message = _payload_text(pb) or request_line or pb.log_name.rsplit("/", 1)[-1]
        try:
            severity = log_severity_pb2.LogSeverity.Name(pb.severity)
        except ValueError:
            severity = str(pb.severity)
        return LogEntry(
            t=_entry_time(pb),
            service=service_ids[0],
            severity=severity,
            message=message[:MESSAGE_LIMIT],
            status=status,
            latency_ms=latency_ms,
            revision=labels.get("revision_name", ""),
        )

    # -- status ----------------------------------------------------------------------------------

    def _ensure_client(self) -> LoggingServiceV2Client:
        if self._closed:
            raise RuntimeError("the source is closed")
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _status(self, state: str, message: str) -> SourceStatus:
        return SourceStatus(self.name, state, message, self.expected_delay_s)  # type: ignore[arg-type]

    def _current_status(self, now: float) -> SourceStatus:
        while self._suppressed and self._suppressed[0][0] < now - 300:
            self._suppressed.popleft()
        suppressed = sum(count for _, count in self._suppressed)
        notes = []
        if self._tail_problem:
            notes.append(self._tail_problem)
        if suppressed:
            notes.append(f"{suppressed} entries suppressed by the tail in the last 5 min")
        if self._list_problem is not None:
            state, message = self._list_problem
            return self._status(state, "; ".join([message, *notes]))
        services = len(self._service_ids)
        tailing = self._tail is not None and self._tail.alive
        what = "tailing" if tailing else "listing"
        head = f"{what} failing requests of {services} service{'s' if services != 1 else ''}"
        return self._status("ok", "; ".join([head, *notes]))


def _entry_time(pb: Any) -> float:
    return pb.timestamp.seconds + pb.timestamp.nanos / 1e9


def _payload_text(pb: Any) -> str:
    which = pb.WhichOneof("payload")
    if which == "text_payload":
        return " ".join(pb.text_payload.split())
    if which == "json_payload":
        fields = pb.json_payload.fields
        for key in ("message", "msg", "error"):
            if key in fields and fields[key].WhichOneof("kind") == "string_value":
                return " ".join(fields[key].string_value.split())
    return ""
