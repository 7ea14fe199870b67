"""In-process fake Google Cloud servers that speak the real protocols, for tests and benchmarks.

Each fake listens on 127.0.0.1, port 0 (a free port), and is a context manager:

    with FakeMonitoring() as monitoring:
        monitoring.add_series(...)
        client = build_metric_client(GcpEndpoints(monitoring=monitoring.address), creds)

The gRPC fakes (``fake_monitoring``, ``fake_logging``, ``fake_cloud_run``) are built on
``GrpcFakeServer`` below with ``grpc.method_handlers_generic_handler`` and the request/response
types' own ``serialize``/``deserialize`` (no servicer base classes ship for these APIs). The VPC
Access fake (``fake_vpcaccess``) is a real HTTP server. Every fake counts and records the calls it
receives and takes faults from a shared ``Faults`` plan: fail the next calls with a status code,
delay every call, or never answer; list calls page with ``fill_page``. See docs/google-cloud.md
("Fake servers").
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any, Self

import grpc

#: Matches every method in ``Faults``.
ANY_METHOD = "*"


@dataclass
class _Failure:
    code: str
    message: str
    remaining: int


class Faults:
    """Faults a fake applies before answering a call: failures, latency, or never answering.

    Methods are named as on the wire (``ListTimeSeries``, ``TailLogEntries``, ``GetConnector``);
    ``"*"`` matches every method. Codes are gRPC status code names (``"UNAVAILABLE"``,
    ``"PERMISSION_DENIED"``); the HTTP fake maps them to HTTP statuses like Google does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._hanging: set[str] = set()
        self._waiters: set[threading.Event] = set()
        self._closed = False

    def fail(
        self, method: str, code: str | grpc.StatusCode, *, times: int = 1, message: str = ""
    ) -> None:
        """Fail the next ``times`` calls of ``method`` with ``code`` (times=-1: until cleared)."""
        name = code.name if isinstance(code, grpc.StatusCode) else str(code)
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(name, message or f"fake {name.lower()}", times)
            )

    def delay(self, seconds: float, method: str = ANY_METHOD) -> None:
        """Answer every call of ``method`` only after ``seconds`` (simulated latency)."""
        with self._lock:
            self._delays[method] = seconds

    def hang(self, method: str = ANY_METHOD) -> None:
        """Never answer ``method`` (until ``release`` or the server stops)."""
        with self._lock:
            self._hanging.add(method)

    def release(self) -> None:
        """Stop hanging and delaying, and wake every call that waits."""
        with self._lock:
            self._hanging.clear()
            self._delays.clear()
            waiters = list(self._waiters)
        for event in waiters:
            event.set()

    def clear(self) -> None:
        """Forget every fault and wake every waiting call."""
        with self._lock:
            self._failures.clear()
        self.release()

    def close(self) -> None:
        """Wake every waiting call for good (the server is stopping)."""
        with self._lock:
            self._closed = True
        self.release()

    def next_failure(self, method: str) -> tuple[str, str] | None:
        """The ``(code, message)`` the next call of ``method`` must fail with, if any."""
        with self._lock:
            for key in (method, ANY_METHOD):
                queue = self._failures.get(key)
                while queue:
                    failure = queue[0]
                    if failure.remaining == 0:
                        queue.pop(0)
                        continue
                    if failure.remaining > 0:
                        failure.remaining -= 1
                    return failure.code, failure.message
        return None

    def wait_before_answer(self, method: str, on_end: Callable[[Callable[[], None]], Any]) -> None:
        """Block as the plan says (delay or hang). ``on_end`` registers a wake-up for the call's
        end (a cancelled or timed-out call stops waiting)."""
        with self._lock:
            if self._closed:
                return
            hanging = method in self._hanging or ANY_METHOD in self._hanging
            delay = self._delays.get(method, self._delays.get(ANY_METHOD, 0.0))
            if not hanging and delay <= 0:
                return
            event = threading.Event()
            self._waiters.add(event)
        on_end(event.set)
        try:
            event.wait(None if hanging else delay)
        finally:
            with self._lock:
                self._waiters.discard(event)


class GrpcFakeServer:
    """A gRPC server on 127.0.0.1:0 with generic handlers, call counting and a fault plan."""

    def __init__(self, *, max_workers: int = 32) -> None:
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        #: Every request received, in order: ``(method, request message)``.
        self.requests: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self._called = threading.Condition(self._lock)
        self._handlers: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
        self.port = 0

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT`` once started."""
        return f"127.0.0.1:{self.port}"

    def requests_of(self, method: str) -> list[Any]:
        """The requests received for ``method``, in order."""
        with self._lock:
            return [request for name, request in self.requests if name == method]

    def reset_counts(self) -> None:
        """Forget the calls and requests seen so far."""
        with self._lock:
            self.calls.clear()
            self.requests.clear()

    def _record(self, method: str, request: Any) -> None:
        with self._called:
            self.calls[method] += 1
            self.requests.append((method, request))
            self._called.notify_all()

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> bool:
        """Block until ``method`` was called ``count`` times in all; False on timeout."""
        with self._called:
            return self._called.wait_for(lambda: self.calls[method] >= count, timeout)

    def _apply_faults(self, method: str, context: grpc.ServicerContext) -> None:
        self.faults.wait_before_answer(method, context.add_callback)
        failure = self.faults.next_failure(method)
        if failure is not None:
            code, message = failure
            context.abort(grpc.StatusCode[code], message)

    def add_unary(
        self,
        service: str,
        method: str,
        request_deserializer: Callable[[bytes], Any],
        response_serializer: Callable[[Any], bytes],
        handler: Callable[[Any, grpc.ServicerContext], Any],
    ) -> None:
        """Serve ``/service/method``; the handler gets the request after faults are applied."""

        def answer(request: Any, context: grpc.ServicerContext) -> Any:
            self._record(method, request)
            self._apply_faults(method, context)
            return handler(request, context)

        self._handlers.setdefault(service, {})[method] = grpc.unary_unary_rpc_method_handler(
            answer,
            request_deserializer=request_deserializer,
            response_serializer=response_serializer,
        )

    def add_bidi_stream(
        self,
        service: str,
        method: str,
        request_deserializer: Callable[[bytes], Any],
        response_serializer: Callable[[Any], bytes],
        handler: Callable[[Any, Any, grpc.ServicerContext], Any],
    ) -> None:
        """Serve a bidirectional stream; the handler gets the first request, the rest of the
        request iterator and the context, and yields responses."""

        def answer(request_iterator: Any, context: grpc.ServicerContext) -> Any:
            try:
                first = next(request_iterator)
            except StopIteration:
                return
            self._record(method, first)
            self._apply_faults(method, context)
            yield from handler(first, request_iterator, context)

        self._handlers.setdefault(service, {})[method] = grpc.stream_stream_rpc_method_handler(
            answer,
            request_deserializer=request_deserializer,
            response_serializer=response_serializer,
        )

    def start(self) -> Self:
        """Bind 127.0.0.1 on a free port and start serving."""
        for service, methods in self._handlers.items():
            self._server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(service, methods),)
            )
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return self

    def stop(self) -> None:
        """Wake every waiting call and stop at once."""
        self.faults.close()
        self._server.stop(grace=0).wait(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fill_page(
    response: Any,
    field_name: str,
    items: list[Any],
    page_size: int,
    page_token: str,
    context: grpc.ServicerContext,
    *,
    default_size: int,
    max_size: int = 0,
) -> Any:
    """Put the page of ``items`` a list call asks for into ``response.<field_name>``.

    ``page_size`` items (``default_size`` when 0; at most ``max_size`` when set) from the offset
    ``page_token`` holds, and the next page's token while more remain. A token that is not one
    of ours aborts the call with INVALID_ARGUMENT, as the real APIs do.
    """
    try:
        offset = int(page_token) if page_token else 0
    except ValueError:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid page token")
    size = page_size or default_size
    if max_size:
        size = min(size, max_size)
    getattr(response, field_name).extend(items[offset : offset + size])
    if offset + size < len(items):
        response.next_page_token = str(offset + size)
    return response
