"""Guarded actions: the commands that change the cloud, and the one pipeline they go through.

A frontend (the GUI's actions panel, the status graph's menu, the ``action`` CLI) only creates a
command object (``commands``) and hands it to an ``ActionEngine`` (``pipeline``), which finds the
resource it names (``target``), reads its state fresh (``console.resource_state``, the model the
sources report too), plans (``plan``), runs the pre-flight checks (``checks``, limits in
``resources/connector_limits.toml``), asks the server for a dry run where the API has one, waits
for a confirmation, executes through an executor (``simulation_executor`` for the demo,
``google_executor`` for Google Cloud) with one action in flight per resource (``locks``), verifies,
watches the affected services' metrics (``watch``), audits every attempt to the incident timeline
(``audit``) and offers the inverse command. Nothing here imports Qt.

Read-only sessions are built without an executor (``attach_executor`` refuses them), so there is
nothing to bypass.
"""

from __future__ import annotations

from console.actions.commands import (
    Command,
    CommandError,
    RouteTraffic,
    ScaleConnector,
    ScaleService,
)
from console.actions.pipeline import (
    ActionEngine,
    ActionResult,
    PlannedAction,
    ReadOnlySessionError,
    attach_executor,
    executor_of,
)

__all__ = [
    "ActionEngine",
    "ActionResult",
    "Command",
    "CommandError",
    "PlannedAction",
    "ReadOnlySessionError",
    "RouteTraffic",
    "ScaleConnector",
    "ScaleService",
    "attach_executor",
    "executor_of",
]
