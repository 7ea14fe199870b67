"""Secrets kept in the operating system's keyring, never in a file the console writes.

Workspaces refer to a secret by name (``password = "keyring:golden-path-user"``); credentials
imported with ``incident-console credentials import`` are stored the same way. Every secret lives
under the keyring service name ``incident-console``. Errors say what is missing and how to fix it.
"""

from __future__ import annotations

import types

KEYRING_SERVICE = "incident-console"
REFERENCE_PREFIX = "keyring:"


class SecretUnavailableError(Exception):
    """A secret cannot be read: no keyring on this machine, or no secret under that name."""


def _keyring() -> types.ModuleType:
    """The keyring module, imported on first use (it is slow to import)."""
    import keyring

    return keyring


def keyring_backend_name() -> str:
    """The active keyring backend, e.g. ``SecretService Keyring`` (for ``credentials show``)."""
    backend = _keyring().get_keyring()
    return getattr(backend, "name", type(backend).__name__)


def _check_backend() -> None:
    from keyring.backends import fail

    backend = _keyring().get_keyring()
    if isinstance(backend, fail.Keyring):
        raise SecretUnavailableError(
            "no keyring is available on this machine (on Linux it needs a Secret Service such as "
            "gnome-keyring in a D-Bus session)"
        )
    if "plaintext" in type(backend).__name__.lower():
        raise SecretUnavailableError(
            f"the keyring backend {keyring_backend_name()} stores secrets in plain text; "
            "the console refuses it: install and unlock a Secret Service (gnome-keyring)"
        )


def read_secret(name: str) -> str:
    """The secret stored under ``name``. Raises ``SecretUnavailableError`` with a fix."""
    _check_backend()
    from keyring.errors import KeyringError

    try:
        value = _keyring().get_password(KEYRING_SERVICE, name)
    except KeyringError as exc:
        raise SecretUnavailableError(f"the keyring refused to read {name!r}: {exc}") from exc
    if value is None:
        raise SecretUnavailableError(
            f"secret {name!r} is not in the keyring (service {KEYRING_SERVICE!r}); store it with "
            f"`keyring set {KEYRING_SERVICE} {name}`"
        )
    return value


def store_secret(name: str, value: str) -> None:
    """Store ``value`` under ``name``, replacing any earlier one."""
    _check_backend()
    from keyring.errors import KeyringError

    try:
        _keyring().set_password(KEYRING_SERVICE, name, value)
    except KeyringError as exc:
        raise SecretUnavailableError(f"the keyring refused to store {name!r}: {exc}") from exc


def delete_secret(name: str) -> bool:
    """Remove the secret ``name``; False when there was none."""
    _check_backend()
    from keyring.errors import PasswordDeleteError

    try:
        _keyring().delete_password(KEYRING_SERVICE, name)
    except PasswordDeleteError:
        return False
    return True


def is_reference(value: str) -> bool:
    """True for ``keyring:NAME``."""
    return value.startswith(REFERENCE_PREFIX)


def reference_name(value: str) -> str:
    """``NAME`` of ``keyring:NAME``; raises ``ValueError`` when ``value`` is not a reference."""
    if not is_reference(value) or not value[len(REFERENCE_PREFIX) :].strip():
        raise ValueError(f"not a keyring reference: write {REFERENCE_PREFIX}NAME")
    return value[len(REFERENCE_PREFIX) :].strip()


def resolve_reference(value: str) -> str:
    """The secret a ``keyring:NAME`` reference points at. Raises ``SecretUnavailableError``."""
    return read_secret(reference_name(value))
