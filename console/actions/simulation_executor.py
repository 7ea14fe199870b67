"""The demo's executor: actions carried out on the embedded simulation, like the APIs would.

``SimulationExecutor`` speaks the ``Executor`` protocol over ``DemoSimulation``'s control interface.
It reads a resource's state as the simulation reports it to its source (``console.resource_state``;
the etag is a fingerprint of the settings: the simulation has none), runs Cloud Run's dry run
(``validate_only``; the connector API has none), sends a change only while the etag still matches,
and returns an operation that finishes after a realistic delay on the session's clock (a connector
update ~20 s, then its autoscaler adds an instance every ~30 s; Cloud Run traffic and scaling in a
few seconds). The simulation's refusals (``SimulatedApiError``) become ``ExecutorError`` with the
same code. Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from console.actions.commands import Command, RouteTraffic, ScaleConnector, ScaleService
from console.actions.executor import (
    NO_CONNECTOR_DRY_RUN,
    ConflictError,
    DryRunResult,
    ExecutorError,
    OperationStatus,
)
from console.actions.plan import planned_settings
from console.actions.target import Target
from console.resource_state import (
    ConnectorState,
    ResourceState,
    short_revision,
)
from console.simulation import DemoSimulation, SimulatedApiError

#: Simulated seconds until each kind of operation reports done.
OPERATION_DELAY_S: dict[str, float] = {
    ScaleConnector.name: 20.0,
    ScaleService.name: 6.0,
    RouteTraffic.name: 4.0,
}
POLL_INTERVAL_S = 2.0
OPERATION_TIMEOUT_S = 300.0


@dataclass
class SimulatedOperation:
    """An operation of the demo: done once the clock passes ``done_at``."""

    name: str
    done_at: float
    clock_now: Callable[[], float]
    describe: Callable[[], str]
    poll_interval_s: float = POLL_INTERVAL_S
    timeout_s: float = OPERATION_TIMEOUT_S

    def poll(self) -> OperationStatus:
        if self.clock_now() >= self.done_at:
            return OperationStatus(True, "done")
        return OperationStatus(False, self.describe())


class SimulationExecutor:
    """Carries out actions on a ``DemoSimulation``."""

    scope = "demo"

    def __init__(self, simulation: DemoSimulation, clock_now: Callable[[], float]) -> None:
        self.simulation = simulation
        self._now = clock_now
        #: Held from the etag comparison to the change, so nothing slips in between.
        self._send_lock = threading.Lock()
        self._operations = 0

    def identity(self) -> str:
        return "demo simulation (no cloud account)"

    # ---- reading ----------------------------------------------------------------------------

    def read(self, target: Target) -> ResourceState:
        """What the simulation reports for the resource: the state its source delivers too
        (``DemoSimulation.resource_state``)."""
        try:
            return self.simulation.resource_state(target.service_id, self._now())
        except SimulatedApiError as exc:
            raise ExecutorError(exc.code, str(exc)) from None

    # ---- dry run ----------------------------------------------------------------------------

    def dry_run(self, command: Command, target: Target, state: ResourceState) -> DryRunResult:
        if isinstance(command, ScaleConnector):
            return NO_CONNECTOR_DRY_RUN
        try:
            self._send(command, target, state, validate_only=True)
        except SimulatedApiError as exc:
            return DryRunResult(True, False, f"the server refused the dry run: {exc}")
        return DryRunResult(True, True, "the server validated the request (validate_only)")

    # ---- sending ----------------------------------------------------------------------------

    def start(self, command: Command, target: Target, state: ResourceState) -> SimulatedOperation:
        with self._send_lock:
            current = self.read(target)
            if current.etag != state.etag:
                raise ConflictError(
                    f"{target.resource} changed since it was read (etag {state.etag} → "
                    f"{current.etag})"
                )
            try:
                self._send(command, target, state, validate_only=False)
            except SimulatedApiError as exc:
                raise ExecutorError(exc.code, str(exc)) from None
            self._operations += 1
            number = self._operations
        started = self._now()
        return SimulatedOperation(
            f"operations/demo-{number}",
            started + OPERATION_DELAY_S[command.name],
            self._now,
            lambda: self._progress(command, target),
        )

    def _send(
        self, command: Command, target: Target, state: ResourceState, *, validate_only: bool
    ) -> None:
        at = self._now()
        sim = self.simulation
        if isinstance(command, ScaleConnector):
            if validate_only:
                return
            sim.scale_connector(
                target.service_id,
                min_instances=command.min_instances,
                max_instances=command.max_instances,
                machine_type=command.machine_type,
                at=at,
            )
        elif isinstance(command, ScaleService):
            sim.scale_service(
                target.service_id,
                min_instances=command.min_instances,
                max_instances=command.max_instances,
                at=at,
                validate_only=validate_only,
            )
        else:
            split = planned_settings(command, state)["traffic"]  # LATEST stays LATEST
            sim.route_traffic(target.service_id, split, at=at, validate_only=validate_only)

    def _progress(self, command: Command, target: Target) -> str:
        try:
            state = self.simulation.resource_state(target.service_id, self._now())
        except SimulatedApiError:
            return f"Updating {target.resource}"
        if isinstance(state, ConnectorState):
            return (
                f"Updating {target.resource}: {state.instances} instances running, "
                f"{state.machine_type}"
            )
        shares = ", ".join(
            f"{short_revision(target.resource, r.name)} {r.instances} inst."
            for r in sorted(state.revisions, key=lambda r: r.name)
        )
        return f"Updating {target.resource}: {shares}"

    def close(self) -> None:
        """Nothing to release: the session closes the simulation."""
