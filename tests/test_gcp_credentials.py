"""Credentials: ADC first, else a key kept in the OS keyring; ``credentials import/show/forget``.

The round trip runs against a real Secret Service (gnome-keyring in a private D-Bus session)
where the machine has one, in process and as a subprocess, and against the in-memory keyring
otherwise. A key never lands in a file the console writes: after an import through the command
line, no file under the test's HOME, runtime dir or working folder holds it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from console.cli import main
from console.gcp import credentials as gcp_credentials
from console.gcp.credentials import (
    DEFAULT_KEY_NAME,
    CredentialsError,
    import_key,
    parse_key,
    resolve_credentials,
    skip_metadata_probe_off_google_cloud,
)
from console.keyring_secrets import KEYRING_SERVICE, read_secret
from tests.keyring_fixtures import secret_service_available

SA_EMAIL = "incident-console@netra-staging.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def key_file(tmp_path: Path, private_key_pem: str) -> Path:
    path = tmp_path / "key.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "netra-staging",
                "private_key_id": "abc123",
                "private_key": private_key_pem,
                "client_email": SA_EMAIL,
                "client_id": "1234567890",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


@pytest.fixture
def no_adc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Application Default Credentials: no variable, no gcloud file, no metadata probe."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "true")


# -- parsing -------------------------------------------------------------------------------------


def test_only_service_account_and_authorized_user_keys_are_accepted() -> None:
    with pytest.raises(CredentialsError, match="not JSON"):
        parse_key("{nope")
    with pytest.raises(CredentialsError, match="accepts only service_account or authorized_user"):
        parse_key(json.dumps({"type": "external_account", "credential_source": {"url": "x"}}))
    with pytest.raises(CredentialsError, match="lacks private_key, token_uri"):
        parse_key(json.dumps({"type": "service_account", "client_email": "a@b"}))
    info, key = parse_key(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "cid",
                "client_secret": "s",
                "refresh_token": "r",
            }
        )
    )
    assert key.describe() == "authorized user (OAuth client cid)"
    assert info["refresh_token"] == "r"


def test_a_key_file_that_is_not_usable_is_refused_before_storing(
    tmp_path: Path, memory_keyring
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": SA_EMAIL,
                "private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    with pytest.raises(CredentialsError, match="cannot be used"):
        import_key(broken)
    assert memory_keyring.secrets == {}
    with pytest.raises(CredentialsError, match="no such file"):
        import_key(tmp_path / "missing.json")


# -- resolution order ----------------------------------------------------------------------------


def test_adc_comes_first(key_file: Path, monkeypatch: pytest.MonkeyPatch, memory_keyring) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    resolved = resolve_credentials()
    assert resolved.identity == SA_EMAIL
    assert resolved.where == f"Application Default Credentials ({key_file})"
    assert resolved.project == "netra-staging"


def test_without_adc_the_imported_key_is_used(key_file: Path, no_adc: None, memory_keyring) -> None:
    import_key(key_file)
    resolved = resolve_credentials()
    assert resolved.identity == f"service account {SA_EMAIL} (project netra-staging)"
    assert resolved.where.startswith(f"keyring:{DEFAULT_KEY_NAME} (")


def test_a_workspace_reference_names_its_key(key_file: Path, memory_keyring) -> None:
    import_key(key_file, "staging-sa")
    resolved = resolve_credentials("keyring:staging-sa")
    assert SA_EMAIL in resolved.identity
    with pytest.raises(CredentialsError, match=r"'keyring:prod-sa'.*not in the keyring"):
        resolve_credentials("keyring:prod-sa")


def test_no_credentials_says_how_to_fix_it(no_adc: None, memory_keyring) -> None:
    with pytest.raises(CredentialsError) as missing:
        resolve_credentials()
    message = str(missing.value)
    assert "gcloud auth application-default login" in message
    assert "incident-console credentials import" in message
    assert "--demo" in message


def test_the_metadata_probe_is_skipped_off_google_cloud(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    product = tmp_path / "product_name"
    monkeypatch.setattr(gcp_credentials, "_GCE_PRODUCT_FILE", product)
    for name in ("NO_GCE_CHECK", "K_SERVICE", "GAE_ENV", "FUNCTION_TARGET", "GCE_METADATA_HOST"):
        monkeypatch.delenv(name, raising=False)
    product.write_text("Google Compute Engine\n")
    skip_metadata_probe_off_google_cloud()
    assert "NO_GCE_CHECK" not in os.environ  # on a Google VM, ADC needs the metadata server
    product.write_text("Standard PC (Q35 + ICH9, 2009)\n")
    skip_metadata_probe_off_google_cloud()
    assert os.environ["NO_GCE_CHECK"] == "true"


# -- the command ---------------------------------------------------------------------------------


def test_import_show_forget_round_trip(
    key_file: Path,
    no_adc: None,
    test_keyring: str,
    capsys: pytest.CaptureFixture[str],
    private_key_pem: str,
) -> None:
    assert main(["credentials", "import", str(key_file)]) == 0
    out = capsys.readouterr().out
    assert f"stored service account {SA_EMAIL}" in out
    assert json.loads(read_secret(DEFAULT_KEY_NAME))["client_email"] == SA_EMAIL
    assert main(["credentials", "show"]) == 0
    shown = capsys.readouterr().out
    assert SA_EMAIL in shown and KEYRING_SERVICE in shown
    assert "ADC:         not configured" in shown
    assert "PRIVATE KEY" not in shown and private_key_pem[40:80] not in shown
    assert main(["credentials", "forget"]) == 0
    assert "removed 'gcp-credentials'" in capsys.readouterr().out
    assert main(["credentials", "show"]) == 0
    assert "keyring key: none" in capsys.readouterr().out
    assert main(["credentials", "forget"]) == 0
    assert "nothing to forget" in capsys.readouterr().out


def test_bad_input_exits_2_with_a_message(
    tmp_path: Path, memory_keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"type": "external_account"}))
    with pytest.raises(SystemExit) as exit_info:
        main(["credentials", "import", str(other)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "accepts only service_account or authorized_user" in err
    assert "Traceback" not in err


@pytest.mark.skipif(not secret_service_available(), reason="needs gnome-keyring and dbus")
def test_the_secret_never_lands_on_disk(
    key_file: Path, secret_service: dict[str, str], tmp_path: Path, private_key_pem: str
) -> None:
    """A real ``incident-console credentials import`` in a subprocess, on a real Secret Service:
    no file under HOME, the runtime dir or the working folder holds the key afterwards."""
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, **secret_service, "NO_GCE_CHECK": "true"}
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    command = [sys.executable, "-m", "console"]
    imported = subprocess.run(
        [*command, "credentials", "import", str(key_file), "--name", "disk-check"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert imported.returncode == 0, imported.stderr
    key_file.unlink()  # the user's own copy goes; only the keyring holds the key now
    shown = subprocess.run(
        [*command, "credentials", "show", "--name", "disk-check"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert SA_EMAIL in shown.stdout and "SecretService" in shown.stdout
    assert read_secret("disk-check")  # readable through the Secret Service
    needle = private_key_pem.splitlines()[5].encode()
    roots = [Path(secret_service["HOME"]), Path(secret_service["XDG_RUNTIME_DIR"]), work, tmp_path]
    holding = [
        path
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    ]
    assert holding == []
    forgot = subprocess.run(
        [*command, "credentials", "forget", "--name", "disk-check"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert forgot.returncode == 0 and "removed" in forgot.stdout
