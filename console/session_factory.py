"""Builds a ``Session`` with the right sources for a workspace.

A demo workspace (one with a ``[simulation]`` table) runs on the embedded simulation; cloud
sources are added here as they are built. Frontends (CLI, GUI, wall, tests) all call this, so they
never disagree about which sources a workspace gets.
"""

from __future__ import annotations

from console.clock import Clock
from console.session import Session
from console.simulation import DemoSimulation
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
        return Session(workspace, clock, [simulation], read_only=read_only)
    raise NoSourcesError(
        f"{workspace.path or 'the workspace'} has no [simulation] table and this version of the "
        "console has no cloud sources yet: run the demo with --demo"
    )
