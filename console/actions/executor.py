"""The executor protocol: the one seam between the action pipeline and a cloud (real or simulated).

An executor reads a resource's state fresh (a ``console.resource_state`` state, the model the
sources report too, with its etag), asks the server for a dry run where the API has one, sends the
change (refusing with ``ConflictError`` when the etag no longer matches) and returns an
``Operation`` to wait on. Errors come back as ``ExecutorError`` with the API's code, so
the pipeline can tell a permission problem from a refusal and say so.

``Pacer`` is how the pipeline waits between polls of an operation: ``WallPacer`` waits on an event
(a cancel wakes it at once); ``VirtualPacer`` moves a ``VirtualClock`` instead, so tests and the
demo's command line fast-forward an operation without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from console.actions.commands import Command
from console.actions.target import Target
from console.clock import VirtualClock
from console.resource_state import ResourceState


class ExecutorError(Exception):
    """The API refused or failed a request. ``code`` is the API's (``PERMISSION_DENIED``, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def is_permission_error(self) -> bool:
        """True when the identity lacks a permission (or is not authenticated)."""
        return self.code in ("PERMISSION_DENIED", "UNAUTHENTICATED")


class ConflictError(ExecutorError):
    """The resource changed since it was read (its etag differs): nothing was sent or applied."""

    def __init__(self, message: str) -> None:
        super().__init__("ABORTED", message)


@dataclass(frozen=True)
class OperationStatus:
    """Where a long-running operation is."""

    done: bool
    progress: str = ""
    error: ExecutorError | None = None


class Operation(Protocol):
    """A change the API accepted and is carrying out."""

    #: The API's operation name (or a made-up one for the demo).
    name: str
    #: Seconds between polls.
    poll_interval_s: float
    #: How long to wait before reporting the operation as not finished.
    timeout_s: float

    def poll(self) -> OperationStatus:
        """Ask once how far it got. Raises ``ExecutorError`` when the asking itself fails."""
        ...


@dataclass(frozen=True)
class DryRunResult:
    """What the server said about a request it only validated."""

    supported: bool
    ok: bool
    message: str


#: A connector's dry run: the Serverless VPC Access API has none (either executor says so).
NO_CONNECTOR_DRY_RUN = DryRunResult(
    False, True, "the Serverless VPC Access API has no dry run; the pre-flight checks stand in"
)


class Executor(Protocol):
    """Reads and changes resources of one cloud (or of the demo simulation)."""

    #: Where actions go: ``demo`` or ``gcp``; part of the lock key, so the demo never blocks a
    #: real resource of the same name.
    scope: str

    def identity(self) -> str:
        """The cloud identity that acts (an account or service account e-mail)."""
        ...

    def read(self, target: Target) -> ResourceState:
        """The resource's current state, fresh from the API, with its etag."""
        ...

    def dry_run(self, command: Command, target: Target, state: ResourceState) -> DryRunResult:
        """Ask the server to validate the change without making it (where the API can)."""
        ...

    def start(self, command: Command, target: Target, state: ResourceState) -> Operation:
        """Send the change, conditional on ``state.etag``. Raises ``ConflictError`` or
        ``ExecutorError``; on either nothing was applied."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class Pacer(Protocol):
    """How the pipeline waits between polls of an operation."""

    def pause(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        """Wait ``seconds``; False when ``cancel`` was set meanwhile."""
        ...

    def now(self) -> float:
        """The current time on the pipeline's clock."""
        ...


class WallPacer:
    """Waits in real time on an event, so a cancel ends the wait at once (no sleep loop)."""

    def __init__(self, clock_now: Callable[[], float]) -> None:
        self._now = clock_now

    def pause(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        event = cancel if cancel is not None else threading.Event()
        return not event.wait(max(0.0, seconds))

    def now(self) -> float:
        return self._now()


class VirtualPacer:
    """Moves a virtual clock instead of waiting; ``after_advance`` lets the caller catch up
    (poll the sources) so the simulated world keeps pace."""

    def __init__(
        self, clock: VirtualClock, after_advance: Callable[[], None] | None = None
    ) -> None:
        self.clock = clock
        self._after_advance = after_advance

    def pause(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        if cancel is not None and cancel.is_set():
            return False
        self.clock.advance(max(0.0, seconds))
        if self._after_advance is not None:
            self._after_advance()
        return not (cancel is not None and cancel.is_set())

    def now(self) -> float:
        return self.clock.now()
