"""The API limits the pre-flight checks enforce, as data (``resources/connector_limits.toml``).

Google changes these limits, so they are data: the checks take a ``ConnectorLimits`` and tests can
pass their own. ``load_connector_limits()`` reads the shipped file through ``importlib.resources``
(the same from a checkout, a wheel or a bundle) and refuses a malformed one with a clear message.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


class LimitsError(ValueError):
    """The limits file is missing a key or has a value of the wrong kind."""


@dataclass(frozen=True)
class ConnectorLimits:
    """What the Serverless VPC Access API accepts for a connector."""

    min_instances_floor: int
    max_instances_range: tuple[int, int]
    #: Machine types, smallest first, with the approximate Mbps one instance carries.
    machine_types: dict[str, float]
    min_below_max: bool = True
    scales_in: bool = False

    def larger_machine_types(self, than: str) -> list[str]:
        """Machine types carrying more per instance than ``than``, smallest first."""
        base = self.machine_types.get(than, 0.0)
        return [name for name, mbps in self.machine_types.items() if mbps > base]


def _int(data: dict[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise LimitsError(f"{where}: {key} must be a whole number, got {value!r}")
    return value


def parse_connector_limits(
    data: dict[str, Any], where: str = "connector limits"
) -> ConnectorLimits:
    """Validate the parsed TOML ``data`` into ``ConnectorLimits``."""
    floor = _int(data, "min_instances_floor", where)
    span = data.get("max_instances_range")
    if (
        not isinstance(span, list)
        or len(span) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in span)
        or span[0] > span[1]
    ):
        raise LimitsError(f"{where}: max_instances_range must be [low, high], got {span!r}")
    types = data.get("machine_types")
    if not isinstance(types, dict) or not types:
        raise LimitsError(f"{where}: [machine_types] must list at least one machine type")
    machine_types: dict[str, float] = {}
    for name, spec in types.items():
        mbps = spec.get("mbps_per_instance") if isinstance(spec, dict) else None
        if isinstance(mbps, bool) or not isinstance(mbps, int | float) or mbps <= 0:
            raise LimitsError(f"{where}: machine_types.{name}.mbps_per_instance must be > 0")
        machine_types[name] = float(mbps)
    ordered = dict(sorted(machine_types.items(), key=lambda item: item[1]))
    return ConnectorLimits(
        floor,
        (span[0], span[1]),
        ordered,
        bool(data.get("min_below_max", True)),
        bool(data.get("scales_in", False)),
    )


def load_connector_limits(path: Path | None = None) -> ConnectorLimits:
    """The connector limits in ``path``, by default the shipped ``connector_limits.toml``."""
    if path is None:
        text = resources.files("resources").joinpath("connector_limits.toml").read_text("utf-8")
        where = "resources/connector_limits.toml"
    else:
        text = Path(path).read_text("utf-8")
        where = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LimitsError(f"{where}: {exc}") from None
    return parse_connector_limits(data, where)
