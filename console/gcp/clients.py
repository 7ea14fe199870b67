"""Building the generated Google Cloud clients with explicit endpoints, transports and credentials.

An endpoint is written ``host:port`` or ``https://host[:port]`` (TLS, the default Google
endpoints) or ``http://host:port`` (plaintext, accepted only on a loopback address: test fakes and
local proxies). A plaintext gRPC endpoint gets a transport built on an insecure channel, because
``client_options={"api_endpoint": ...}`` alone always makes a TLS channel (FACTS.md). The VPC
Access API has no update method in its Python client, so it is reached over REST through
google-auth's ``AuthorizedSession`` (``VpcAccessRest``).

Also here: the retry and timeout every call passes explicitly (the libraries' defaults retry for
up to an hour), the translation of API errors into a source state with the fix to apply, the
worst of several such states, and the back-off after an exhausted quota.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import google.auth.credentials
    from google.api_core.retry import Retry
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
    from google.cloud.monitoring_v3 import MetricServiceClient
    from google.cloud.run_v2 import RevisionsClient, ServicesClient

#: Seconds one unary RPC may take before it counts as failed.
RPC_TIMEOUT_S = 10.0
#: The whole retry budget of one call (first try plus retries).
RETRY_DEADLINE_S = 20.0


class EndpointError(ValueError):
    """An endpoint that cannot be used (a plaintext endpoint off loopback, a malformed one)."""


@dataclass(frozen=True)
class Endpoint:
    """Where one API is reached: host, port and whether the connection is plaintext."""

    host: str
    port: int
    plaintext: bool

    @property
    def address(self) -> str:
        """``host:port`` as gRPC wants it (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http(s)://host:port`` for REST."""
        return f"{'http' if self.plaintext else 'https'}://{self.address}"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_endpoint(text: str) -> Endpoint:
    """Parse an endpoint; raises ``EndpointError`` saying what is wrong and what to write."""
    raw = text.strip()
    if not raw:
        raise EndpointError("an endpoint cannot be empty")
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    if parts.scheme not in ("http", "https"):
        raise EndpointError(
            f"{text!r}: write host:port, https://host[:port] or http://127.0.0.1:PORT"
        )
    if parts.path not in ("", "/") or parts.query:
        raise EndpointError(f"{text!r}: an endpoint has no path; write only scheme, host and port")
    try:
        port = parts.port
    except ValueError as exc:
        raise EndpointError(f"{text!r}: {exc}") from exc
    host = parts.hostname or ""
    if not host:
        raise EndpointError(f"{text!r}: no host")
    plaintext = parts.scheme == "http"
    if plaintext and not is_loopback(host):
        raise EndpointError(
            f"{text!r}: a plaintext (http://) endpoint is accepted only on loopback "
            "(127.0.0.1, ::1, localhost); use https:// for anything else"
        )
    if port is None:
        port = 80 if plaintext else 443
    return Endpoint(host, port, plaintext)


def unary_retry(deadline_s: float = RETRY_DEADLINE_S) -> Retry:
    """Bounded retries with backoff for transient errors (UNAVAILABLE, DEADLINE_EXCEEDED).

    Quota (RESOURCE_EXHAUSTED) is not retried here: the source backs off for a whole poll
    interval instead of hammering the quota within one call.
    """
    from google.api_core import exceptions, retry

    return retry.Retry(
        predicate=retry.if_exception_type(
            exceptions.ServiceUnavailable, exceptions.DeadlineExceeded
        ),
        initial=0.5,
        maximum=4.0,
        multiplier=2.0,
        timeout=deadline_s,
    )


def _grpc_channel(endpoint: Endpoint) -> Any:
    import grpc

    options = [
        ("grpc.max_receive_message_length", 64 * 1024 * 1024),
        ("grpc.keepalive_time_ms", 30_000),
    ]
    return grpc.insecure_channel(endpoint.address, options=options)


def _generated_client(
    client_class: Any,
    transport_class: Any,
    endpoint: Endpoint,
    credentials: google.auth.credentials.Credentials | None,
    channel: Any = None,
) -> Any:
    """A generated gRPC client for ``endpoint``: over a plaintext channel on loopback
    (``channel`` when given, to share one), else over TLS with ``credentials``."""
    if endpoint.plaintext:
        channel = channel if channel is not None else _grpc_channel(endpoint)
        return client_class(transport=transport_class(channel=channel))
    return client_class(credentials=credentials, client_options={"api_endpoint": endpoint.address})


def build_metric_client(
    endpoint_text: str, credentials: google.auth.credentials.Credentials | None
) -> MetricServiceClient:
    """A ``MetricServiceClient`` for ``endpoint_text`` (plaintext only on loopback)."""
    from google.cloud.monitoring_v3 import MetricServiceClient
    from google.cloud.monitoring_v3.services.metric_service.transports import (
        MetricServiceGrpcTransport,
    )

    endpoint = parse_endpoint(endpoint_text)
    return _generated_client(MetricServiceClient, MetricServiceGrpcTransport, endpoint, credentials)


def build_logging_client(
    endpoint_text: str, credentials: google.auth.credentials.Credentials | None
) -> LoggingServiceV2Client:
    """The generated ``LoggingServiceV2Client`` (the handwritten client has no tail)."""
    from google.cloud.logging_v2.services.logging_service_v2 import LoggingServiceV2Client
    from google.cloud.logging_v2.services.logging_service_v2.transports import (
        LoggingServiceV2GrpcTransport,
    )

    endpoint = parse_endpoint(endpoint_text)
    return _generated_client(
        LoggingServiceV2Client, LoggingServiceV2GrpcTransport, endpoint, credentials
    )


def build_run_clients(
    endpoint_text: str, credentials: google.auth.credentials.Credentials | None
) -> tuple[ServicesClient, RevisionsClient]:
    """Cloud Run Admin v2 ``ServicesClient`` and ``RevisionsClient`` sharing one endpoint."""
    from google.cloud.run_v2 import RevisionsClient, ServicesClient
    from google.cloud.run_v2.services.revisions.transports import RevisionsGrpcTransport
    from google.cloud.run_v2.services.services.transports import ServicesGrpcTransport

    endpoint = parse_endpoint(endpoint_text)
    channel = _grpc_channel(endpoint) if endpoint.plaintext else None
    return (
        _generated_client(ServicesClient, ServicesGrpcTransport, endpoint, credentials, channel),
        _generated_client(RevisionsClient, RevisionsGrpcTransport, endpoint, credentials, channel),
    )


class VpcAccessRestError(Exception):
    """A VPC Access REST call failed; ``code`` is Google's status name (``PERMISSION_DENIED``)."""

    def __init__(self, code: str, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class VpcAccessRest:
    """The few Serverless VPC Access v1 REST calls the console makes, each with a timeout."""

    def __init__(
        self,
        endpoint_text: str,
        credentials: google.auth.credentials.Credentials | None,
        *,
        timeout_s: float = RPC_TIMEOUT_S,
    ) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.auth.transport.requests import AuthorizedSession

        endpoint = parse_endpoint(endpoint_text)
        self.base_url = endpoint.base_url
        self.timeout_s = timeout_s
        use = credentials if credentials is not None and not endpoint.plaintext else None
        self.session = AuthorizedSession(use or AnonymousCredentials())

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        import requests

        url = f"{self.base_url}/v1/{path.lstrip('/')}"
        try:
            response = self.session.request(method, url, timeout=self.timeout_s, **kwargs)
        except requests.Timeout as exc:
            raise VpcAccessRestError("DEADLINE_EXCEEDED", f"{method} {url} timed out") from exc
        except requests.RequestException as exc:
            raise VpcAccessRestError("UNAVAILABLE", f"{method} {url}: {exc}") from exc
        try:
            body = response.json() if response.content else {}
        except json.JSONDecodeError:
            body = {}
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise VpcAccessRestError(
                str(error.get("status") or _HTTP_STATUS_CODES.get(response.status_code, "UNKNOWN")),
                str(error.get("message") or response.reason or response.status_code),
                response.status_code,
            )
        return body if isinstance(body, dict) else {}

    def get_connector(self, name: str) -> dict[str, Any]:
        """``GET v1/{name}``: the connector as JSON (``state``, ``minInstances``, ...)."""
        return self._call("GET", name)

    def patch_connector(self, name: str, body: dict[str, Any], update_mask: str) -> dict[str, Any]:
        """``PATCH v1/{name}?updateMask=...``: starts an update and returns its Operation."""
        return self._call("PATCH", name, params={"updateMask": update_mask}, json=body)

    def get_operation(self, name: str) -> dict[str, Any]:
        """``GET v1/{operation name}``."""
        return self._call("GET", name)

    def close(self) -> None:
        self.session.close()


_HTTP_STATUS_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


#: The role (and the permission it grants) each API needs for what the console reads.
READ_ROLES: dict[str, str] = {
    "monitoring": "roles/monitoring.viewer (monitoring.timeSeries.list)",
    "logging": "roles/logging.viewer (logging.logEntries.list)",
    "run": "roles/run.viewer (run.services.list, run.revisions.list)",
    "vpcaccess": "roles/vpcaccess.viewer (vpcaccess.connectors.get)",
}


def describe_api_error(exc: BaseException, api: str) -> tuple[str, str]:
    """A source state (``error`` / ``unauthorized`` / ``quota``) and a message for a failed call,
    naming the role to grant on permission errors."""
    from google.api_core import exceptions

    code = getattr(exc, "code", None)
    if isinstance(exc, VpcAccessRestError):
        name = exc.code
    elif isinstance(exc, exceptions.RetryError):
        cause = exc.cause
        if cause is not None and cause is not exc:
            state, message = describe_api_error(cause, api)
            return state, f"gave up retrying: {message}"
        name = "DEADLINE_EXCEEDED"
    elif isinstance(exc, exceptions.GoogleAPICallError):
        name = getattr(exc.grpc_status_code, "name", "") or str(code or "UNKNOWN")
    else:
        name = type(exc).__name__
    detail = getattr(exc, "message", None) or str(exc)
    detail = " ".join(str(detail).split())[:300]
    if name == "PERMISSION_DENIED":
        return "unauthorized", (
            f"{api}: permission denied ({detail}); grant the console's identity "
            f"{READ_ROLES.get(api, 'a viewer role on this API')}"
        )
    if name == "UNAUTHENTICATED":
        return "unauthorized", (
            f"{api}: not authenticated ({detail}); renew the credentials "
            "(`gcloud auth application-default login` or `incident-console credentials import`)"
        )
    if name == "RESOURCE_EXHAUSTED":
        return "quota", f"{api}: quota exhausted ({detail}); backing off"
    if name in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
        return "error", f"{api}: {name.lower().replace('_', ' ')} ({detail}); retrying"
    return "error", f"{api}: {name} ({detail})"


#: A source's problem states, worst first (what it reports when several calls fail differently).
_PROBLEM_ORDER = {"unauthorized": 0, "quota": 1, "error": 2}


def worst_problem(problems: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """The first of the worst ``(state, message)`` problems: unauthorized, quota, then error."""
    return min(problems, key=lambda problem: _PROBLEM_ORDER.get(problem[0], len(_PROBLEM_ORDER)))


class QuotaBackoff:
    """How long a source waits after a quota ran out: ``first_s``, doubled for every exhausted
    quota in a row up to ``most_s``; ``first_s`` again after a call that succeeded."""

    def __init__(self, first_s: float, most_s: float) -> None:
        self.first_s = first_s
        self.most_s = most_s
        #: The wait the next exhausted quota gets.
        self.wait_s = first_s

    def exhausted(self) -> float:
        """The wait after this exhausted quota (the next one waits twice as long)."""
        wait = self.wait_s
        self.wait_s = min(self.most_s, self.wait_s * 2)
        return wait

    def reset(self) -> None:
        """A call succeeded: the next exhausted quota waits ``first_s`` again."""
        self.wait_s = self.first_s
