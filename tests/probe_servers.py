"""Real servers on 127.0.0.1 for the probe tests, and an in-memory keyring.

``ProbeTargets`` runs a threaded HTTP server (health endpoints that are fine, slow, wrong, or
hang up; a login that checks the password and hands out a token) and a WebSocket server (the chat
agent: the five events in order, one missing, out of order, or the connection closed mid-stream),
both with the real protocol libraries (``http.server``, ``websockets``). The sleeps inside the
servers simulate latency; the tests themselves never sleep.

``MemoryKeyring`` is a real ``keyring`` backend that keeps secrets in a dict, so tests can plant
a secret where the console reads it, without a desktop keyring.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from console.workspace import GOLDEN_PATH_EVENTS

#: How long the slow endpoints take (the tests give their probes less).
SLOW_S = 1.5
#: The fake servers' own wire log (they see the token too) stays out of the console's log tests.
_SERVER_LOG = logging.getLogger("tests.probe_servers")
_SERVER_LOG.disabled = True


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend in memory (tests only)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@contextmanager
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Make a fresh ``MemoryKeyring`` the active backend for the duration."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean

    def _answer(self, status: int, body: dict | None = None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        if self.path == "/health":
            self._answer(200, {"status": "ok"})
        elif self.path == "/slow":
            time.sleep(SLOW_S)
            self._answer(200)
        elif self.path == "/unavailable":
            self._answer(503, {"error": "Service Unavailable"})
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/health")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/hang-up":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif self.path == "/needs-key":
            ok = self.headers.get("X-Api-Key") == self.server.api_key
            self._answer(200 if ok else 401)
        else:
            self._answer(404)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        if self.path == "/login":
            if body.get("password") != self.server.password:
                self._answer(401, {"error": "bad credentials"})
                return
            self._answer(200, {"access_token": self.server.token, "echo": body.get("username")})
        elif self.path == "/login-no-token":
            self._answer(200, {"hello": "there"})
        elif self.path == "/login-down":
            self._answer(503, {"error": "Cloud SQL connection failed: socket timeout"})
        else:
            self._answer(404)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    password = ""
    token = ""
    api_key = ""

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.requests: list[tuple[str, str, dict]] = []

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up (or a server that does, on purpose) is not news here


def _agent(connection: ServerConnection, events: list[str], close_after: int | None) -> None:
    """The chat agent: waits for the user's message, then sends ``events`` with noise."""
    message = json.loads(connection.recv(timeout=5))
    assert message["type"] == "user_message"
    connection.send(json.dumps({"type": "heartbeat"}))
    connection.send("plain text progress, not JSON")
    for index, event in enumerate(events):
        connection.send(json.dumps({"type": event, "payload": {"step": index}}))
        if close_after is not None and index + 1 == close_after:
            connection.close()
            return
    # hold the connection open (a missing event is waited for until the probe gives up)
    with contextlib.suppress(TimeoutError, ConnectionClosed):  # the probe closing ends the wait
        connection.recv(timeout=SLOW_S * 2)


class ProbeTargets:
    """An HTTP server and a WebSocket server on 127.0.0.1, started and stopped together."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.token = "tok-" + secrets.token_hex(12)
        self.http = _HttpServer(("127.0.0.1", 0))
        self.http.password, self.http.token = password, self.token
        self.http.api_key = password
        self.ws: Server = serve(
            self._chat, "127.0.0.1", 0, process_request=self._check_token, logger=_SERVER_LOG
        )
        self.websocket_requests: list[dict] = []
        self._threads = [
            threading.Thread(target=self.http.serve_forever, args=(0.02,), daemon=True),
            threading.Thread(target=self.ws.serve_forever, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws.socket.getsockname()[1]}"

    def _check_token(self, connection: ServerConnection, request: Request) -> Response | None:
        self.websocket_requests.append(dict(request.headers.raw_items()))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return connection.respond(401, "no token\n")
        if request.path == "/unavailable":
            return connection.respond(503, "backend down\n")
        return None

    def _chat(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request is not None else "/"
        events = list(GOLDEN_PATH_EVENTS)
        if path == "/chat":
            # repeats are fine: more thinking, a second tool call
            started, thinking, executing, completed, done = events
            events = [started, thinking, thinking, executing, completed, executing, completed, done]
            _agent(connection, events, None)
        elif path == "/missing":  # the tool never completes: the agent goes quiet
            _agent(connection, events[:3], None)
        elif path == "/skipped":  # completes without ever reporting the tool's completion
            _agent(connection, [e for e in events if e != "tool_completed"], None)
        elif path == "/out-of-order":
            _agent(connection, [events[0], events[2], events[1], events[3], events[4]], None)
        elif path == "/close-mid-stream":
            _agent(connection, events, close_after=2)
        elif path == "/slow":
            connection.recv(timeout=5)
            time.sleep(SLOW_S)
            _agent(connection, events, None)

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.ws.shutdown()
        for thread in self._threads:
            thread.join(5)


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for 127.0.0.1 made by the ``openssl`` command, or None."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return cert, key


class TlsServer:
    """The same HTTP endpoints over TLS with a self-signed certificate."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.http = _HttpServer(("127.0.0.1", 0))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.http.socket = context.wrap_socket(self.http.socket, server_side=True)
        self._thread = threading.Thread(target=self.http.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.http.server_address[1]}"

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self._thread.join(5)
