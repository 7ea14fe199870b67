"""Tests of the workspace file reader: the shipped demo, every validation rule, line numbers and
file-level failures (missing, unreadable, not UTF-8, not TOML). No Qt."""

from __future__ import annotations

import os
import random
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest

from console.metrics import METRICS_BY_KIND
from console.workspace import GoldenPathStep, Threshold, Workspace
from console.workspace_toml import (
    KNOWN_KEYS,
    ConfigProblem,
    WorkspaceError,
    demo_workspace_path,
    load_workspace,
    parse_workspace,
    summarize,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "workspace.md"

# A small valid workspace; the bad cases below are edits of it. Its line numbers matter:
#  1 [incident]          4 [[services]] (web)   10 [[services]] (db)   15 [golden_path]
#  2 title               5 id  6 kind           11 id  12 kind          16 steps
#                        7 resource             13 resource             18 [thresholds]
#                        8 depends_on                                   19 latency_p95_ms
BASE = """\
[incident]
title = "Checkout down"

[[services]]
id = "web"
kind = "cloud_run"
resource = "web-run"
depends_on = ["db"]

[[services]]
id = "db"
kind = "cloud_sql"
resource = "proj:db"

[golden_path]
steps = ["web"]

[thresholds]
latency_p95_ms = { degraded = "1 s", failing = "2 s" }
"""

DB_RESOURCE = 'resource = "proj:db"'


def edit(old: str, new: str, text: str = BASE) -> str:
    """``text`` with ``old`` (which must occur) replaced by ``new``."""
    assert old in text, old
    return text.replace(old, new, 1)


def write(tmp_path: Path, text: str | bytes, name: str = "workspace.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[ConfigProblem]:
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(path)
    assert caught.value.problems, "a WorkspaceError must carry at least one problem"
    return caught.value.problems


def only_problem(path: Path) -> ConfigProblem:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


# --- the shipped demo ---------------------------------------------------------------------------


def test_demo_workspace_loads_with_its_contents() -> None:
    path = demo_workspace_path()
    assert path.is_file()
    assert path.name == "demo.toml"

    workspace = load_workspace(path)

    assert isinstance(workspace, Workspace)
    assert workspace.path == path
    assert workspace.incident.title.startswith("Golden path blocked")
    assert workspace.incident.environment == "staging"
    assert workspace.incident.project == "netra-staging"
    assert workspace.incident.region == "us-central1"
    assert workspace.incident.started_at is None
    assert not workspace.incident.read_only
    assert list(workspace.services) == [
        "frontend",
        "auth",
        "backend",
        "websocket",
        "chat",
        "connector",
        "database",
    ]
    assert workspace.services["backend"].depends_on == ("auth", "connector", "database")
    assert workspace.services["connector"].kind == "vpc_connector"
    assert workspace.services["database"].resource == "netra-staging:netra-staging-db"
    assert [step.service for step in workspace.golden_path] == [
        "frontend",
        "auth",
        "backend",
        "websocket",
        "chat",
    ]
    assert workspace.golden_path[1] == GoldenPathStep("auth", "Login")
    assert len(workspace.thresholds) == 7
    assert workspace.thresholds["latency_p95_ms"] == Threshold("latency_p95_ms", 1000.0, 2000.0)
    assert workspace.thresholds["error_ratio"].failing == 0.05
    assert workspace.thresholds["cpu_utilization"].failing == 0.95  # exactly, not 0.9500…01
    assert workspace.thresholds["probe_success"] == Threshold("probe_success", 0.99, 0.9)
    assert workspace.simulation is not None
    assert workspace.simulation.seed == 1278
    assert workspace.simulation.history_s == 3600
    assert workspace.is_demo


def test_summarize_the_demo() -> None:
    summary = summarize(load_workspace(demo_workspace_path()))
    assert summary == (
        'ok: "Golden path blocked: VPC connector capacity exhausted" '
        "(staging, netra-staging/us-central1): 7 services, 7 dependencies, "
        "golden path of 5 steps, 7 thresholds, demo simulation, 3 probes, 5 recovery criteria, "
        "1 escalation timer"
    )


def test_summarize_a_small_live_workspace() -> None:
    text = '[incident]\ntitle = "x"\nenvironment = "production"\nread_only = true\n'
    text += '[[services]]\nid = "a"\nkind = "cloud_sql"\nresource = "r"\n'
    text += "[services.thresholds]\nconnections = { failing = 100 }\n"
    text += '[golden_path]\nsteps = ["a"]\n'
    summary = summarize(parse_workspace(text))
    assert summary == (
        'ok: "x" (production): 1 service, 0 dependencies, golden path of 1 step, '
        "0 thresholds (+1 per service), live data, read-only"
    )


# --- what a valid file turns into ---------------------------------------------------------------


def test_defaults_and_file_order(tmp_path: Path) -> None:
    text = edit('steps = ["web"]', 'steps = ["web", { service = "db", label = "Data" }]')
    workspace = load_workspace(write(tmp_path, text))
    assert workspace.incident.environment == "staging"
    assert workspace.incident.project == ""
    assert workspace.simulation is None
    assert not workspace.is_demo
    assert list(workspace.services) == ["web", "db"]
    assert workspace.services["web"].name == "web"  # name defaults to id
    assert workspace.services["db"].depends_on == ()
    assert workspace.golden_path == (GoldenPathStep("web", "web"), GoldenPathStep("db", "Data"))


def test_step_label_defaults_to_the_service_name() -> None:
    text = edit('id = "web"', 'id = "web"\nname = "Web shop"')
    assert parse_workspace(text).golden_path == (GoldenPathStep("web", "Web shop"),)


def test_parse_workspace_without_a_path_names_the_text() -> None:
    assert parse_workspace(BASE).path is None
    with pytest.raises(WorkspaceError) as caught:
        parse_workspace(edit("title =", "titel ="))
    assert all(problem.file == "<workspace>" for problem in caught.value.problems)


@pytest.mark.parametrize(
    ("metric", "written", "expected"),
    [
        ("latency_p99_ms", "1500", 1500.0),
        ("latency_p99_ms", '"800 ms"', 800.0),
        ("latency_p99_ms", '"2 s"', 2000.0),
        ("latency_p99_ms", '"2s"', 2000.0),
        ("latency_p99_ms", '"1.5 s"', 1500.0),
        ("error_ratio", "0.05", 0.05),
        ("error_ratio", '"5%"', 0.05),
        ("error_ratio", '"0.5 %"', 0.005),
        ("error_ratio", "1", 1.0),
        ("errors_5xx_per_s", "3", 3.0),
        ("errors_5xx_per_s", '"3/s"', 3.0),
        ("errors_5xx_per_s", '"180/min"', 3.0),
        ("errors_5xx_per_s", '"36/h"', 0.01),
        ("instances_active", "40", 40.0),
        ("throughput_sent_bps", "1000", 1000.0),
        ("throughput_sent_bps", '"10 MB/s"', 10_000_000.0),
        ("throughput_sent_bps", '"800 kB/s"', 800_000.0),
        ("throughput_sent_bps", '"1 GB/s"', 1e9),
    ],
)
def test_threshold_units_convert_to_the_metric_base_unit(
    metric: str, written: str, expected: float
) -> None:
    text = BASE + f"{metric} = {{ failing = {written} }}\n"
    assert parse_workspace(text).thresholds[metric].failing == pytest.approx(expected)


def test_service_thresholds_override_the_workspace_ones() -> None:
    text = edit(
        DB_RESOURCE, DB_RESOURCE + '\n[services.thresholds]\ncpu_utilization = { failing = "99%" }'
    )
    text += 'cpu_utilization = { degraded = "80%", failing = "95%" }\n'
    workspace = parse_workspace(text)
    assert workspace.services["db"].thresholds["cpu_utilization"] == Threshold(
        "cpu_utilization", None, 0.99
    )
    assert workspace.threshold("db", "cpu_utilization") == Threshold("cpu_utilization", None, 0.99)
    assert workspace.threshold("web", "cpu_utilization") == Threshold("cpu_utilization", 0.8, 0.95)


@pytest.mark.parametrize(
    "written",
    ['"2025-03-14T09:30:00Z"', '"2025-03-14T10:30:00+01:00"', "2025-03-14T09:30:00Z"],
)
def test_started_at_becomes_epoch_seconds(written: str) -> None:
    text = edit('title = "Checkout down"', f'title = "x"\nstarted_at = {written}')
    expected = datetime(2025, 3, 14, 9, 30, tzinfo=UTC).timestamp()
    assert parse_workspace(text).incident.started_at == expected


@pytest.mark.parametrize(("written", "seconds"), [('"1h30m"', 5400.0), ("90", 90.0), ("0", 0.0)])
def test_simulation_history(written: str, seconds: float) -> None:
    workspace = parse_workspace(BASE + f"[simulation]\nhistory = {written}\n")
    assert workspace.simulation is not None
    assert workspace.simulation.history_s == seconds
    assert workspace.simulation.seed == 1278  # the default


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + BASE.encode())
    assert load_workspace(path).incident.title == "Checkout down"


def test_format_version_1_or_none_reads_the_same(tmp_path: Path) -> None:
    stated = load_workspace(write(tmp_path, "format_version = 1\n" + BASE, "stated.toml"))
    unstated = load_workspace(write(tmp_path, BASE, "unstated.toml"))
    assert stated.incident == unstated.incident
    assert list(stated.services) == list(unstated.services)


def test_a_newer_format_is_refused_alone_and_says_to_upgrade(tmp_path: Path) -> None:
    # A newer format's keys would read as misspellings: only the version is reported.
    text = "format_version = 2\n" + BASE + "\n[sla]\ntarget = 0.999\n"
    problem = only_problem(write(tmp_path, text))
    assert problem.key == "format_version" and problem.line == 1
    assert "format 2" in problem.message and "upgrade Incident Console" in problem.message


@pytest.mark.parametrize("value", ['"1"', "0", "1.5", "true"])
def test_a_format_version_that_is_no_version_is_an_error(tmp_path: Path, value: str) -> None:
    problem = only_problem(write(tmp_path, f"format_version = {value}\n" + BASE))
    assert problem.key == "format_version"
    assert "whole number" in problem.message


# --- bad workspaces -----------------------------------------------------------------------------


class Bad(NamedTuple):
    text: str
    key: str
    fragment: str
    suggestion: str | None = None
    line: int | None = None


THIRD_SERVICE = '\n[[services]]\nid = "cache"\nkind = "cloud_run"\nresource = "c"\n'

BAD = {
    # unknown keys, everywhere, with "did you mean"
    "unknown top-level table": Bad(
        BASE + "\n[simulaton]\nseed = 1\n", "simulaton", "unknown key", "simulation", 21
    ),
    "unknown top-level key": Bad(
        'colour = "red"\n' + BASE, "colour", "expected incident, simulation", None, 1
    ),
    "unknown incident key": Bad(
        edit("title =", "titel ="), "incident.titel", "unknown", "title", 2
    ),
    "unknown service key": Bad(
        edit("depends_on =", "depends ="), "services[0].depends", "unknown key", "depends_on", 8
    ),
    "unknown service sub-table": Bad(
        edit(DB_RESOURCE, DB_RESOURCE + "\n[services.threshold]\nconnections = { failing = 9 }"),
        "services[1].threshold",
        "unknown key",
        "thresholds",
        14,
    ),
    "unknown threshold key": Bad(
        edit('failing = "2 s"', 'failng = "2 s"'),
        "thresholds.latency_p95_ms.failng",
        "unknown key",
        "failing",
        19,
    ),
    "unknown golden path key": Bad(
        edit("steps =", "stepz ="), "golden_path.stepz", "unknown key", "steps", 16
    ),
    "unknown step key": Bad(
        edit('steps = ["web"]', 'steps = [{ service = "web", lable = "Open" }]'),
        "golden_path.steps[0].lable",
        "unknown key",
        "label",
        16,
    ),
    "unknown simulation key": Bad(
        BASE + "[simulation]\nsead = 7\n", "simulation.sead", "unknown key", "seed", 21
    ),
    # unknown names of things
    "unknown kind": Bad(
        edit('"cloud_sql"', '"cloud-sql"'),
        "services[1].kind",
        'unknown kind "cloud-sql"; use one of cloud_run, vpc_connector',
        "cloud_sql",
        12,
    ),
    "unknown environment": Bad(
        edit("title = ", 'environment = "prod"\ntitle = '),
        "incident.environment",
        "use one of staging, production",
        "production",
        2,
    ),
    "unknown metric": Bad(
        edit("latency_p95_ms =", "latency_p95 ="),
        "thresholds.latency_p95",
        "unknown metric",
        "latency_p95_ms",
        19,
    ),
    "metric of another kind in a service": Bad(
        edit(DB_RESOURCE, DB_RESOURCE + '\nthresholds = { latency_p95_ms = { failing = "2 s" } }'),
        "services[1].thresholds.latency_p95_ms",
        'service "db" (cloud_sql) does not report "latency_p95_ms"; it reports cpu_utilization',
        None,
        14,
    ),
    "misspelt metric in a service": Bad(
        edit("depends_on =", 'thresholds.error_rate = { failing = "5%" }\ndepends_on ='),
        "services[0].thresholds.error_rate",
        "has no metric",
        "error_ratio",
        8,
    ),
    # wrong types
    "string where a list is expected": Bad(
        edit('["db"]', '"db"'),
        "services[0].depends_on",
        'must be a list of service ids, not a string ("db")',
        '["db"]',
        8,
    ),
    "number where a string is expected": Bad(
        edit('"Checkout down"', "42"), "incident.title", "must be a string, not an integer", None, 2
    ),
    "string where a boolean is expected": Bad(
        edit("title = ", 'read_only = "yes"\ntitle = '),
        "incident.read_only",
        "must be true or false",
        "true",
        2,
    ),
    "string where a seed is expected": Bad(
        BASE + '[simulation]\nseed = "lucky"\n', "simulation.seed", "whole number", None, 21
    ),
    "table where a string is expected": Bad(
        edit('"web-run"', '{ name = "web-run" }'),
        "services[0].resource",
        "must be a string, not a table",
        None,
        7,
    ),
    "[incident] as a string": Bad(
        edit('[incident]\ntitle = "Checkout down"', 'incident = "Checkout down"'),
        "incident",
        "must be a table",
        None,
        1,
    ),
    "[services] instead of [[services]]": Bad(
        edit(
            '[[services]]\nid = "db"\nkind = "cloud_sql"\nresource = "proj:db"\n',
            "",
            edit("[[services]]", "[services]"),
        ),
        "services",
        "must be an array of tables",
        None,
        4,
    ),
    "depends_on item not a string": Bad(
        edit('["db"]', '["db", 3]'),
        "services[0].depends_on[1]",
        "must be a service id (a string), not an integer",
        None,
        8,
    ),
    "step neither id nor table": Bad(
        edit('["web"]', "[3]"), "golden_path.steps[0]", "must be a service id or a table", None, 16
    ),
    "threshold not a table": Bad(
        BASE + "error_ratio = 0.05\n",
        "thresholds.error_ratio",
        'must be a table such as { degraded = "1%", failing = "5%" }',
        None,
        20,
    ),
    # missing required keys
    "missing title": Bad(
        edit('title = "Checkout down"\n', ""), "incident.title", "required key is missing", None, 1
    ),
    "missing [incident]": Bad(
        edit('[incident]\ntitle = "Checkout down"\n', ""),
        "incident",
        "missing required table [incident]",
    ),
    "missing service id": Bad(
        edit('id = "web"\n', ""), "services[0].id", "required key is missing", None, 4
    ),
    "missing kind": Bad(
        edit('kind = "cloud_sql"\n', ""),
        "services[1].kind",
        "required key is missing (one of cloud_run, vpc_connector, cloud_sql, synthetic)",
        None,
        10,
    ),
    "missing resource": Bad(
        edit(DB_RESOURCE + "\n", ""), "services[1].resource", "required key is missing", None, 10
    ),
    "empty resource": Bad(
        edit('"proj:db"', '"  "'), "services[1].resource", "not be empty", None, 13
    ),
    "no services": Bad(
        '[incident]\ntitle = "x"\n[golden_path]\nsteps = ["web"]\n',
        "services",
        "needs at least one [[services]]",
    ),
    "missing [golden_path]": Bad(
        edit('[golden_path]\nsteps = ["web"]\n', ""), "golden_path", "missing required table"
    ),
    "missing steps": Bad(
        edit('steps = ["web"]\n', ""), "golden_path.steps", "required key is missing", None, 15
    ),
    # service ids and dependencies
    "duplicate service id": Bad(
        edit('id = "db"', 'id = "web"'),
        "services[1].id",
        'duplicate service id "web" (already services[0], line 5)',
        None,
        11,
    ),
    "id not a slug": Bad(
        edit('id = "db"', 'id = "Data Base"'),
        "services[1].id",
        "not a valid id: use lowercase letters",
        "data-base",
        11,
    ),
    "unknown dependency": Bad(
        edit('["db"]', '["dbb"]'),
        "services[0].depends_on",
        'service "web" depends on unknown service "dbb"',
        "db",
        8,
    ),
    "self dependency": Bad(
        edit('["db"]', '["db", "web"]'),
        "services[0].depends_on",
        'service "web" depends on itself',
        None,
        8,
    ),
    "dependency listed twice": Bad(
        edit('["db"]', '["db", "db"]'), "services[0].depends_on", 'lists "db" twice', None, 8
    ),
    "two-service cycle": Bad(
        edit(DB_RESOURCE, DB_RESOURCE + '\ndepends_on = ["web"]'),
        "services[0].depends_on",
        "dependency cycle: web -> db -> web",
        None,
        8,
    ),
    "three-service cycle": Bad(
        edit(DB_RESOURCE, DB_RESOURCE + '\ndepends_on = ["cache"]')
        + THIRD_SERVICE
        + 'depends_on = ["web"]\n',
        "services[0].depends_on",
        "dependency cycle: web -> db -> cache -> web",
        None,
        8,
    ),
    # the golden path
    "unknown step": Bad(
        edit('["web"]', '["web", "dbb"]'),
        "golden_path.steps[1]",
        'unknown service "dbb"',
        "db",
        16,
    ),
    "unknown step in a table, multi-line": Bad(
        edit('["web"]', '[\n  "web",\n  { service = "wbe", label = "x" },\n]'),
        "golden_path.steps[1].service",
        'unknown service "wbe"',
        "web",
        18,
    ),
    "empty golden path": Bad(
        edit('["web"]', "[]"), "golden_path.steps", "the golden path is empty", None, 16
    ),
    "service twice in the golden path": Bad(
        edit('["web"]', '[\n  "web",\n  "db",\n  "web",\n]'),
        "golden_path.steps[2]",
        'service "web" appears twice in the golden path (already steps[0])',
        None,
        19,
    ),
    "step table without a service": Bad(
        edit('["web"]', '[{ label = "Open" }]'),
        "golden_path.steps[0].service",
        "required key is missing",
        None,
        16,
    ),
    # threshold values
    "fraction above 1": Bad(
        BASE + "error_ratio = { degraded = 0.01, failing = 88 }\n",
        "thresholds.error_ratio.failing",
        'error_ratio is a fraction from 0 to 1: write "88%" or 0.88',
        "88%",
        20,
    ),
    "percentage above 100": Bad(
        BASE + 'error_ratio = { failing = "150%" }\n',
        "thresholds.error_ratio.failing",
        "above 100%",
        None,
        20,
    ),
    "size on a latency": Bad(
        edit('failing = "2 s"', 'failing = "5 MB"'),
        "thresholds.latency_p95_ms.failing",
        'wrong unit "MB" for latency_p95_ms, which takes a duration: a number of milliseconds, '
        'or a string such as "800 ms" or "2 s"',
        None,
        19,
    ),
    "duration on an error ratio": Bad(
        BASE + 'error_ratio = { failing = "2 s" }\n',
        "thresholds.error_ratio.failing",
        'which takes a fraction: a number from 0 to 1, or a percentage such as "5%"',
        None,
        20,
    ),
    "percent on a rate": Bad(
        BASE + 'errors_5xx_per_s = { failing = "5%" }\n',
        "thresholds.errors_5xx_per_s.failing",
        'takes a rate: a number per second, or a string such as "3/s", "180/min" or "10/h"',
    ),
    "rate on a throughput": Bad(
        BASE + 'throughput_sent_bps = { failing = "5/s" }\n',
        "thresholds.throughput_sent_bps.failing",
        'takes a throughput: a number of bytes per second, or a string such as "800 kB/s"',
    ),
    "string on a count": Bad(
        BASE + 'connections = { failing = "100" }\n',
        "thresholds.connections.failing",
        "connections takes a count: a plain number",
    ),
    "number without unit in a string": Bad(
        edit('failing = "2 s"', 'failing = "800"'),
        "thresholds.latency_p95_ms.failing",
        "has no unit",
        "800 ms",
    ),
    "spelt-out unit": Bad(
        edit('failing = "2 s"', 'failing = "2 seconds"'),
        "thresholds.latency_p95_ms.failing",
        "wrong unit",
        "2 s",
    ),
    "not a number at all": Bad(
        edit('failing = "2 s"', 'failing = "slow"'),
        "thresholds.latency_p95_ms.failing",
        '"slow" is not a number with a unit',
    ),
    "boolean threshold": Bad(
        edit('failing = "2 s"', "failing = true"),
        "thresholds.latency_p95_ms.failing",
        "must be a number or a string with a unit, not a boolean",
    ),
    "infinite threshold": Bad(
        edit('failing = "2 s"', "failing = inf"), "thresholds.latency_p95_ms.failing", "finite"
    ),
    "negative number": Bad(
        edit('degraded = "1 s"', "degraded = -1"),
        "thresholds.latency_p95_ms.degraded",
        "must not be negative",
        None,
        19,
    ),
    "negative percentage": Bad(
        BASE + 'error_ratio = { failing = "-5%" }\n',
        "thresholds.error_ratio.failing",
        "must not be negative",
    ),
    "degraded above failing": Bad(
        edit('degraded = "1 s", failing = "2 s"', 'degraded = "2 s", failing = "1 s"'),
        "thresholds.latency_p95_ms",
        'higher is worse for latency_p95_ms, so degraded ("2 s") must be below failing ("1 s")',
        None,
        19,
    ),
    "degraded equal to failing": Bad(
        edit('failing = "2 s"', 'failing = "1000 ms"'), "thresholds.latency_p95_ms", "below"
    ),
    "lower-is-worse order": Bad(
        BASE + 'probe_success = { degraded = "90%", failing = "99%" }\n',
        "thresholds.probe_success",
        'lower is worse for probe_success, so degraded ("90%") must be above failing ("99%")',
        None,
        20,
    ),
    "neither degraded nor failing": Bad(
        BASE + "saturation = {}\n",
        "thresholds.saturation",
        "give degraded, failing or both",
        None,
        20,
    ),
    "bad value in a service override": Bad(
        edit(
            DB_RESOURCE, DB_RESOURCE + "\n[services.thresholds]\ncpu_utilization = { failing = 95 }"
        ),
        "services[1].thresholds.cpu_utilization.failing",
        "fraction from 0 to 1",
        "95%",
        15,
    ),
    # the simulation
    "history out of range": Bad(
        BASE + '[simulation]\nhistory = "25h"\n',
        "simulation.history",
        '"25h" is out of range: history must be from 0 to 24h',
        None,
        21,
    ),
    "negative history": Bad(
        BASE + "[simulation]\nhistory = -5\n", "simulation.history", "out of range", None, 21
    ),
    "history not a duration": Bad(
        BASE + '[simulation]\nhistory = "an hour"\n',
        "simulation.history",
        "not a duration",
        None,
        21,
    ),
    "history of the wrong type": Bad(
        BASE + "[simulation]\nhistory = true\n", "simulation.history", "must be a duration"
    ),
    "negative seed": Bad(BASE + "[simulation]\nseed = -1\n", "simulation.seed", "not be negative"),
    # the incident
    "started_at without time zone": Bad(
        edit("title = ", 'started_at = "2025-03-14T09:30:00"\ntitle = '),
        "incident.started_at",
        "has no time zone",
        "2025-03-14T09:30:00Z",
        2,
    ),
    "started_at not a date-time": Bad(
        edit("title = ", 'started_at = "yesterday"\ntitle = '),
        "incident.started_at",
        "not an ISO-8601 date-time",
    ),
    "started_at a bare date": Bad(
        edit("title = ", "started_at = 2025-03-14\ntitle = "),
        "incident.started_at",
        "must be a date-time, not a date",
    ),
    # TOML syntax errors stop at once, with the line
    "TOML syntax error": Bad(edit('id = "db"', 'id = "db'), "", "TOML syntax error", None, 11),
    "unquoted string": Bad(
        edit('"cloud_sql"', "cloud_sql"),
        "",
        'TOML syntax error at column 8: Invalid value; text values need quotes: "cloud_sql"',
        None,
        12,
    ),
    "key set twice": Bad(
        edit('kind = "cloud_sql"', 'kind = "cloud_sql"\nkind = "cloud_run"'),
        "",
        "Cannot overwrite a value",
        None,
        13,
    ),
    "empty file": Bad("", "", "the workspace is empty"),
    "only comments": Bad("# nothing yet\n\n", "", "the workspace is empty"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_workspace(tmp_path: Path, case: Bad) -> None:
    path = write(tmp_path, case.text)
    problems = problems_of(path)
    matching = [problem for problem in problems if problem.key == case.key]
    assert matching, f"no problem at {case.key!r} in:\n" + "\n".join(map(str, problems))
    problem = next((p for p in matching if case.fragment in p.message), None)
    assert problem is not None, f"{case.fragment!r} not in:\n" + "\n".join(map(str, matching))
    assert problem.file == str(path)
    assert problem.suggestion == case.suggestion
    if case.line is not None:
        assert problem.line == case.line
    rendered = str(problem)
    assert rendered.startswith(f"{path}:{problem.line}: " if problem.line else f"{path}: ")
    if case.suggestion is not None:
        assert rendered.endswith(f"(did you mean '{case.suggestion}'?)")


def test_syntax_error_stops_at_the_first_problem(tmp_path: Path) -> None:
    text = edit("title =", "titel =", edit('id = "db"', 'id = "db'))
    problem = only_problem(write(tmp_path, text))
    assert problem.line == 11
    assert problem.message.startswith("TOML syntax error at column 9:")


def test_several_problems_are_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = edit("title =", "titel =")  # line 2: unknown key (and title missing: line 1)
    text = edit('"cloud_sql"', '"cloudsql"', text)  # line 12: unknown kind
    text = edit('["web"]', '["web", "wbe"]', text)  # line 16: unknown step
    text = edit('failing = "2 s"', 'failing = "2 MB"', text)  # line 19: wrong unit
    path = write(tmp_path, text)

    with pytest.raises(WorkspaceError) as caught:
        load_workspace(path)

    problems = caught.value.problems
    assert [(p.line, p.key) for p in problems] == [
        (1, "incident.title"),
        (2, "incident.titel"),
        (12, "services[1].kind"),
        (16, "golden_path.steps[1]"),
        (19, "thresholds.latency_p95_ms.failing"),
    ]
    lines = str(caught.value).splitlines()
    assert lines == [str(problem) for problem in problems]
    assert lines[1] == f"{path}:2: incident.titel: unknown key (did you mean 'title'?)"


def test_a_bad_service_does_not_hide_the_others(tmp_path: Path) -> None:
    text = edit('"cloud_run"', '"lambda"')
    text = edit(DB_RESOURCE + "\n", "", text)
    problems = problems_of(write(tmp_path, text))
    assert {p.key for p in problems} == {"services[0].kind", "services[1].resource"}


# --- line numbers in other layouts --------------------------------------------------------------


def test_lines_with_dotted_keys_sub_tables_and_tricky_text(tmp_path: Path) -> None:
    text = textwrap.dedent(
        '''\
        # a comment with [[services]] and "a quote
        [incident]
        title = """two
        [[services]]
        lines"""

        [[services]]
        id = "web"
        kind = "cloud_run"
        resource = 'web'
        thresholds.error_ratio.failing = 5

        [[services]]
        id = "db"
        kind = "cloud_sql"
        resource = "proj:db"
        depends_on = [
          "web",  # a comment with ] in it
          "wbe",
        ]
        [services.thresholds.connections]
        degraded = 10
        failing = 5

        [golden_path]
        steps = ["web"]

        [thresholds."latency_p95_ms"]
        failing = "2 parsecs"
        '''
    )
    problems = problems_of(write(tmp_path, text))
    assert [(p.line, p.key) for p in problems] == [
        (11, "services[0].thresholds.error_ratio.failing"),
        (19, "services[1].depends_on"),
        (21, "services[1].thresholds.connections"),
        (29, "thresholds.latency_p95_ms.failing"),
    ]


def test_inline_array_of_services_is_located_too() -> None:
    text = textwrap.dedent(
        """\
        incident = { title = "x" }
        services = [
          { id = "a", kind = "cloud_run", resource = "r" },
          { id = "b", kind = "cloud_rum", resource = "r" },
        ]
        golden_path = { steps = ["a"] }
        """
    )
    with pytest.raises(WorkspaceError) as caught:
        parse_workspace(text)
    (problem,) = caught.value.problems
    assert (problem.key, problem.line, problem.suggestion) == ("services[1].kind", 4, "cloud_run")


# --- files that cannot be read ------------------------------------------------------------------


def test_missing_file_suggests_a_near_name(tmp_path: Path) -> None:
    write(tmp_path, BASE, "incident.toml")
    problem = only_problem(tmp_path / "incidnet.toml")
    assert problem.message == "no such file"
    assert problem.suggestion == str(tmp_path / "incident.toml")
    assert problem.line is None
    assert str(problem) == (
        f"{tmp_path / 'incidnet.toml'}: no such file (did you mean '{tmp_path / 'incident.toml'}'?)"
    )


def test_missing_file_in_a_missing_directory(tmp_path: Path) -> None:
    problem = only_problem(tmp_path / "nowhere" / "workspace.toml")
    assert problem.message == "no such file"
    assert problem.suggestion is None


def test_directory(tmp_path: Path) -> None:
    problem = only_problem(tmp_path)
    assert problem.message == "is a directory, not a workspace file"
    assert problem.suggestion is None
    write(tmp_path, BASE, "only.toml")
    assert only_problem(tmp_path).suggestion == str(tmp_path / "only.toml")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="needs POSIX permissions and a non-root user (root reads anything)",
)
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    path.chmod(0)
    try:
        problem = only_problem(path)
    finally:
        path.chmod(0o644)
    assert problem.message == "permission denied: the file cannot be read"


def test_unreadable_file_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real chmod test above cannot run as root, so also simulate what the OS would say.
    path = write(tmp_path, BASE)

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert only_problem(path).message == "permission denied: the file cannot be read"


def test_other_os_errors_are_problems_too(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    problem = only_problem(path / "below-a-file.toml")  # ENOTDIR: a file used as a directory
    assert problem.message.startswith("cannot read the file: ")


def test_random_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, random.Random(1278).randbytes(512))
    problem = only_problem(path)
    assert problem.message.startswith("not a UTF-8 text file (byte 0x")
    assert problem.key == ""


def test_non_utf8_text_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("Checkout down", "Caf\u00e9 down").encode("latin-1"))
    problem = only_problem(path)
    assert problem.line == 2
    assert "byte 0xe9" in problem.message


def test_workspace_error_is_never_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(tmp_path / "missing.toml")
    assert not isinstance(caught.value, OSError)


# --- the problem and error objects --------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "rendered"),
    [
        (ConfigProblem("w.toml", "a.b", 3, "bad", "c"), "w.toml:3: a.b: bad (did you mean 'c'?)"),
        (ConfigProblem("w.toml", "a.b", None, "bad"), "w.toml: a.b: bad"),
        (ConfigProblem("w.toml", "", 7, "syntax"), "w.toml:7: syntax"),
    ],
)
def test_config_problem_renders_on_one_line(problem: ConfigProblem, rendered: str) -> None:
    assert str(problem) == rendered


def test_config_problem_is_frozen() -> None:
    problem = ConfigProblem("w.toml", "a", 1, "bad")
    with pytest.raises(AttributeError):
        problem.line = 2  # type: ignore[misc]


def test_workspace_error_lists_every_problem() -> None:
    problems = [ConfigProblem("w.toml", "a", 1, "one"), ConfigProblem("w.toml", "b", 2, "two")]
    error = WorkspaceError(problems)
    assert error.problems == problems
    assert str(error) == "w.toml:1: a: one\nw.toml:2: b: two"


# --- the documentation stays true ---------------------------------------------------------------


def test_docs_name_every_key_and_metric() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for table, keys in KNOWN_KEYS.items():
        for key in keys:
            assert f"`{key}`" in docs, f"docs/workspace.md does not document {table}.{key}"
    for kind, specs in METRICS_BY_KIND.items():
        assert f"`{kind}`" in docs
        for name in specs:
            assert f"`{name}`" in docs, f"docs/workspace.md does not list {kind} metric {name}"


def test_docs_error_example_is_real_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    section = docs.split("## What an error looks like", 1)[1]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)
    toml = next(body for lang, body in blocks if lang == "toml")
    output = next(body for lang, body in blocks if lang == "text")
    monkeypatch.chdir(tmp_path)
    write(tmp_path, toml, "broken.toml")
    with pytest.raises(WorkspaceError) as caught:
        load_workspace("broken.toml")
    assert str(caught.value) == output.strip()
