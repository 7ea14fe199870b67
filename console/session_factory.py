"""Builds a ``Session`` with the right sources for a workspace.

A demo workspace (one with a ``[simulation]`` table) runs on the embedded simulation; a
workspace with ``[gcp]`` runs on Cloud Monitoring, Cloud Logging and the Cloud Run state
(``console.gcp``, imported only then: the Google libraries are slow to import). Frontends (CLI,
GUI, wall, tests) all call this, so they never disagree about which sources a workspace gets.
"""

from __future__ import annotations

from console.actions.pipeline import attach_executor
from console.actions.simulation_executor import SimulationExecutor
from console.clock import Clock
from console.session import Session
from console.simulation import DemoSimulation
from console.workflow import attach_workflow, build_probe_sources
from console.workspace import Workspace


class NoSourcesError(Exception):
    """The workspace names no data source this console can use yet."""


def build_session(workspace: Workspace, clock: Clock, *, read_only: bool = False) -> Session:
    """A session for ``workspace`` whose sources start at the clock's current time.

    ``read_only`` (or ``read_only = true`` in the workspace) marks a session that must never
    change anything in the cloud: the wall display, snapshot review, ``--read-only``. Whatever
    executes actions is attached only to sessions that are not read-only.
    """
    read_only = read_only or workspace.incident.read_only
    if workspace.simulation is not None:
        simulation = DemoSimulation(workspace, start=clock.now())
        probes = build_probe_sources(workspace, simulation)  # answered by the simulation
        session = Session(workspace, clock, [simulation, *probes], read_only=read_only)
        attach_workflow(session)
        if not read_only:
            attach_executor(session, SimulationExecutor(simulation, clock.now))
        return session
    if workspace.gcp is not None:
        from console.gcp.credentials import CredentialsError
        from console.gcp.session_sources import build_gcp_sources

        try:
            cloud = build_gcp_sources(workspace)
        except CredentialsError as exc:
            raise NoSourcesError(str(exc)) from None
        probes = build_probe_sources(workspace)  # over the network
        session = Session(workspace, clock, [*cloud, *probes], read_only=read_only)
        attach_workflow(session)
        if not read_only:
            from console.actions.google_executor import build_google_executor

            attach_executor(session, build_google_executor(workspace))
        return session
    raise NoSourcesError(
        f"{workspace.path or 'the workspace'} has neither a [simulation] nor a [gcp] table: add "
        "[gcp] for live Google Cloud data (docs/google-cloud.md), or run the demo with --demo"
    )
