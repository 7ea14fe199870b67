"""``[[probes]]``, ``[[criteria]]`` and ``[[escalation]]`` in the workspace: what loads, and a clear
message (with the line and a "did you mean") for each mistake; ``check-config`` also resolves
the keyring references and refuses the file (exit 2) when one does not resolve.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from console.cli import main
from console.keyring_secrets import KEYRING_SERVICE
from console.workspace_toml import WorkspaceError, check_secrets, load_workspace, parse_workspace
from tests.probe_servers import memory_keyring

BASE = """\
[incident]
title = "workflow config"

[[services]]
id = "auth"
kind = "cloud_run"
resource = "netra-auth-service"

[[services]]
id = "database"
kind = "cloud_sql"
resource = "p:db"

[golden_path]
steps = ["auth"]

[thresholds]
latency_p95_ms = { degraded = "1 s", failing = "2 s" }

[[probes]]
id = "golden-path"
kind = "golden_path"
login_url = "https://auth.example.com/login"
websocket_url = "wss://api.example.com/ws"
password = "keyring:golden-path-user"

"""


def problems(extra: str) -> list[str]:
    with pytest.raises(WorkspaceError) as raised:
        parse_workspace(BASE + extra, Path("ws.toml"))
    return [str(p) for p in raised.value.problems]


def one_problem(extra: str) -> str:
    found = problems(extra)
    assert len(found) == 1, found
    return found[0]


def test_a_full_workflow_loads() -> None:
    workspace = parse_workspace(
        BASE
        + """
[[probes]]
id = "auth-health"
kind = "http"
service = "auth"
url = "https://auth.example.com/health"
method = "head"
expect_status = 204
headers = { Authorization = "keyring:auth-token", Accept = "text/plain" }
interval = "15s"
timeout = "2s"

[[criteria]]
id = "fast"
title = "Auth answers in under 2 s"
series = ["auth.latency_p95_ms", "auth-health.probe_latency_ms"]
require = "< 2 s"
sustain = "10m"

[[criteria]]
id = "flow"
title = "Login to AI works"
probe = "golden-path"

[[criteria]]
id = "events"
title = "All events"
series = "golden-path.probe_events"
require = ">= 5"

[[criteria]]
id = "calm"
title = "Nothing degraded"
services = ["auth", "database"]

[[escalation]]
id = "gcp"
title = "Escalate to GCP support"
after = "2h"
started_by = "ScaleConnector"
unless = "fast"
"""
    )
    http = workspace.probes[1]
    assert (http.method, http.expect_status, http.interval_s, http.timeout_s) == (
        "HEAD",
        204,
        15.0,
        2.0,
    )
    assert http.secret_references() == {"headers.Authorization": "keyring:auth-token"}
    golden = workspace.probes[0]
    assert golden.timeout_s == 30.0 and golden.interval_s == 30.0 and len(golden.events) == 5
    fast, flow, events, calm = workspace.criteria
    assert fast.limits == (2000.0, 2000.0) and fast.comparison == "<" and fast.sustain_s == 600
    assert flow.series == (("golden-path", "probe_success"),) and flow.limits == (1.0,)
    assert events.series == (("golden-path", "probe_events"),) and events.limits == (5.0,)
    assert calm.health == "ok" and calm.services == ("auth", "database")
    assert workspace.escalations[0].after_s == 7200 and workspace.escalations[0].snooze_s == 900


def test_degraded_keyword_uses_each_series_threshold() -> None:
    workspace = parse_workspace(
        BASE
        + """
[[criteria]]
id = "quick"
title = "Below degraded"
series = ["auth.latency_p95_ms"]
require = "< degraded"
"""
    )
    assert workspace.criteria[0].limits == (1000.0,)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["auht.latency_p95_ms"]\n'
            'require = "< 2 s"\n',
            'ws.toml:30: criteria[0].series[0]: unknown series "auht.latency_p95_ms": no service '
            'or probe "auht" (write "service.metric", e.g. "auth.latency_p95_ms") '
            "(did you mean 'auth.latency_p95_ms'?)",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["auth.latency_p59_ms"]\n'
            'require = "< 2 s"\n',
            'has no series "latency_p59_ms"',
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nprobe = "golden"\n',
            "ws.toml:30: criteria[0].probe: unknown probe \"golden\" (did you mean 'golden-path'?)",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["auth.latency_p95_ms"]\n'
            'require = "< 0 ms"\n',
            "can never be met: latency_p95_ms is never below 0",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["golden-path.probe_events"]\n'
            'require = ">= 6"\n',
            "can never be met: golden-path.probe_events is never above 5",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["golden-path.probe_success"]\n'
            'require = "> 100%"\n',
            "can never be met: golden-path.probe_success is never above 100%",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["golden-path.probe_success"]\n'
            'require = ">= 120%"\n',
            "is above 100%",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["auth.latency_p95_ms"]\n'
            'require = "2 s"\n',
            "is not a comparison",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["auth.latency_p95_ms"]\n'
            'require = "< 2"\n',
            "has no unit",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["auth.latency_p95_ms"]\n'
            'require = "=< 2 s"\n',
            "use <, <=, > or >=",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nseries = ["database.connections"]\n'
            'require = "< degraded"\n',
            "database.connections has no degraded threshold",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\n'
            'series = ["auth.latency_p95_ms", "auth.error_ratio"]\nrequire = "< 2 s"\n',
            "mixes units",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nprobe = "golden-path"\nservices = ["auth"]\n',
            "give only one of probe, services",
        ),
        ('[[criteria]]\nid = "c"\ntitle = "t"\n', "say what to measure"),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nservices = ["auth"]\nrequire = "green"\n',
            'a services rule requires "ok"',
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nservices = ["auht"]\n',
            "unknown service \"auht\" (did you mean 'auth'?)",
        ),
        (
            '[[criteria]]\nid = "c"\ntitle = "t"\nprobe = "golden-path"\nsustain = "forever"\n',
            "not a duration",
        ),
    ],
)
def test_criteria_mistakes(extra: str, expected: str) -> None:
    assert expected in one_problem(extra)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[[probes]]\nid = "p"\nkind = "http"\nurl = "ftp://auth.example.com/health"\n',
            'ws.toml:30: probes[1].url: "ftp://auth.example.com/health" has ftp://: url must '
            "start with http:// or https://",
        ),
        (
            '[[probes]]\nid = "p"\nkind = "http"\nurl = "auth.example.com/health"\n',
            "(did you mean 'https://auth.example.com/health'?)",
        ),
        (
            '[[probes]]\nid = "p"\nkind = "golden_path"\nlogin_url = "https://a.example.com"\n'
            'websocket_url = "https://api.example.com/ws"\n',
            "websocket_url must start with ws:// or wss://",
        ),
        (
            '[[probes]]\nid = "p"\nkind = "golden_path"\nlogin_url = "https://a.example.com"\n'
            'websocket_url = "wss://api.example.com/ws"\npassword = "hunter2"\n',
            'the password must be a keyring reference such as "keyring:golden-path-user", '
            "never the secret itself",
        ),
        (
            '[[probes]]\nid = "p"\nkind = "http"\nurl = "https://a.example.com"\n'
            'headers = { Authorization = "Bearer abc123" }\n',
            "header 'Authorization' must be a keyring reference",
        ),
        (
            '[[probes]]\nid = "p"\nkind = "http"\nurl = "https://a.example.com"\n'
            'password = "keyring:x"\n',
            'only for kind = "golden_path" probes',
        ),
        (
            '[[probes]]\nid = "auth"\nkind = "http"\nurl = "https://a.example.com"\n',
            "is already a service id",
        ),
        (
            '[[probes]]\nid = "golden-path"\nkind = "http"\nurl = "https://a.example.com"\n',
            'duplicate probe id "golden-path"',
        ),
        (
            '[[probes]]\nid = "p"\nkind = "tcp"\nurl = "https://a.example.com"\n',
            "unknown probe kind",
        ),
        (
            '[[probes]]\nid = "p"\nkind = "http"\nurl = "https://a.example.com"\ntimeout = "20m"\n',
            "out of range",
        ),
        (
            '[[probes]]\nid = "p"\nkind = "http"\nurl = "https://a.example.com"\n'
            "expect_status = 700\n",
            "not an HTTP status",
        ),
        (
            '[[probes]]\nid = "p"\nkind = "http"\nurl = "https://a.example.com"\n'
            'service = "auht"\n',
            "unknown service \"auht\" (did you mean 'auth'?)",
        ),
        (
            '[[escalation]]\nid = "e"\ntitle = "Escalate"\nafter = "2h"\n'
            'started_by = "ScaleConector"\n',
            "(did you mean 'ScaleConnector'?)",
        ),
        (
            '[[escalation]]\nid = "e"\ntitle = "Escalate"\nafter = "2h"\nunless = "capacity"\n',
            'unknown criterion "capacity"',
        ),
        ('[[escalation]]\nid = "e"\ntitle = "Escalate"\n', "after: required key is missing"),
        ('[[escalation]]\nid = "e"\ntitle = "Escalate"\nafter = "soon"\n', "not a duration"),
    ],
)
def test_probe_and_timer_mistakes(extra: str, expected: str) -> None:
    assert expected in one_problem(extra)


def test_a_demo_http_probe_needs_the_service_that_answers_it() -> None:
    text = BASE.replace(
        '[incident]\ntitle = "workflow config"\n', '[incident]\ntitle = "d"\n\n[simulation]\n'
    )
    with pytest.raises(WorkspaceError, match="required in a demo workspace"):
        parse_workspace(
            text + '[[probes]]\nid = "p"\nkind = "http"\nurl = "https://a.example.com"\n'
        )


def test_check_config_resolves_keyring_references(tmp_path: Path, capsys) -> None:
    path = tmp_path / "ws.toml"
    path.write_text(BASE, encoding="utf-8")
    with memory_keyring() as backend:
        with pytest.raises(SystemExit) as exited:
            main(["check-config", str(path)])
        assert exited.value.code == 2
        assert capsys.readouterr().err == (
            f"incident-console: invalid workspace:\n{path}:25: probes[0].password: secret "
            "missing: secret 'golden-path-user' is not in the keyring (service "
            "'incident-console'); store it with `keyring set incident-console golden-path-user`\n"
        )
        backend.set_password(KEYRING_SERVICE, "golden-path-user", "x")
        assert main(["check-config", str(path)]) == 0
        assert capsys.readouterr().out.rstrip().endswith("live data, 1 probe")
        assert check_secrets(load_workspace(path)) == []


def test_check_config_exits_2_when_a_secret_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "ws.toml"
    path.write_text(BASE, encoding="utf-8")
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = subprocess.run(
        [sys.executable, "-m", "console", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert (
        f"{path}:25: probes[0].password: secret missing: no keyring is available" in result.stderr
    )


def test_check_config_skips_secrets_of_a_demo_workspace() -> None:
    from console.workspace_toml import demo_workspace_path

    demo = load_workspace(demo_workspace_path())
    with_secret = replace(demo.probes[0], password="keyring:golden-path-probe")
    demo = replace(demo, probes=(with_secret, *demo.probes[1:]))
    assert check_secrets(demo) == []  # the simulation answers the demo's probes
