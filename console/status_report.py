"""The ``status`` command's report: health, golden path, root cause and every latest value.

``build_status`` turns a drained session into a plain dict (the JSON the command prints, keys
documented in docs/cli.md); ``format_status_text`` renders the same dict for a terminal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.health import MetricFinding
from console.metrics import METRICS_BY_KIND
from console.resource_state import resource_as_dict
from console.session import Session
from console.units import format_value
from console.workflow import format_workflow_text, workflow_status
from console.workspace import Workspace

_WORDS = {"ok": "ok", "degraded": "DEGRADED", "failing": "FAILING", "unknown": "no data"}


def describe_finding(workspace: Workspace, service_id: str, finding: MetricFinding) -> str:
    """``latency p95 12.3 s ≥ 2.0 s``: why a metric puts its service in its status."""
    spec = workspace.services[service_id].metrics()[finding.metric]
    comparison = "≥" if spec.higher_is_worse else "≤"
    value = format_value(finding.value, spec.unit)
    limit = format_value(finding.limit, spec.unit)
    return f"{spec.label.lower()} {value} {comparison} {limit}"


def build_status(session: Session) -> dict[str, Any]:
    """The status of a session as JSON-ready data."""
    workspace, health = session.workspace, session.health
    now = health.t
    services: dict[str, Any] = {}
    for sid, service in workspace.services.items():
        service_health = health.services[sid]
        metrics: dict[str, Any] = {}
        for metric, spec in METRICS_BY_KIND[service.kind].items():
            reading = session.store.latest((sid, metric))
            if reading is None:
                continue
            t, value = reading
            metrics[metric] = {
                "value": None if value != value else value,
                "unit": spec.unit,
                "t": datetime.fromtimestamp(t, UTC).isoformat(),
                "age_s": round(max(0.0, now - t), 3),
            }
        services[sid] = {
            "name": service.name,
            "kind": service.kind,
            "resource": service.resource,
            "status": service_health.status,
            "blocked_by": list(service_health.blocked_by),
            "reasons": [describe_finding(workspace, sid, f) for f in service_health.findings],
            "metrics": metrics,
        }
    return {
        "incident": {
            "title": workspace.incident.title,
            "environment": workspace.incident.environment,
            "project": workspace.incident.project,
            "region": workspace.incident.region,
            "demo": workspace.is_demo,
        },
        "at": datetime.fromtimestamp(now, UTC).isoformat(),
        "services": services,
        "golden_path": {
            "steps": [
                {
                    "service": step.service,
                    "label": step.label,
                    "status": step.status,
                    "blocked_by": list(step.blocked_by),
                    "broken": step.broken,
                }
                for step in health.golden_path
            ],
            "first_broken": health.first_broken,
        },
        "root_cause": health.root_cause,
        "root_cause_candidates": list(health.root_cause_candidates),
        "sources": {
            name: {"state": status.state, "message": status.message}
            for name, status in session.source_statuses.items()
        },
        # revisions, traffic split and instance limits (console.resource_state), when reported
        "resources": {sid: resource_as_dict(state) for sid, state in session.resources.items()},
        # recovery criteria, escalation timers and probes (console.workflow), when attached
        **workflow_status(session),
    }


def format_status_text(status: dict[str, Any]) -> str:
    """A terminal rendering of ``build_status``'s dict."""
    incident = status["incident"]
    lines: list[str] = []
    where = "/".join(p for p in (incident["project"], incident["region"]) if p)
    tags = " · ".join(
        t for t in (incident["environment"].upper(), where, "DEMO" if incident["demo"] else "") if t
    )
    lines.append(f"{incident['title']}  [{tags}]")
    lines.append(f"at {status['at']}")
    lines.append("")
    steps = status["golden_path"]["steps"]
    chain = " → ".join(
        f"{s['label']} {'✖' if s['broken'] else ('✔' if s['status'] == 'ok' else '?')}"
        for s in steps
    )
    first = status["golden_path"]["first_broken"]
    broken_step = next((s for s in steps if s["service"] == first), None)
    verdict = f"BROKEN at {broken_step['label']} ({first})" if broken_step else "whole"
    lines.append(f"Golden path: {chain}   {verdict}")
    root = status["root_cause"]
    if root:
        root_service = status["services"][root]
        reasons = "; ".join(root_service["reasons"])
        lines.append(f"Root-cause candidate: {root_service['name']} ({root}): {reasons}")
    else:
        lines.append("Root-cause candidate: none")
    lines.append("")
    lines.append(f"{'SERVICE':<12}{'STATUS':<10}{'BLOCKED BY':<24}WHY")
    for sid, svc in status["services"].items():
        word = _WORDS.get(svc["status"], svc["status"].upper())
        blocked = ", ".join(svc["blocked_by"]) or "-"
        lines.append(f"{sid:<12}{word:<10}{blocked:<24}{'; '.join(svc['reasons'])}")
    lines.append("")
    lines.append("Latest values:")
    for sid, svc in status["services"].items():
        for metric, m in svc["metrics"].items():
            value = "–" if m["value"] is None else format_value(m["value"], m["unit"])
            lines.append(f"  {sid:<12}{metric:<26}{value:>12}   age {m['age_s']:.0f} s")
    lines.append("")
    sources = ", ".join(
        f"{name}: {s['state']}" + (f" ({s['message']})" if s["message"] else "")
        for name, s in status["sources"].items()
    )
    lines.append(f"Sources: {sources}")
    if status.get("resources"):
        lines += ["", "Resources:"]
        lines += [f"  {sid:<12}{r['summary']}" for sid, r in status["resources"].items()]
    workflow_lines = format_workflow_text(status)
    if workflow_lines:
        lines += ["", *workflow_lines]
    return "\n".join(lines)
