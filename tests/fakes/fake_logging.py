"""A fake Cloud Logging ``LoggingServiceV2``: ``ListLogEntries`` and the streaming tail.

Entries are stored as real ``LogEntry`` protobufs (``run_request_entry`` builds one the way Cloud
Run's request log does: ``httpRequest`` with status and latency, severity, resource labels
``service_name`` / ``revision_name``). Filters are evaluated with a subset of the Logging query
language large enough for real queries: ``AND`` / ``OR`` / ``NOT``, parentheses, implicit ``AND``,
comparisons ``= != > >= < <= :`` on ``resource.type``, ``resource.labels.K``, ``labels.K``,
``severity`` (by level), ``httpRequest.status``, ``timestamp`` (RFC 3339), ``logName``,
``insertId`` and ``textPayload``, and value lists ``("a" OR "b")``. Anything else is refused with
``INVALID_ARGUMENT``, like Google.

The tail: ``publish`` stores entries and sends the matching ones to every open tail stream;
``suppress`` sends a ``suppression_info`` notice; ``drop_tails`` ends every open stream with an
error mid-way; ``wait_for_tails`` blocks until that many streams are open (no sleeps in tests).
``max_page_size`` forces paging of ``ListLogEntries``. Faults apply (``tests.fakes.Faults``).
"""

from __future__ import annotations

import math
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc
from google.api import monitored_resource_pb2
from google.cloud.logging_v2.types import log_entry
from google.cloud.logging_v2.types import logging as logging_types
from google.logging.type import log_severity_pb2

from tests.fakes import GrpcFakeServer, fill_page

SERVICE = "google.logging.v2.LoggingServiceV2"

_LogEntryPb = log_entry.LogEntry.pb()
_TailResponsePb = logging_types.TailLogEntriesResponse.pb()
_ListResponsePb = logging_types.ListLogEntriesResponse.pb()
SEVERITIES = dict(log_severity_pb2.LogSeverity.items())
RATE_LIMIT = logging_types.TailLogEntriesResponse.SuppressionInfo.Reason.RATE_LIMIT.value
NOT_CONSUMED = logging_types.TailLogEntriesResponse.SuppressionInfo.Reason.NOT_CONSUMED.value


#: How often an idle tail stream checks that its call is still alive, so a stream never
#: outlives the server (and keeps the test process from exiting).
TAIL_LIVENESS_CHECK_S = 0.5


class LogFilterError(ValueError):
    """A filter the fake (and, for these constructs, Google) refuses."""


# -- building entries ----------------------------------------------------------------------------


def run_request_entry(
    *,
    project: str,
    service: str,
    revision: str,
    status: int,
    latency_ms: float,
    t: float,
    insert_id: str,
    severity: str | None = None,
    message: str = "",
    location: str = "us-central1",
    url: str = "/api/health",
) -> object:
    """A Cloud Run request-log entry (``run.googleapis.com/requests``) as Google writes it."""
    entry = _LogEntryPb(
        log_name=f"projects/{project}/logs/run.googleapis.com%2Frequests",
        insert_id=insert_id,
        severity=SEVERITIES[severity or ("ERROR" if status >= 500 else "INFO")],
        resource=monitored_resource_pb2.MonitoredResource(
            type="cloud_run_revision",
            labels={
                "service_name": service,
                "revision_name": revision,
                "location": location,
                "project_id": project,
                "configuration_name": service,
            },
        ),
    )
    _set_time(entry.timestamp, t)
    _set_time(entry.receive_timestamp, t + 0.5)
    entry.http_request.request_method = "GET"
    entry.http_request.request_url = f"https://{service}.example{url}"
    entry.http_request.status = status
    entry.http_request.latency.FromNanoseconds(round(latency_ms * 1e6))
    if message:
        entry.text_payload = message
    return entry


def app_log_entry(
    *,
    project: str,
    service: str,
    revision: str,
    severity: str,
    message: str,
    t: float,
    insert_id: str,
    location: str = "us-central1",
) -> object:
    """An application log line on stderr (``run.googleapis.com/stderr``) with a text payload."""
    entry = _LogEntryPb(
        log_name=f"projects/{project}/logs/run.googleapis.com%2Fstderr",
        insert_id=insert_id,
        severity=SEVERITIES[severity],
        text_payload=message,
        resource=monitored_resource_pb2.MonitoredResource(
            type="cloud_run_revision",
            labels={"service_name": service, "revision_name": revision, "location": location},
        ),
    )
    _set_time(entry.timestamp, t)
    _set_time(entry.receive_timestamp, t + 0.5)
    return entry


def _set_time(target: Any, t: float) -> None:
    seconds = math.floor(t)
    target.seconds = seconds
    target.nanos = round((t - seconds) * 1e9)


def _entry_time(entry: Any) -> float:
    return entry.timestamp.seconds + entry.timestamp.nanos / 1e9


# -- the filter language -------------------------------------------------------------------------

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=|>|<|:)|(?P<lp>\()|(?P<rp>\))'
    r"|(?P<word>[^\s()=<>!:\"]+))"
)

Predicate = Callable[[Any], bool]


@dataclass
class _Token:
    kind: str
    text: str


def _tokens(text: str) -> list[_Token]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise LogFilterError(f"cannot parse the filter at {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            value = value[1:-1].replace('\\"', '"')
        tokens.append(_Token(kind, value))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise LogFilterError("the filter ends too early")
        self.i += 1
        return token

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda entry: True
        predicate = self.expr()
        if self.peek() is not None:
            raise LogFilterError(f"unexpected {self.peek().text!r} in the filter")  # type: ignore[union-attr]
        return predicate

    def expr(self) -> Predicate:
        terms = [self.conjunction()]
        while (token := self.peek()) is not None and token.kind == "word" and token.text == "OR":
            self.take()
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda e: any(t(e) for t in terms))

    def conjunction(self) -> Predicate:
        terms = [self.unary()]
        while (token := self.peek()) is not None and not (
            token.kind == "rp" or (token.kind == "word" and token.text == "OR")
        ):
            if token.kind == "word" and token.text == "AND":
                self.take()
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else (lambda e: all(t(e) for t in terms))

    def unary(self) -> Predicate:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text in ("NOT", "-"):
            self.take()
            inner = self.unary()
            return lambda e: not inner(e)
        if token is not None and token.kind == "word" and token.text.startswith("-"):
            token.text = token.text[1:]
            inner = self.unary()
            return lambda e: not inner(e)
        if token is not None and token.kind == "lp":
            self.take()
            inner = self.expr()
            if self.take().kind != "rp":
                raise LogFilterError("missing ')' in the filter")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        field = self.take()
        if field.kind != "word":
            raise LogFilterError(f"expected a field name, not {field.text!r}")
        op = self.take()
        if op.kind != "op":
            raise LogFilterError(f"global text search ({field.text!r}) is not supported")
        values = self.values()
        getter, convert = _field(field.text)
        converted = [convert(v) for v in values]
        compare = _COMPARE[op.text]

        def predicate(entry: Any) -> bool:
            actual = getter(entry)
            if actual is None:
                return op.text == "!="
            return any(compare(actual, value) for value in converted)

        return predicate

    def values(self) -> list[str]:
        token = self.take()
        if token.kind in ("str", "word"):
            return [token.text]
        if token.kind != "lp":
            raise LogFilterError(f"expected a value, not {token.text!r}")
        values = [self.take().text]
        while (nxt := self.take()).kind != "rp":
            if nxt.kind == "word" and nxt.text == "OR":
                values.append(self.take().text)
            else:
                raise LogFilterError('a value list is written ("a" OR "b")')
        return values


def _has(actual: Any, value: Any) -> bool:
    return str(value).lower() in str(actual).lower()


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ":": _has,
}


def _parse_time(text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError as exc:
        raise LogFilterError(f"not an RFC 3339 timestamp: {text!r}") from exc


def _severity(text: str) -> int:
    if text.upper() in SEVERITIES:
        return SEVERITIES[text.upper()]
    try:
        return int(text)
    except ValueError as exc:
        raise LogFilterError(f"unknown severity {text!r}") from exc


def _field(name: str) -> tuple[Callable[[Any], Any], Callable[[str], Any]]:
    """How to read ``name`` from an entry, and how to convert a filter value to compare with."""
    if name == "resource.type":
        return (lambda e: e.resource.type), str
    if name.startswith("resource.labels."):
        key = name[len("resource.labels.") :]
        return (lambda e: e.resource.labels.get(key)), str
    if name.startswith("labels."):
        key = name[len("labels.") :]
        return (lambda e: e.labels.get(key)), str
    if name == "severity":
        return (lambda e: e.severity), _severity
    if name == "httpRequest.status":
        return (lambda e: e.http_request.status if e.HasField("http_request") else None), int
    if name == "timestamp":
        return _entry_time, _parse_time
    if name == "logName":
        return (lambda e: e.log_name), str
    if name == "insertId":
        return (lambda e: e.insert_id), str
    if name == "textPayload":
        return (lambda e: e.text_payload if e.HasField("text_payload") else None), str
    raise LogFilterError(f"unknown field {name!r} in the filter")


def compile_filter(text: str) -> Predicate:
    """A predicate over ``LogEntry`` protobufs for a Logging filter; raises ``LogFilterError``."""
    return _Parser(text).parse()


# -- the server ----------------------------------------------------------------------------------


def _request_predicate(pb: Any, context: grpc.ServicerContext) -> Predicate:
    """The filter of a list or tail request; aborts the call (INVALID_ARGUMENT) when it names
    no resource or its filter does not parse."""
    if not pb.resource_names:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "resource_names is required")
    try:
        return compile_filter(pb.filter)
    except LogFilterError as exc:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        raise  # abort raises; this line only tells the type checker


@dataclass
class _Drop:
    code: grpc.StatusCode
    message: str


_CLOSED = object()


class _Tail:
    def __init__(self, predicate: Predicate) -> None:
        self.predicate = predicate
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()


class FakeLogging(GrpcFakeServer):
    """``google.logging.v2.LoggingServiceV2`` with list, tail and fault controls."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Any] = []
        self.max_page_size: int | None = None
        self._data_lock = threading.Lock()
        self._tails: list[_Tail] = []
        self._tails_changed = threading.Condition(self._data_lock)
        self._stopped = False
        self.add_unary(
            SERVICE,
            "ListLogEntries",
            logging_types.ListLogEntriesRequest.deserialize,
            lambda message: message.SerializeToString(),
            self._list_log_entries,
        )
        self.add_bidi_stream(
            SERVICE,
            "TailLogEntries",
            logging_types.TailLogEntriesRequest.deserialize,
            lambda message: message.SerializeToString(),
            self._tail_log_entries,
        )

    # -- controls --------------------------------------------------------------------------------

    def add_entries(self, entries: Iterable[Any]) -> None:
        """Store entries (visible to ``ListLogEntries``) without sending them to tails."""
        with self._data_lock:
            self.entries.extend(entries)

    def publish(self, entries: Iterable[Any]) -> None:
        """Store entries and send the matching ones to every open tail stream."""
        batch = list(entries)
        with self._data_lock:
            self.entries.extend(batch)
            tails = list(self._tails)
        for tail in tails:
            matching = [e for e in batch if tail.predicate(e)]
            if matching:
                response = _TailResponsePb()
                response.entries.extend(matching)
                tail.queue.put(response)

    def suppress(self, count: int, reason: int = RATE_LIMIT) -> None:
        """Tell every open tail that ``count`` entries were suppressed (rate limit by default)."""
        with self._data_lock:
            tails = list(self._tails)
        for tail in tails:
            response = _TailResponsePb()
            response.suppression_info.add(reason=reason, suppressed_count=count)
            tail.queue.put(response)

    def drop_tails(
        self, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE, message: str = "stream reset"
    ) -> int:
        """End every open tail stream with ``code`` (mid-way); returns how many were open."""
        with self._data_lock:
            tails = list(self._tails)
        for tail in tails:
            tail.queue.put(_Drop(code, message))
        return len(tails)

    @property
    def open_tails(self) -> int:
        with self._data_lock:
            return len(self._tails)

    def wait_for_tails(self, count: int, timeout: float = 10.0) -> bool:
        """Block until at least ``count`` tail streams are open; False on timeout."""
        with self._tails_changed:
            return self._tails_changed.wait_for(lambda: len(self._tails) >= count, timeout)

    # -- the RPCs --------------------------------------------------------------------------------

    def _list_log_entries(self, request: object, context: grpc.ServicerContext) -> object:
        pb = logging_types.ListLogEntriesRequest.pb(request)
        predicate = _request_predicate(pb, context)
        order = pb.order_by.strip().lower() or "timestamp asc"
        if order not in ("timestamp asc", "timestamp desc"):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"cannot order by {pb.order_by!r}")
        with self._data_lock:
            matching = [e for e in self.entries if predicate(e)]
        matching.sort(key=_entry_time, reverse=order == "timestamp desc")
        return fill_page(
            _ListResponsePb(),
            "entries",
            matching,
            pb.page_size,
            pb.page_token,
            context,
            default_size=50,
            max_size=self.max_page_size,
        )

    def _tail_log_entries(
        self, first: object, rest: Iterator[object], context: grpc.ServicerContext
    ) -> Iterator[object]:
        pb = logging_types.TailLogEntriesRequest.pb(first)
        predicate = _request_predicate(pb, context)
        tail = _Tail(predicate)
        if not context.add_callback(lambda: tail.queue.put(_CLOSED)):
            return  # the call ended before its handler ran (the server is stopping)
        with self._tails_changed:
            if self._stopped:
                return
            self._tails.append(tail)
            self._tails_changed.notify_all()
        try:
            while True:
                try:
                    item = tail.queue.get(timeout=TAIL_LIVENESS_CHECK_S)
                except queue.Empty:
                    if not context.is_active():  # ended without its callback reaching us
                        return
                    continue
                if item is _CLOSED:
                    return
                if isinstance(item, _Drop):
                    context.abort(item.code, item.message)
                yield item
        finally:
            with self._tails_changed:
                self._tails.remove(tail)
                self._tails_changed.notify_all()

    def stop(self) -> None:
        with self._tails_changed:
            self._stopped = True
            tails = list(self._tails)
        for tail in tails:
            tail.queue.put(_CLOSED)
        super().stop()
