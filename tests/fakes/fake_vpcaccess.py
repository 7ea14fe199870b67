"""A fake Serverless VPC Access v1 REST API on a real HTTP server at 127.0.0.1.

The Python client has no update method (FACTS.md), so the console talks REST; this fake serves
what it uses:

* ``GET  /v1/projects/P/locations/L/connectors/NAME``: the connector as JSON.
* ``PATCH /v1/projects/P/locations/L/connectors/NAME?updateMask=minInstances,maxInstances``
  (also ``machineType``) with a ``Connector`` body: validated against the connector limits
  (min ≥ 2, max 3–10, min < max, machine type f1-micro / e2-micro / e2-standard-4; limits are
  data in ``limits``) and refused with ``400 INVALID_ARGUMENT`` and a ``BadRequest`` field
  violation like Google; otherwise an ``Operation`` is returned and the connector shows
  ``UPDATING``.
* ``GET  /v1/projects/P/locations/L/operations/ID``: done after ``operation_polls`` reads, with
  the updated connector as ``response``.

Every request is recorded (``requests``), calls are counted (``calls``: ``GetConnector``,
``PatchConnector``, ``GetOperation``) and faults apply (``tests.fakes.Faults``; gRPC code names
map to HTTP statuses as in Google's error model). ``refuse_scale_in`` makes a lower min or max
fail like a connector that cannot scale in.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from tests.fakes import Faults

HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "ALREADY_EXISTS": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}

_MASK_FIELDS = {
    "minInstances": "minInstances",
    "min_instances": "minInstances",
    "maxInstances": "maxInstances",
    "max_instances": "maxInstances",
    "machineType": "machineType",
    "machine_type": "machineType",
    "minThroughput": "minThroughput",
    "min_throughput": "minThroughput",
    "maxThroughput": "maxThroughput",
    "max_throughput": "maxThroughput",
}


@dataclass
class ConnectorLimits:
    """What the API accepts (docs, Terraform provider, gcloud); data, because it changes."""

    min_instances_floor: int = 2
    max_instances_floor: int = 3
    max_instances_ceiling: int = 10
    machine_types: tuple[str, ...] = ("f1-micro", "e2-micro", "e2-standard-4")


@dataclass
class RecordedRequest:
    """One HTTP request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Operation:
    body: dict[str, Any]
    polls_left: int
    connector: str
    changes: dict[str, Any]


class _InvalidError(Exception):
    def __init__(self, code: str, message: str, field_name: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field_name = field_name


class FakeVpcAccess:
    """The VPC Access REST fake. Use as a context manager; ``base_url`` is where it listens."""

    def __init__(self, *, project: str = "netra-staging", location: str = "us-central1") -> None:
        self.project = project
        self.location = location
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self.connectors: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, _Operation] = {}
        self.limits = ConnectorLimits()
        self.operation_polls = 1
        self.refuse_scale_in = False
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- seeding ---------------------------------------------------------------------------------

    def connector_name(self, connector_id: str) -> str:
        return f"projects/{self.project}/locations/{self.location}/connectors/{connector_id}"

    def add_connector(
        self,
        connector_id: str,
        *,
        min_instances: int = 2,
        max_instances: int = 10,
        machine_type: str = "e2-micro",
        state: str = "READY",
    ) -> dict[str, Any]:
        """Store a connector and return its JSON."""
        name = self.connector_name(connector_id)
        body = {
            "name": name,
            "network": "default",
            "ipCidrRange": "10.8.0.0/28",
            "state": state,
            "minThroughput": 100 * min_instances,
            "maxThroughput": 100 * max_instances,
            "minInstances": min_instances,
            "maxInstances": max_instances,
            "machineType": machine_type,
            "connectedProjects": [self.project],
        }
        with self._lock:
            self.connectors[name] = body
        return copy.deepcopy(body)

    def get(self, connector_id: str) -> dict[str, Any]:
        """The stored connector JSON (a copy), for assertions."""
        with self._lock:
            return copy.deepcopy(self.connectors[self.connector_name(connector_id)])

    def requests_of(self, method_name: str) -> list[RecordedRequest]:
        """Recorded requests of ``GetConnector`` / ``PatchConnector`` / ``GetOperation``."""
        with self._lock:
            return [r for r in self.requests if _method_name(r.method, r.path) == method_name]

    # -- serving ---------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "start the fake first"
        return self._server.server_address[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (an endpoint for the workspace's ``[gcp] vpcaccess``)."""
        return f"http://{self.address}"

    def start(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_PATCH(self) -> None:
                fake._handle(self, "PATCH")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-vpcaccess")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self.faults.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- requests --------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode(errors="replace")
        path = parts.path
        recorded = RecordedRequest(
            method, path, parse_qs(parts.query), body, {k: v for k, v in handler.headers.items()}
        )
        name = _method_name(method, path)
        with self._lock:
            self.requests.append(recorded)
            self.calls[name] += 1
        self.faults.wait_before_answer(name, lambda _wake: None)
        failure = self.faults.next_failure(name)
        try:
            if failure is not None:
                raise _InvalidError(*failure)
            if not path.startswith("/v1/"):
                raise _InvalidError("NOT_FOUND", f"no such path {path}")
            resource = path[len("/v1/") :]
            if method == "GET" and "/operations/" in resource:
                status, answer = 200, self._get_operation(resource)
            elif method == "GET" and "/connectors/" in resource:
                status, answer = 200, self._get_connector(resource)
            elif method == "PATCH" and "/connectors/" in resource:
                mask = ",".join(recorded.query.get("updateMask", []))
                status, answer = 200, self._patch_connector(resource, mask, body)
            else:
                raise _InvalidError("NOT_FOUND", f"no such method {method} {path}")
        except _InvalidError as exc:
            status = HTTP_STATUS.get(exc.code, 500)
            error: dict[str, Any] = {"code": status, "message": str(exc), "status": exc.code}
            if exc.field_name:
                error["details"] = [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": exc.field_name, "description": str(exc)}],
                    }
                ]
            answer = {"error": error}
        payload = json.dumps(answer).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=UTF-8")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the client gave up (timed out) before the answer

    def _get_connector(self, name: str) -> dict[str, Any]:
        with self._lock:
            connector = self.connectors.get(name)
            if connector is None:
                raise _InvalidError("NOT_FOUND", f"Resource '{name}' was not found")
            return copy.deepcopy(connector)

    def _patch_connector(self, name: str, mask: str, body: Any) -> dict[str, Any]:
        if not mask:
            raise _InvalidError("INVALID_ARGUMENT", "updateMask is required", "update_mask")
        if not isinstance(body, dict):
            raise _InvalidError("INVALID_ARGUMENT", "the body must be a Connector JSON object")
        with self._lock:
            connector = self.connectors.get(name)
            if connector is None:
                raise _InvalidError("NOT_FOUND", f"Resource '{name}' was not found")
            if connector["state"] != "READY":
                raise _InvalidError(
                    "FAILED_PRECONDITION", f"connector is {connector['state']}, not READY"
                )
            changes: dict[str, Any] = {}
            for path in mask.split(","):
                key = _MASK_FIELDS.get(path.strip())
                if key is None:
                    raise _InvalidError(
                        "INVALID_ARGUMENT", f"unknown update mask field {path!r}", "update_mask"
                    )
                if key not in body:
                    raise _InvalidError(
                        "INVALID_ARGUMENT", f"{key} is in the update mask but not in the body", key
                    )
                changes[key] = body[key]
            after = {**connector, **changes}
            self._validate(connector, after)
            connector["state"] = "UPDATING"
            operation_name = (
                f"projects/{self.project}/locations/{self.location}/operations/op-{next(self._ids)}"
            )
            operation = {
                "name": operation_name,
                "metadata": {
                    "@type": "type.googleapis.com/google.cloud.vpcaccess.v1.OperationMetadata",
                    "method": "google.cloud.vpcaccess.v1.VpcAccessService.UpdateConnector",
                    "target": name,
                },
                "done": False,
            }
            self.operations[operation_name] = _Operation(
                operation, self.operation_polls, name, changes
            )
            if self.operation_polls <= 0:
                self._complete(self.operations[operation_name])
            return copy.deepcopy(operation)

    def _validate(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        limits = self.limits
        low, high = after["minInstances"], after["maxInstances"]
        if not isinstance(low, int) or not isinstance(high, int):
            raise _InvalidError("INVALID_ARGUMENT", "instance counts must be integers")
        if low < limits.min_instances_floor:
            raise _InvalidError(
                "INVALID_ARGUMENT",
                f"min_instances must be at least {limits.min_instances_floor}, not {low}",
                "min_instances",
            )
        if not limits.max_instances_floor <= high <= limits.max_instances_ceiling:
            raise _InvalidError(
                "INVALID_ARGUMENT",
                f"max_instances must be between {limits.max_instances_floor} and "
                f"{limits.max_instances_ceiling}, not {high}",
                "max_instances",
            )
        if low >= high:
            raise _InvalidError(
                "INVALID_ARGUMENT",
                f"min_instances ({low}) must be lower than max_instances ({high})",
                "min_instances",
            )
        if after["machineType"] not in limits.machine_types:
            raise _InvalidError(
                "INVALID_ARGUMENT",
                f"machine type {after['machineType']!r} is not one of "
                f"{', '.join(limits.machine_types)}",
                "machine_type",
            )
        if self.refuse_scale_in and (low < before["minInstances"] or high < before["maxInstances"]):
            raise _InvalidError(
                "INVALID_ARGUMENT",
                "a connector cannot scale in: min and max instances may only grow",
                "max_instances",
            )

    def _complete(self, operation: _Operation) -> None:
        connector = self.connectors[operation.connector]
        connector.update(operation.changes)
        connector["minThroughput"] = 100 * connector["minInstances"]
        connector["maxThroughput"] = 100 * connector["maxInstances"]
        connector["state"] = "READY"
        operation.body["done"] = True
        operation.body["response"] = {
            "@type": "type.googleapis.com/google.cloud.vpcaccess.v1.Connector",
            **copy.deepcopy(connector),
        }

    def _get_operation(self, name: str) -> dict[str, Any]:
        with self._lock:
            operation = self.operations.get(name)
            if operation is None:
                raise _InvalidError("NOT_FOUND", f"Operation '{name}' was not found")
            if not operation.body["done"]:
                operation.polls_left -= 1
                if operation.polls_left <= 0:
                    self._complete(operation)
            return copy.deepcopy(operation.body)


def _method_name(method: str, path: str) -> str:
    if method == "PATCH":
        return "PatchConnector"
    return "GetOperation" if "/operations/" in path else "GetConnector"
