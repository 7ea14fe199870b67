"""Keyrings for tests: a real Secret Service where the machine has one, else one in memory.

``secret_service_session`` starts a private D-Bus session (``dbus-run-session``) running
gnome-keyring's Secret Service, unlocked, with HOME and XDG_RUNTIME_DIR in a temporary folder, and
yields the environment a process needs to use it (``.ci/run`` / ``bootstrap.sh test`` install
``gnome-keyring`` and ``dbus``). ``MemoryKeyring`` is a ``keyring`` backend that keeps secrets in
a dict, for machines without it.

Fixtures (registered in tests/conftest.py, for every test module):

* ``secret_service``: the real Secret Service as the active keyring (skips where unavailable);
  the environment it yields also serves subprocesses.
* ``memory_keyring``: the in-memory backend as the active keyring.
* ``test_keyring``: the real one where available, else the in-memory one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

#: The login keyring's password inside the throwaway session (nothing real is protected by it).
_UNLOCK_PASSWORD = "incident-console-tests"


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps secrets in memory only."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no secret for {username!r}")


def secret_service_available() -> bool:
    """True when ``dbus-run-session`` and ``gnome-keyring-daemon`` are installed."""
    return bool(shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon"))


@contextmanager
def secret_service_session(base: Path) -> Iterator[dict[str, str]]:
    """A private D-Bus session with an unlocked gnome-keyring; yields the environment to use it.

    HOME and XDG_RUNTIME_DIR point into ``base``. The session ends (bus and daemon) on exit.
    """
    home, runtime = base / "home", base / "runtime"
    home.mkdir(parents=True, exist_ok=True)
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    script = (
        'echo "$DBUS_SESSION_BUS_ADDRESS"; '
        f'printf "{_UNLOCK_PASSWORD}" | gnome-keyring-daemon --unlock --components=secrets '
        ">/dev/null; echo READY; exec cat"  # cat holds the session open until stdin closes
    )
    process = subprocess.Popen(
        ["dbus-run-session", "--", "sh", "-c", script],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        ready = process.stdout.readline().strip()
        if not address or ready != "READY":
            raise RuntimeError("the Secret Service did not start under dbus-run-session")
        yield {
            "DBUS_SESSION_BUS_ADDRESS": address,
            "HOME": str(home),
            "XDG_RUNTIME_DIR": str(runtime),
        }
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)  # our own session's process group, by its id
            process.wait(10)


@contextmanager
def _active_keyring(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The in-memory keyring as the active backend for the test."""
    with _active_keyring(MemoryKeyring()) as backend:
        yield backend  # type: ignore[misc]


@pytest.fixture
def secret_service(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A real Secret Service as the active keyring; yields its environment (for subprocesses)."""
    if not secret_service_available():
        pytest.skip("no dbus-run-session / gnome-keyring-daemon on this machine")
    from keyring.backends import SecretService

    with secret_service_session(tmp_path_factory.mktemp("secret-service")) as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        with _active_keyring(SecretService.Keyring()):
            yield env


@pytest.fixture
def test_keyring(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The real Secret Service where available, else the in-memory keyring; yields which."""
    if secret_service_available():
        from keyring.backends import SecretService

        with secret_service_session(tmp_path_factory.mktemp("secret-service")) as env:
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            with _active_keyring(SecretService.Keyring()):
                yield "secret-service"
        return
    with _active_keyring(MemoryKeyring()):
        yield "memory"
