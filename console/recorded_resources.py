"""Cloud resource state in a recording: how it is written, read back, and looked up at a moment.

The flight recorder writes a row to the snapshot's ``resource_states`` table whenever a service's
state (``console.resource_state``: Cloud Run revisions, traffic split and limits; a connector's
state, machine type and limits) changes, and once per service when recording starts.
``resource_record`` turns a state into that row: its JSON is ``resource_as_dict`` (the same data
``status --json`` prints, with a ``kind``), its time the moment the state was read
(``observed_at``, else the session's clock).

``resource_from_record`` turns a row back into the dataclass (``observed_at`` = the row's time);
rows of another shape (hand-written fixtures, older consoles) give None and are skipped.
``RecordedResources`` holds every decoded row of a recording in memory (a handful per
configuration change) and answers ``at(t)``: the newest state per service at or before ``t``,
by bisection, with no SQL. The review session keeps ``resources`` at its cursor with it. A row
that differs from the one before only in instance counts (the demo reports them; they move while
a service scales) keeps the earlier row's ``observed_at``: in a review, ``observed_at`` says
since when the configuration (traffic, limits, machine type, state) held.

No Qt here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from typing import Any

from console.resource_state import (
    CloudRunServiceState,
    ConnectorState,
    ResourceState,
    RevisionState,
    resource_as_dict,
)
from console.snapshot_format import ResourceState as ResourceRecord

#: ``kind`` in a recorded state's JSON, per dataclass.
_KINDS: dict[str, type[CloudRunServiceState] | type[ConnectorState]] = {
    "cloud_run": CloudRunServiceState,
    "vpc_connector": ConnectorState,
}


def resource_record(state: ResourceState, now: float) -> ResourceRecord:
    """The ``resource_states`` row of ``state``, read at ``observed_at`` (``now`` if unset)."""
    when = state.observed_at or now
    return ResourceRecord(when, state.service_id, state.resource, resource_as_dict(state))


def _known_fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``data`` that are fields of the dataclass ``cls`` (others are ignored, so
    a file written with more fields, or fewer, still reads)."""
    return {f.name: data[f.name] for f in fields(cls) if f.name in data and f.init}


def resource_from_record(record: ResourceRecord) -> ResourceState | None:
    """The state a ``resource_states`` row holds, or None for a row of another shape."""
    data = record.state
    cls = _KINDS.get(str(data.get("kind", ""))) if isinstance(data, Mapping) else None
    if cls is None:
        return None
    values = _known_fields(cls, data)
    values["service_id"] = record.service
    values["observed_at"] = record.t
    try:
        if cls is CloudRunServiceState:
            values["revisions"] = tuple(
                RevisionState(**_known_fields(RevisionState, revision))
                for revision in data.get("revisions") or ()
                if isinstance(revision, Mapping)
            )
        return cls(**values)
    except TypeError:  # a required field missing: not a state this console wrote
        return None


def configuration(state: ResourceState) -> ResourceState:
    """``state`` without its instance counts: what an operator configured, and its status."""
    if isinstance(state, ConnectorState):
        return replace(state, instances=None)
    return replace(state, revisions=tuple(replace(r, instances=None) for r in state.revisions))


class RecordedResources:
    """Every recorded resource state of a recording, per service, in time order."""

    def __init__(self, records: Iterable[ResourceRecord]) -> None:
        self._times: dict[str, list[float]] = {}
        self._states: dict[str, list[ResourceState]] = {}
        for record in sorted(records, key=lambda r: r.t):
            state = resource_from_record(record)
            if state is None:
                continue
            earlier = self._states.get(record.service)
            if earlier and configuration(earlier[-1]) == configuration(state):
                state = replace(state, observed_at=earlier[-1].observed_at)
            self._times.setdefault(record.service, []).append(record.t)
            self._states.setdefault(record.service, []).append(state)

    def __len__(self) -> int:
        return sum(len(states) for states in self._states.values())

    def services(self) -> list[str]:
        """Service ids with at least one recorded state."""
        return list(self._states)

    def first_time(self) -> float | None:
        """When the first state was read, or None when nothing was recorded."""
        firsts = [times[0] for times in self._times.values()]
        return min(firsts) if firsts else None

    def at(self, t: float) -> dict[str, ResourceState]:
        """The newest state of each service read at or before ``t`` (services whose first
        state came later are absent)."""
        states: dict[str, ResourceState] = {}
        for service, times in self._times.items():
            index = bisect.bisect_right(times, t) - 1
            if index >= 0:
                states[service] = self._states[service][index]
        return states

    def changes(self, service: str) -> list[ResourceState]:
        """Every recorded state of ``service``, oldest first."""
        return list(self._states.get(service, ()))
