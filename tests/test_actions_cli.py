"""The ``action`` command end to end, as a script runs it: real subprocesses on the demo, exit
codes, what is printed (text and JSON), refusals, confirmations and read-only sessions.

Each run starts a fresh demo simulation, so the recovery of the demo through the documented
remediation is proven in one process in ``test_actions_pipeline.py``; here every output is checked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from console.workspace_toml import demo_workspace_path

NEW = "netra-backend-staging-00750-69k"


@pytest.fixture
def run_action(tmp_path: Path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "console", "action", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    return run


def workspace_file(tmp_path: Path, **replacements: str) -> Path:
    text = demo_workspace_path().read_text()
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "incident.toml"
    path.write_text(text)
    return path


def assert_refused(result: subprocess.CompletedProcess, words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert words in result.stderr, result.stderr


def test_the_seeds_own_command_is_refused_with_the_plan_and_a_way_out(run_action) -> None:
    result = run_action(
        "scale-connector", "staging-connector", "--min-instances=3", "--max-instances=15", "--demo"
    )
    assert_refused(result, "refused by connector-max-instances: max instances 15 is above")
    out = result.stdout
    assert "Plan: scale-connector staging-connector" in out
    assert "max instances: 10 → 15" in out
    assert "✖ connector-max-instances" in out
    assert "suggestion: use machine type e2-standard-4 with max 10" in out
    assert (
        "gcloud compute networks vpc-access connectors update staging-connector "
        "--region=us-central1 --project=netra-staging --min-instances=3 --max-instances=15"
    ) in out
    assert (
        "incident-console action scale-connector connector --min-instances=3 "
        "--machine-type=e2-standard-4 --demo"
    ) in result.stderr


def test_without_yes_nothing_is_sent_and_it_says_how_to_proceed(run_action) -> None:
    result = run_action("scale-service", "backend", "--max-instances", "30", "--demo")
    assert result.returncode == 0, result.stderr
    # the demo starts at the wall-clock time, and its load (so its instance count) follows the day
    running = re.search(r"▲ service-max-below-running: (\d+) instances run now", result.stdout)
    assert running is not None, result.stdout
    assert int(running.group(1)) > 30
    assert "Dry run: the server validated the request (validate_only)" in result.stdout
    assert result.stdout.rstrip().endswith(
        "Nothing was sent. To execute: incident-console action scale-service backend "
        "--max-instances=30 --demo --yes"
    )


def test_plan_json_lists_checks_and_audit(run_action) -> None:
    result = run_action(
        "route-traffic", "backend", "--to-revisions", "00750-69k=100", "--demo", "--plan", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    plan = data["plan"]
    assert plan["after"]["traffic"] == {NEW: 100}
    assert plan["blast_radius"]["golden_path_steps"] == ["API", "WebSocket", "AI response"]
    assert {c["rule"]: c["verdict"] for c in plan["checks"]} == {
        "revision-exists-and-ready": "pass",
        "split-sums-to-100": "pass",
        "value-differs": "pass",
    }
    assert plan["dry_run"]["ok"] is True
    assert [e["fields"]["outcome"] for e in data["audit"]] == ["planned", "cancelled"]


def test_yes_executes_prints_the_result_the_audit_and_the_undo(run_action) -> None:
    result = run_action(
        "scale-connector",
        "connector",
        "--min-instances=3",
        "--machine-type=e2-standard-4",
        "--demo",
        "--yes",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "✔ SUCCEEDED: min instances: 2 → 3; machine type: e2-micro → e2-standard-4." in out
    assert "Verified: staging-connector is now min 3 · max 10 · e2-standard-4" in out
    assert "Audit:" in out and "▶ scale-connector staging-connector confirmed" in out
    assert "demo simulation (no cloud account)" in out
    assert (
        "To undo: incident-console action scale-connector connector --min-instances=2 "
        "--machine-type=e2-micro --demo --yes"
    ) in out
    assert "… Sending the change…" in result.stderr  # progress goes to stderr


def test_yes_json_and_watch_report_the_verdict(run_action) -> None:
    result = run_action(
        "route-traffic",
        "netra-backend-staging",
        "--to-revisions",
        "00750-69k=100",
        "--demo",
        "--yes",
        "--json",
        "--watch",
        "5m",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["result"]["outcome"] == "succeeded"
    assert data["result"]["after"]["traffic"] == {NEW: 100}
    assert data["watch"].startswith("improved")
    outcomes = [e["fields"]["outcome"] for e in data["audit"]]
    assert outcomes == ["planned", "confirmed", "succeeded", "watched"]
    who = data["audit"][-2]["fields"]["who"]
    assert set(who) == {"user", "cloud_identity"}
    assert data["revert"].endswith(
        "--to-revisions=netra-backend-staging-00749-6tr=50,"
        "netra-backend-staging-00750-69k=50 --demo --yes"
    )


def test_production_needs_confirm_with_the_resource_name(run_action, tmp_path: Path) -> None:
    config = workspace_file(tmp_path, **{'environment = "staging"': 'environment = "production"'})
    result = run_action(
        "scale-service", "backend", "--max-instances=60", "--config", str(config), "--yes"
    )
    assert_refused(result, "production: type the resource name 'netra-backend-staging'")
    assert "nothing was sent" in result.stderr
    wrong = run_action(
        "scale-service",
        "backend",
        "--max-instances=60",
        "--config",
        str(config),
        "--yes",
        "--confirm",
        "backend",
    )
    assert_refused(wrong, "got 'backend'")
    right = run_action(
        "scale-service",
        "backend",
        "--max-instances=60",
        "--config",
        str(config),
        "--yes",
        "--confirm",
        "netra-backend-staging",
    )
    assert right.returncode == 0, right.stderr
    assert "✔ SUCCEEDED" in right.stdout


def test_read_only_sessions_refuse(run_action, tmp_path: Path) -> None:
    flag = run_action(
        "scale-service", "backend", "--max-instances=60", "--demo", "--read-only", "--yes"
    )
    assert_refused(flag, "this session is read-only (it was opened read-only)")
    assert flag.stdout == ""
    config = workspace_file(
        tmp_path, **{'environment = "staging"': 'environment = "staging"\nread_only = true'}
    )
    workspace = run_action(
        "scale-service", "backend", "--max-instances=60", "--config", str(config), "--plan"
    )
    assert_refused(workspace, "the workspace says read_only = true")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("scale-service", "nope", "--max-instances=3"), "no Cloud Run service 'nope'"),
        (("scale-connector", "backend", "--min-instances=3"), "is a Cloud Run service, not a VPC"),
        (("scale-service", "backend", "--max-instances=lots"), "not a whole number: 'lots'"),
        (("scale-service", "backend"), "nothing to change"),
        (("route-traffic", "backend", "--to-revisions", "00750-69k=all"), "not a whole number"),
        (
            ("route-traffic", "backend", "--to-revisions", "00750-69k=60,00749-6tr=30"),
            "refused by split-sums-to-100: the split sums to 90%",
        ),
        (
            ("route-traffic", "backend", "--to-revisions", "00799-zzz=100"),
            "refused by revision-exists-and-ready: revision '00799-zzz' does not exist",
        ),
        (("route-traffic", "backend"), "one of the arguments --to-revisions --to-latest"),
        (
            ("scale-service", "backend", "--max-instances=3", "--confirm", "x"),
            "--confirm goes with --yes",
        ),
        (
            ("scale-connector", "connector", "--machine-type=e2-standard-4", "--max-instances=2"),
            "refused by connector-max-instances",
        ),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_2(run_action, args, words: str) -> None:
    result = run_action(*args, "--demo")
    assert_refused(result, words)
