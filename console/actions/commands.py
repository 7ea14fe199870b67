"""The commands that change the cloud: what the user asked for, with required arguments.

``ScaleConnector``, ``ScaleService`` and ``RouteTraffic`` are immutable values created by a
frontend (GUI, CLI) and handed to the pipeline (``console.actions.pipeline``); they never execute
themselves. They name their resource by workspace service id (``resolve_target`` also accepts the
cloud resource name) and say only what should change: a field left ``None`` stays as it is.

Their constructors refuse what cannot be a request at all (nothing to change, a value that is not
a whole number, both a split and "to latest"); whether a request is *allowed* (limits, sums,
revisions) is the pre-flight checks' job, so each refusal has a named rule and a test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


class CommandError(ValueError):
    """A command that cannot be built from what was given (bad input: exit code 2)."""


def _whole_number(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise CommandError(f"{name} must be a whole number, got {value!r}")
    return value


@dataclass(frozen=True)
class ScaleConnector:
    """Change a Serverless VPC Access connector's instance limits and/or machine type."""

    connector: str
    min_instances: int | None = None
    max_instances: int | None = None
    machine_type: str | None = None

    name: ClassVar[str] = "scale-connector"
    title: ClassVar[str] = "Scale VPC connector"

    def __post_init__(self) -> None:
        _whole_number("min instances", self.min_instances)
        _whole_number("max instances", self.max_instances)
        if self.machine_type is not None and not str(self.machine_type).strip():
            raise CommandError("machine type must not be empty")
        if (self.min_instances, self.max_instances, self.machine_type) == (None, None, None):
            raise CommandError(
                "nothing to change: give --min-instances, --max-instances or --machine-type"
            )

    @property
    def resource(self) -> str:
        """The workspace service id of the connector."""
        return self.connector

    def arguments(self) -> dict[str, Any]:
        """The fields to change (only those given)."""
        fields = {
            "min_instances": self.min_instances,
            "max_instances": self.max_instances,
            "machine_type": self.machine_type,
        }
        return {k: v for k, v in fields.items() if v is not None}


@dataclass(frozen=True)
class ScaleService:
    """Change a Cloud Run service's service-level minimum and/or maximum instances."""

    service: str
    min_instances: int | None = None
    max_instances: int | None = None

    name: ClassVar[str] = "scale-service"
    title: ClassVar[str] = "Scale Cloud Run service"

    def __post_init__(self) -> None:
        _whole_number("min instances", self.min_instances)
        _whole_number("max instances", self.max_instances)
        if self.min_instances is None and self.max_instances is None:
            raise CommandError("nothing to change: give --min-instances and/or --max-instances")

    @property
    def resource(self) -> str:
        """The workspace service id of the Cloud Run service."""
        return self.service

    def arguments(self) -> dict[str, Any]:
        """The fields to change (only those given)."""
        fields = {"min_instances": self.min_instances, "max_instances": self.max_instances}
        return {k: v for k, v in fields.items() if v is not None}


@dataclass(frozen=True)
class RouteTraffic:
    """Send a Cloud Run service's traffic to revisions: a split summing to 100, or all to latest.

    ``split`` holds ``(revision, percent)`` pairs; a revision may be named in full
    (``netra-backend-staging-00750-69k``), by its suffix (``00750-69k``) or as ``LATEST``.
    """

    service: str
    split: tuple[tuple[str, int], ...] = ()
    to_latest: bool = False

    name: ClassVar[str] = "route-traffic"
    title: ClassVar[str] = "Route traffic"

    def __post_init__(self) -> None:
        if isinstance(self.split, Mapping):
            object.__setattr__(self, "split", tuple(self.split.items()))
        else:
            object.__setattr__(self, "split", tuple(tuple(pair) for pair in self.split))
        if self.to_latest and self.split:
            raise CommandError("give either a split (--to-revisions) or --to-latest, not both")
        if not self.to_latest and not self.split:
            raise CommandError(
                "say where traffic goes: --to-revisions REV=PCT[,...] or --to-latest"
            )
        seen: set[str] = set()
        for revision, percent in self.split:
            if not isinstance(revision, str) or not revision.strip():
                raise CommandError("a revision name must not be empty")
            _whole_number(f"the percent of {revision}", percent)
            if revision in seen:
                raise CommandError(f"revision {revision} is named twice in the split")
            seen.add(revision)

    @property
    def resource(self) -> str:
        """The workspace service id of the Cloud Run service."""
        return self.service

    def arguments(self) -> dict[str, Any]:
        """The split (or ``to_latest``) as given."""
        if self.to_latest:
            return {"to_latest": True}
        return {"split": dict(self.split)}


Command = ScaleConnector | ScaleService | RouteTraffic

COMMAND_TYPES: dict[str, type[ScaleConnector] | type[ScaleService] | type[RouteTraffic]] = {
    ScaleConnector.name: ScaleConnector,
    ScaleService.name: ScaleService,
    RouteTraffic.name: RouteTraffic,
}


def with_resource(command: Command, service_id: str) -> Command:
    """The same command aimed at ``service_id`` (after resolving a cloud name to an id)."""
    if isinstance(command, ScaleConnector):
        return ScaleConnector(
            service_id, command.min_instances, command.max_instances, command.machine_type
        )
    if isinstance(command, ScaleService):
        return ScaleService(service_id, command.min_instances, command.max_instances)
    return RouteTraffic(service_id, command.split, command.to_latest)


def command_as_dict(command: Command) -> dict[str, Any]:
    """A JSON-ready record of ``command`` (kept by the audit; read by ``command_from_dict``)."""
    return {"command": command.name, "resource": command.resource, **command.arguments()}


def command_from_dict(data: Mapping[str, Any]) -> Command:
    """The command recorded by ``command_as_dict``. Raises ``CommandError`` on a bad record."""
    name = data.get("command")
    resource = data.get("resource")
    if not isinstance(resource, str):
        raise CommandError(f"a recorded command needs a resource, got {resource!r}")
    if name == ScaleConnector.name:
        return ScaleConnector(
            resource, data.get("min_instances"), data.get("max_instances"), data.get("machine_type")
        )
    if name == ScaleService.name:
        return ScaleService(resource, data.get("min_instances"), data.get("max_instances"))
    if name == RouteTraffic.name:
        split = data.get("split") or {}
        return RouteTraffic(resource, tuple(split.items()), bool(data.get("to_latest")))
    raise CommandError(f"unknown command {name!r} (known: {', '.join(COMMAND_TYPES)})")


def parse_split(text: str) -> tuple[tuple[str, int], ...]:
    """``REV=PCT[,REV=PCT...]`` (gcloud's ``--to-revisions``) as pairs. Raises ``CommandError``.

    Percents must be whole numbers; whether they sum to 100 is a pre-flight check.
    """
    pairs: list[tuple[str, int]] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        revision, sep, percent_text = part.partition("=")
        revision, percent_text = revision.strip(), percent_text.strip()
        if not sep or not revision:
            raise CommandError(
                f"not a revision=percent pair: {part!r} (write e.g. "
                "netra-backend-staging-00750-69k=100)"
            )
        try:
            percent = int(percent_text)
        except ValueError:
            raise CommandError(
                f"the percent of {revision} is not a whole number: {percent_text!r}"
            ) from None
        pairs.append((revision, percent))
    if not pairs:
        raise CommandError("empty split: write REV=PCT[,REV=PCT...], e.g. 00750-69k=100")
    return tuple(pairs)


def describe_command(command: Command) -> str:
    """One line a person reads: ``scale-connector connector: min 3, machine type e2-standard-4``."""
    if isinstance(command, RouteTraffic):
        what = (
            "all traffic to the latest revision"
            if command.to_latest
            else ", ".join(f"{rev} {pct}%" for rev, pct in command.split)
        )
        return f"{command.name} {command.resource}: {what}"
    words = {
        "min_instances": "min",
        "max_instances": "max",
        "machine_type": "machine type",
    }
    args = ", ".join(f"{words[k]} {v}" for k, v in command.arguments().items())
    return f"{command.name} {command.resource}: {args}"
