"""Google Cloud credentials: Application Default Credentials first, else a key kept in the keyring.

Resolution order (``resolve_credentials``):

1. ``[gcp] credentials = "keyring:NAME"`` in the workspace: that key, from the OS keyring.
2. Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's
   ``application-default login``, or the metadata server on Google Cloud).
3. A key imported with ``incident-console credentials import FILE`` (keyring name
   ``gcp-credentials``).

Only two key types are accepted, and they are loaded by their own classes: a service-account key
and an authorized-user file (a credential configuration of another type can make the library
fetch arbitrary URLs; Google warns against accepting those unvalidated). The console reads the
user's file once and stores its content only in the keyring (``console.keyring_secrets``); it
never writes a credential to disk.

Off Google Cloud the ADC lookup would probe the metadata server (3 s × 3 tries);
``skip_metadata_probe_off_google_cloud`` sets ``NO_GCE_CHECK=true`` before google.auth reads it,
unless the machine looks like a Google Cloud VM.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.keyring_secrets import (
    KEYRING_SERVICE,
    SecretUnavailableError,
    delete_secret,
    keyring_backend_name,
    read_secret,
    reference_name,
    store_secret,
)

if TYPE_CHECKING:
    import google.auth.credentials

#: The keyring name ``credentials import`` uses unless told otherwise.
DEFAULT_KEY_NAME = "gcp-credentials"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
ACCEPTED_TYPES = ("service_account", "authorized_user")
_GCE_PRODUCT_FILE = Path("/sys/class/dmi/id/product_name")
_GOOGLE_CLOUD_ENV_HINTS = ("K_SERVICE", "GAE_ENV", "FUNCTION_TARGET", "GCE_METADATA_HOST")
#: Larger than any real key file (a service-account key is ~2.3 kB).
MAX_KEY_FILE_BYTES = 64 * 1024

FIX_HINT = (
    "give the console Google Cloud credentials: `gcloud auth application-default login`, or "
    "`incident-console credentials import KEY.json` (a service-account key or authorized-user "
    "file, kept in the OS keyring), or run the demo with --demo"
)


class CredentialsError(Exception):
    """Credentials are missing, unreadable or of a refused type; the message says how to fix it."""


def skip_metadata_probe_off_google_cloud() -> None:
    """Set ``NO_GCE_CHECK=true`` unless set already or this machine looks like Google Cloud.

    Must run before ``google.auth.compute_engine`` is first imported (it reads the variable once).
    """
    if "NO_GCE_CHECK" in os.environ:
        return
    if any(name in os.environ for name in _GOOGLE_CLOUD_ENV_HINTS):
        return
    try:
        if _GCE_PRODUCT_FILE.read_text(encoding="utf-8").strip().startswith("Google"):
            return
    except OSError:
        pass
    os.environ["NO_GCE_CHECK"] = "true"


@dataclass(frozen=True)
class KeyInfo:
    """What a key file says about itself (never the secret parts)."""

    kind: str
    #: The service account's e-mail, or the OAuth client id of an authorized user.
    identity: str
    project: str = ""

    def describe(self) -> str:
        """``service account sa@p.iam.gserviceaccount.com (project p)``."""
        if self.kind == "service_account":
            text = f"service account {self.identity}"
        else:
            text = f"authorized user (OAuth client {self.identity})"
        return f"{text} (project {self.project})" if self.project else text


def parse_key(text: str, source: str = "the key") -> tuple[dict[str, Any], KeyInfo]:
    """Parse and check a key's JSON; raises ``CredentialsError`` saying what is wrong."""
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialsError(
            f"{source} is not JSON (line {exc.lineno}: {exc.msg}); expected a service-account key "
            "or an authorized-user file"
        ) from None
    if not isinstance(info, dict):
        raise CredentialsError(f"{source} is not a JSON object")
    kind = info.get("type")
    if kind not in ACCEPTED_TYPES:
        raise CredentialsError(
            f"{source} has type {kind!r}; the console accepts only "
            f"{' or '.join(ACCEPTED_TYPES)} (other credential configurations can make the "
            "library fetch URLs they name, so they are refused)"
        )
    required = (
        ("client_email", "private_key", "token_uri")
        if kind == "service_account"
        else ("client_id", "client_secret", "refresh_token")
    )
    missing = [key for key in required if not info.get(key)]
    if missing:
        raise CredentialsError(f"{source} ({kind}) lacks {', '.join(missing)}")
    identity = info["client_email"] if kind == "service_account" else info["client_id"]
    project = str(info.get("project_id") or info.get("quota_project_id") or "")
    return info, KeyInfo(kind, str(identity), project)


def credentials_from_key(info: dict[str, Any]) -> google.auth.credentials.Credentials:
    """Build credentials from a parsed key of an accepted type (no network call)."""
    try:
        if info.get("type") == "service_account":
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_info(
                info, scopes=[CLOUD_PLATFORM_SCOPE]
            )
        from google.oauth2 import credentials as user_credentials

        return user_credentials.Credentials.from_authorized_user_info(
            info, scopes=[CLOUD_PLATFORM_SCOPE]
        )
    except (ValueError, KeyError) as exc:
        raise CredentialsError(f"the key cannot be used: {exc}") from None


@dataclass(frozen=True)
class ResolvedCredentials:
    """Credentials ready for the clients, with what ``show`` and the window say about them."""

    credentials: google.auth.credentials.Credentials
    #: Who the console acts as (an e-mail, "authorized user ...").
    identity: str
    #: Where they came from: ``keyring:NAME (SecretService Keyring)`` or ``Application Default
    #: Credentials``.
    where: str
    project: str = ""


def read_key(name: str) -> tuple[dict[str, Any], KeyInfo]:
    """The key stored in the keyring under ``name``. Raises ``CredentialsError`` or
    ``SecretUnavailableError``."""
    text = read_secret(name)
    return parse_key(text, f"the keyring entry {name!r}")


def _from_keyring(name: str) -> ResolvedCredentials:
    info, key = read_key(name)
    return ResolvedCredentials(
        credentials_from_key(info),
        key.describe(),
        f"keyring:{name} ({keyring_backend_name()})",
        key.project,
    )


def _adc() -> ResolvedCredentials:
    """Application Default Credentials; raises ``DefaultCredentialsError`` when there are none."""
    skip_metadata_probe_off_google_cloud()
    import google.auth

    credentials, project = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    identity = getattr(credentials, "service_account_email", None) or (
        "authorized user (gcloud)" if hasattr(credentials, "refresh_token") else "default identity"
    )
    where = "Application Default Credentials"
    file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if file:
        where += f" ({file})"
    return ResolvedCredentials(credentials, str(identity), where, project or "")


def resolve_credentials(reference: str = "") -> ResolvedCredentials:
    """The credentials a workspace uses (see the module docstring for the order).

    Raises ``CredentialsError`` with the fix when there are none.
    """
    if reference:
        try:
            return _from_keyring(reference_name(reference))
        except SecretUnavailableError as exc:
            raise CredentialsError(f"[gcp] credentials = {reference!r}: {exc}") from None
    from google.auth.exceptions import DefaultCredentialsError

    try:
        return _adc()
    except DefaultCredentialsError as adc_error:
        adc_problem = str(adc_error).split(". ")[0]
    try:
        return _from_keyring(DEFAULT_KEY_NAME)
    except SecretUnavailableError as keyring_error:
        raise CredentialsError(
            f"no Google Cloud credentials (Application Default Credentials: {adc_problem}; "
            f"keyring: {keyring_error}). To fix it, {FIX_HINT}"
        ) from None


def import_key(path: Path, name: str = DEFAULT_KEY_NAME) -> KeyInfo:
    """Read the key file at ``path``, check it, and store its content in the keyring."""
    try:
        size = path.stat().st_size
        if size > MAX_KEY_FILE_BYTES:
            raise CredentialsError(f"{path} is {size} bytes: too large to be a key file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CredentialsError(f"{path} is a folder; give the key's JSON file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"cannot read {path}: {exc}") from None
    info, key = parse_key(text, str(path))
    credentials_from_key(info)  # refuse a key the library cannot load before storing it
    try:
        store_secret(name, text)
    except SecretUnavailableError as exc:
        raise CredentialsError(f"cannot store the key: {exc}") from None
    return key


def describe_stored(name: str = DEFAULT_KEY_NAME) -> tuple[KeyInfo | None, str]:
    """What the keyring holds under ``name`` (None when nothing) and where it is kept."""
    where = f"OS keyring ({keyring_backend_name()}), service {KEYRING_SERVICE!r}, name {name!r}"
    try:
        _, key = read_key(name)
    except SecretUnavailableError:
        return None, where
    return key, where


def forget_key(name: str = DEFAULT_KEY_NAME) -> bool:
    """Remove the key ``name`` from the keyring; False when there was none."""
    return delete_secret(name)


def describe_adc() -> str:
    """One line on Application Default Credentials (found and whose, or why not), offline."""
    from google.auth.exceptions import DefaultCredentialsError

    try:
        resolved = _adc()
    except DefaultCredentialsError:
        return "not configured (`gcloud auth application-default login` sets them up)"
    return f"{resolved.identity} via {resolved.where}"
