"""Reading and validating workspace files (TOML) into the typed model of ``console.workspace``.

What lives here: the file format (which tables and keys exist, their types and defaults), the unit
syntax of threshold values, and the validation that turns every mistake in a file into a
``ConfigProblem`` (file, line, dotted key, message and, when something close exists, a "did you
mean"). ``load_workspace`` collects all problems in one pass and raises them together as one
``WorkspaceError``; no ``OSError``, ``UnicodeDecodeError`` or ``TOMLDecodeError`` escapes it.

docs/workspace.md documents the format for users; keep the two in step. Like the rest of
``console``, this module never imports Qt.
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import difflib
import functools
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import NoReturn

from console.durations import parse_duration
from console.metrics import METRICS_BY_KIND, SERVICE_KINDS, MetricSpec, ServiceKind, Unit
from console.workspace import (
    Environment,
    GoldenPathStep,
    Incident,
    Service,
    SimulationSettings,
    Threshold,
    Workspace,
)

#: A position in the parsed document: table and key names, and list indexes.
Key = tuple[str | int, ...]

ENVIRONMENTS: tuple[Environment, ...] = ("staging", "production")
#: The longest simulated history a demo workspace may ask for.
MAX_HISTORY_S = 24 * 3600.0

#: The keys each table accepts ("" is the top level; "thresholds" is each metric's table).
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": ("incident", "simulation", "services", "golden_path", "thresholds"),
    "incident": (
        "title",
        "environment",
        "project",
        "region",
        "reference",
        "started_at",
        "read_only",
    ),
    "simulation": ("seed", "history"),
    "services": ("id", "name", "kind", "resource", "depends_on", "thresholds"),
    "golden_path": ("steps",),
    "golden_path.steps": ("service", "label"),
    "thresholds": ("degraded", "failing"),
}

_SLUG = re.compile(r"[a-z][a-z0-9_-]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

#: Every canonical metric by name (a name means the same unit and direction for every kind).
_ALL_SPECS: dict[str, MetricSpec] = {
    name: spec for specs in METRICS_BY_KIND.values() for name, spec in specs.items()
}


# --- problems ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake in a workspace file, precise enough to fix without reading the code."""

    file: str
    #: Dotted path of the offending key, e.g. ``services[2].depends_on`` ("" for the whole file).
    key: str
    line: int | None
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = ": ".join(part for part in (where, self.key, self.message) if part)
        if self.suggestion is not None:
            text += f" (did you mean '{self.suggestion}'?)"
        return text


class WorkspaceError(Exception):
    """A workspace file that cannot be used, with every problem found in it."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: list[ConfigProblem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


# --- public API -------------------------------------------------------------------------------


def load_workspace(path: str | Path) -> Workspace:
    """Read and validate the workspace file at ``path``. Raises ``WorkspaceError``."""
    path = Path(path)
    file = str(path)

    def fail(message: str, suggestion: str | None = None, line: int | None = None) -> NoReturn:
        # from None: the message says it all; the OSError behind it is noise in a traceback.
        raise WorkspaceError([ConfigProblem(file, "", line, message, suggestion)]) from None

    if path.is_dir():
        fail("is a directory, not a workspace file", _only_toml_file_in(path))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        fail("no such file", _nearest_file(path))
    except PermissionError:
        fail("permission denied: the file cannot be read")
    except OSError as error:
        fail(f"cannot read the file: {error.strerror or error}")
    try:
        # utf-8-sig: tolerate the byte order mark some Windows editors write.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        fail(
            f"not a UTF-8 text file (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "a workspace is a TOML file saved as UTF-8",
            line=line,
        )
    return parse_workspace(text, path)


def parse_workspace(text: str, path: Path | None = None) -> Workspace:
    """Validate workspace TOML ``text``; ``path`` names the file in problems and in the result."""
    file = str(path) if path is not None else "<workspace>"
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except ValueError as error:  # TOMLDecodeError, or an integer too long for int()
        raise WorkspaceError([_syntax_problem(error, text, file)]) from None
    checker = _Checker(text, file)
    workspace = checker.workspace(data, path)
    if checker.problems or workspace is None:
        problems = sorted(checker.problems, key=lambda p: (p.line is None, p.line or 0))
        raise WorkspaceError(problems)
    return workspace


@functools.cache
def demo_workspace_path() -> Path:
    """The demo workspace shipped in the ``resources`` package (a real file, even from a zip)."""
    resource = resources.files("resources").joinpath("demo.toml")
    if isinstance(resource, Path):
        return resource
    # Inside a zip there is no file to point at: extract it for the life of the process.
    stack = contextlib.ExitStack()
    atexit.register(stack.close)
    return stack.enter_context(resources.as_file(resource))


def summarize(workspace: Workspace) -> str:
    """One line for ``check-config``: the incident, where, and how big the workspace is."""
    incident = workspace.incident
    title = incident.title if len(incident.title) <= 60 else incident.title[:59] + "…"
    where = "/".join(part for part in (incident.project, incident.region) if part)
    context = f"{incident.environment}, {where}" if where else incident.environment
    services = workspace.services.values()
    dependencies = sum(len(service.depends_on) for service in services)
    overrides = sum(len(service.thresholds) for service in services)
    thresholds = _plural(len(workspace.thresholds), "threshold")
    if overrides:
        thresholds += f" (+{overrides} per service)"
    parts = [
        _plural(len(workspace.services), "service"),
        _plural(dependencies, "dependency", "dependencies"),
        f"golden path of {_plural(len(workspace.golden_path), 'step')}",
        thresholds,
        "demo simulation" if workspace.is_demo else "live data",
    ]
    if incident.read_only:
        parts.append("read-only")
    return f'ok: "{title}" ({context}): ' + ", ".join(parts)


# --- small helpers ----------------------------------------------------------------------------


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` was most likely meant to be, or None."""
    choices = list(choices)
    folded = {choice.lower(): choice for choice in choices}
    normalized = re.sub(r"[\s-]+", "_", word.strip().lower())
    if normalized in folded:
        return folded[normalized]
    if len(normalized) >= 3:
        starting = [choice for choice in choices if choice.startswith(normalized)]
        if len(starting) == 1:
            return starting[0]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _render_key(path: Key) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            text += f".{name}" if text else name
    return text


def _quote(text: str) -> str:
    shown = text if len(text) <= 40 else text[:39] + "…"
    return json.dumps(shown, ensure_ascii=False)


def _show(value: object) -> str:
    """A value as it is written in TOML, for messages."""
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and value.bit_length() > 64:
        return "a huge number"  # str() of a very long int may even refuse
    return str(value)


def _describe(value: object) -> str:
    """What kind of TOML value ``value`` is, for "must be X, not Y" messages."""
    if isinstance(value, bool):
        return f"a boolean ({_show(value)})"
    if isinstance(value, int):
        return f"an integer ({_show(value)})"
    if isinstance(value, float):
        return f"a number ({value:g})"
    if isinstance(value, str):
        return f"a string ({_quote(value)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    return type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _service_list(ids: Iterable[str]) -> str:
    """The known ids for a message ("; the services are a, b, c"), if few enough to read."""
    ids = list(ids)
    if not ids or len(ids) > 12:
        return ""
    return "; the services are " + ", ".join(ids)


def _to_float(value: int | float) -> float:
    # TOML integers may be longer than a float holds; call those infinite (and so out of range).
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _nearest_file(path: Path) -> str | None:
    try:
        names = [entry.name for entry in path.parent.iterdir() if entry.is_file()]
    except OSError:
        return None
    close = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
    return str(path.with_name(close[0])) if close else None


def _only_toml_file_in(directory: Path) -> str | None:
    try:
        tomls = [entry for entry in directory.glob("*.toml") if entry.is_file()]
    except OSError:
        return None
    return str(tomls[0]) if len(tomls) == 1 else None


_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def _syntax_problem(error: ValueError, text: str, file: str) -> ConfigProblem:
    message = str(error)
    if match := _TOML_AT.search(message):
        line, column = int(match.group(1)), int(match.group(2))
        what = message[: match.start()]
        detail = f"TOML syntax error at column {column}: {what}"
        if what.startswith("Invalid value"):
            detail += _bare_word_hint(text, line, column)
        elif what == r"Illegal character '\n'":
            detail += " (is a closing quote missing?)"
        return ConfigProblem(file, "", line, detail)
    if match := _TOML_AT_END.search(message):
        line = text.rstrip().count("\n") + 1
        return ConfigProblem(
            file, "", line, f"TOML syntax error at the end of the file: {message[: match.start()]}"
        )
    return ConfigProblem(file, "", None, f"TOML syntax error: {message}")


def _bare_word_hint(text: str, line: int, column: int) -> str:
    # The most common "Invalid value": a string written without quotes (kind = cloud_run).
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return ""
    match = re.compile(r"[A-Za-z_][A-Za-z0-9_./:-]*").match(lines[line - 1], column - 1)
    if match is None or match.group() in ("true", "false", "inf", "nan"):
        return ""
    return f'; text values need quotes: "{match.group()}"'


# --- threshold values -------------------------------------------------------------------------

_NUMBER_AND_UNIT = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*")

#: The units a threshold string may carry, per metric unit: value = number * mul / div. (Dividing
#: keeps "95%" exactly 0.95, where multiplying by 0.01 would give 0.9500000000000001.)
_UNIT_FACTORS: dict[Unit, dict[str, tuple[float, float]]] = {
    "ms": {"ms": (1, 1), "s": (1000, 1)},
    "fraction": {"%": (1, 100)},
    "per_s": {"/s": (1, 1), "/min": (1, 60), "/h": (1, 3600)},
    "count": {},
    "bytes_per_s": {
        "B/s": (1, 1),
        "kB/s": (1e3, 1),
        "KB/s": (1e3, 1),
        "MB/s": (1e6, 1),
        "GB/s": (1e9, 1),
        "TB/s": (1e12, 1),
    },
}

_UNIT_HELP: dict[Unit, str] = {
    "ms": 'a duration: a number of milliseconds, or a string such as "800 ms" or "2 s"',
    "fraction": 'a fraction: a number from 0 to 1, or a percentage such as "5%"',
    "per_s": 'a rate: a number per second, or a string such as "3/s", "180/min" or "10/h"',
    "count": "a count: a plain number such as 20, without quotes or unit",
    "bytes_per_s": (
        'a throughput: a number of bytes per second, or a string such as "800 kB/s" or "10 MB/s"'
    ),
}

#: Spellings people use for a unit this format writes differently (suggestions only).
_UNIT_ALIASES: dict[Unit, dict[str, str]] = {
    "ms": {
        "sec": "s",
        "secs": "s",
        "second": "s",
        "seconds": "s",
        "msec": "ms",
        "millis": "ms",
        "milliseconds": "ms",
    },
    "fraction": {"percent": "%", "pct": "%"},
    "per_s": {
        "/sec": "/s",
        "/second": "/s",
        "rps": "/s",
        "/m": "/min",
        "/minute": "/min",
        "/hour": "/h",
        "/hr": "/h",
    },
    "count": {},
    "bytes_per_s": {"Bps": "B/s", "kBps": "kB/s", "MBps": "MB/s", "GBps": "GB/s"},
}

_BASE_UNIT: dict[Unit, str] = {"ms": " ms", "fraction": "%", "per_s": "/s", "bytes_per_s": " B/s"}


class _BadValueError(Exception):
    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion


def _threshold_value(raw: object, spec: MetricSpec) -> float:
    unit = spec.unit
    takes = f"{spec.name} takes {_UNIT_HELP[unit]}"
    if isinstance(raw, str):
        return _threshold_string(raw, spec, takes)
    if not _is_number(raw):
        raise _BadValueError(
            f"must be a number or a string with a unit, not {_describe(raw)}; {takes}"
        )
    assert isinstance(raw, int | float)
    value = _to_float(raw)
    if not math.isfinite(value):
        raise _BadValueError(f"must be a finite number, not {_show(raw)}")
    if value < 0:
        raise _BadValueError(f"must not be negative ({_show(raw)})")
    if unit == "fraction" and value > 1:
        if value <= 100:
            raise _BadValueError(
                f"{_show(raw)} is above 1, but {spec.name} is a fraction from 0 to 1: "
                f'write "{value:g}%" or {value / 100:g}',
                f"{value:g}%",
            )
        raise _BadValueError(f"{_show(raw)} is above 1, but {spec.name} is a fraction from 0 to 1")
    return value


def _threshold_string(raw: str, spec: MetricSpec, takes: str) -> float:
    unit = spec.unit
    match = _NUMBER_AND_UNIT.fullmatch(raw)
    if match is None:
        raise _BadValueError(f"{_quote(raw)} is not a number with a unit; {takes}")
    number_text, written = match.group(1), match.group(2)
    number = float(number_text)
    if not math.isfinite(number):
        raise _BadValueError(f"must be a finite number, not {_quote(raw)}")
    compact = re.sub(r"\s+", "", written)
    if unit == "count":
        raise _BadValueError(f"{_quote(raw)} is a string; {takes}")
    if not compact:
        if unit == "fraction" and 0 <= number <= 1:
            suggestion = f"{number * 100:g}%"
        else:
            suggestion = f"{number_text}{_BASE_UNIT[unit]}"
        raise _BadValueError(f"{_quote(raw)} has no unit; {takes}", suggestion)
    factor = _UNIT_FACTORS[unit].get(compact)
    if factor is None:
        alias = _UNIT_ALIASES[unit].get(compact) or _UNIT_ALIASES[unit].get(compact.lower())
        suggestion = None
        if alias is not None:
            suggestion = f"{number_text}{alias}" if alias[0] in "%/" else f"{number_text} {alias}"
        raise _BadValueError(
            f"{_quote(raw)} has the wrong unit {_quote(written)} for {spec.name}, which takes "
            f"{_UNIT_HELP[unit]}",
            suggestion,
        )
    if number < 0:
        raise _BadValueError(f"must not be negative ({_quote(raw)})")
    value = number * factor[0] / factor[1]
    if unit == "fraction" and value > 1:
        raise _BadValueError(f"{_quote(raw)} is above 100%")
    return value


def _threshold_example(spec: MetricSpec) -> str:
    examples: dict[Unit, tuple[str, str]] = {
        "ms": ('{ degraded = "1 s", failing = "2 s" }', '{ degraded = "2 s", failing = "1 s" }'),
        "fraction": (
            '{ degraded = "1%", failing = "5%" }',
            '{ degraded = "99%", failing = "90%" }',
        ),
        "per_s": (
            '{ degraded = "1/s", failing = "5/s" }',
            '{ degraded = "10/s", failing = "1/s" }',
        ),
        "count": ("{ degraded = 80, failing = 100 }", "{ degraded = 2, failing = 1 }"),
        "bytes_per_s": (
            '{ degraded = "10 MB/s", failing = "50 MB/s" }',
            '{ degraded = "1 MB/s", failing = "100 kB/s" }',
        ),
    }
    higher, lower = examples[spec.unit]
    return higher if spec.higher_is_worse else lower


# --- validation -------------------------------------------------------------------------------


class _Checker:
    """Walks the parsed document once, building the model and recording every problem."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.locator = _Locator(text)
        self.problems: list[ConfigProblem] = []

    def problem(self, path: Key, message: str, suggestion: str | None = None, at: Key = ()) -> None:
        line = self.locator.line_for(at or path)
        self.problems.append(ConfigProblem(self.file, _render_key(path), line, message, suggestion))

    # generic checks

    def unknown_keys(self, table: Mapping[str, object], path: Key, known: Iterable[str]) -> None:
        known = tuple(known)
        for key in table:
            if key in known:
                continue
            suggestion = _suggest(key, known)
            message = "unknown key" if suggestion else f"unknown key; expected {', '.join(known)}"
            self.problem((*path, key), message, suggestion)

    def table(self, value: object, path: Key, hint: str = "") -> dict | None:
        if isinstance(value, dict):
            return value
        self.problem(path, f"must be a table{hint}, not {_describe(value)}")
        return None

    def string(
        self,
        table: Mapping[str, object],
        key: str,
        path: Key,
        *,
        required: bool = False,
        default: str | None = None,
        allow_empty: bool = False,
        hint: str = "",
    ) -> str | None:
        if key not in table:
            if required:
                self.problem((*path, key), f"required key is missing{hint}")
            return default
        value = table[key]
        if not isinstance(value, str):
            self.problem((*path, key), f"must be a string, not {_describe(value)}")
            return None
        if not allow_empty and not value.strip():
            self.problem((*path, key), "must not be empty")
            return None
        return value

    def choice(
        self,
        table: Mapping[str, object],
        key: str,
        path: Key,
        choices: tuple[str, ...],
        *,
        what: str,
        required: bool = False,
        default: str | None = None,
    ) -> str | None:
        one_of = f"one of {', '.join(choices)}"
        value = self.string(
            table, key, path, required=required, default=default, hint=f" ({one_of})"
        )
        if value is None or value in choices:
            return value
        self.problem(
            (*path, key), f"unknown {what} {_quote(value)}; use {one_of}", _suggest(value, choices)
        )
        return None

    # the tables

    def workspace(self, data: dict, path: Path | None) -> Workspace | None:
        if not data:
            self.problem(
                (),
                "the workspace is empty: it needs [incident], [[services]] and [golden_path] "
                "(see docs/workspace.md)",
            )
            return None
        self.unknown_keys(data, (), KNOWN_KEYS[""])
        incident = self.incident(data)
        simulation = self.simulation(data)
        thresholds: dict[str, Threshold] = {}
        if "thresholds" in data:
            thresholds = self.thresholds(data["thresholds"], ("thresholds",), None)
        services, names = self.services(data)
        golden_path = self.golden_path(data, names)
        if self.problems or incident is None:
            return None
        return Workspace(
            incident=incident,
            services=services,
            golden_path=golden_path,
            thresholds=thresholds,
            simulation=simulation,
            path=path,
        )

    def incident(self, data: dict) -> Incident | None:
        path: Key = ("incident",)
        if "incident" not in data:
            self.problem(path, 'missing required table [incident] (at least title = "…")')
            return None
        table = self.table(data["incident"], path)
        if table is None:
            return None
        self.unknown_keys(table, path, KNOWN_KEYS["incident"])
        title = self.string(table, "title", path, required=True)
        environment = self.choice(
            table, "environment", path, ENVIRONMENTS, what="environment", default="staging"
        )
        project = self.string(table, "project", path, default="", allow_empty=True)
        region = self.string(table, "region", path, default="", allow_empty=True)
        reference = self.string(table, "reference", path, default="", allow_empty=True)
        started_at = self.timestamp(table, "started_at", path)
        read_only = self.boolean(table, "read_only", path, default=False)
        if None in (title, environment, project, region, reference, read_only):
            return None
        return Incident(
            title=title,
            environment=environment,
            project=project,
            region=region,
            reference=reference,
            started_at=started_at,
            read_only=read_only,
        )

    def timestamp(self, table: Mapping[str, object], key: str, path: Key) -> float | None:
        if key not in table:
            return None
        value = table[key]
        example = "write e.g. 2025-03-14T09:30:00Z"
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                self.problem(
                    (*path, key), f"{_quote(value)} is not an ISO-8601 date-time; {example}"
                )
                return None
        elif isinstance(value, datetime):
            parsed = value
        else:
            self.problem((*path, key), f"must be a date-time, not {_describe(value)}; {example}")
            return None
        if parsed.tzinfo is None:
            self.problem(
                (*path, key),
                "has no time zone; add Z for UTC or an offset such as +01:00",
                f"{parsed.isoformat()}Z",
            )
            return None
        return parsed.timestamp()

    def boolean(
        self, table: Mapping[str, object], key: str, path: Key, *, default: bool
    ) -> bool | None:
        if key not in table:
            return default
        value = table[key]
        if isinstance(value, bool):
            return value
        suggestion = None
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on"):
            suggestion = "true"
        elif isinstance(value, str) and value.strip().lower() in ("false", "no", "off"):
            suggestion = "false"
        self.problem(
            (*path, key), f"must be true or false (no quotes), not {_describe(value)}", suggestion
        )
        return None

    def simulation(self, data: dict) -> SimulationSettings | None:
        path: Key = ("simulation",)
        if "simulation" not in data:
            return None
        table = self.table(data["simulation"], path)
        if table is None:
            return None
        self.unknown_keys(table, path, KNOWN_KEYS["simulation"])
        defaults = SimulationSettings()
        seed, history = defaults.seed, defaults.history_s
        if "seed" in table:
            value = table["seed"]
            if not isinstance(value, int) or isinstance(value, bool):
                self.problem((*path, "seed"), f"must be a whole number, not {_describe(value)}")
            elif value < 0:
                self.problem((*path, "seed"), f"must not be negative ({value})")
            else:
                seed = value
        if "history" in table:
            value = table["history"]
            key = (*path, "history")
            if isinstance(value, str):
                try:
                    history = parse_duration(value)
                except ValueError as error:
                    self.problem(key, str(error))
                    return None
            elif _is_number(value):
                history = _to_float(value)
            else:
                self.problem(
                    key, f'must be a duration such as "1h" or "90m", not {_describe(value)}'
                )
                return None
            if not 0 <= history <= MAX_HISTORY_S:
                self.problem(key, f"{_show(value)} is out of range: history must be from 0 to 24h")
        return SimulationSettings(seed=seed, history_s=history)

    def services(self, data: dict) -> tuple[dict[str, Service], dict[str, str]]:
        """The built services (when all are valid) and the name of every declared id."""
        path: Key = ("services",)
        if "services" not in data:
            self.problem(path, "missing: a workspace needs at least one [[services]] table")
            return {}, {}
        raw = data["services"]
        if isinstance(raw, dict):
            self.problem(path, "must be an array of tables: write each service under [[services]]")
            return {}, {}
        if not isinstance(raw, list):
            self.problem(path, f"must be an array of [[services]] tables, not {_describe(raw)}")
            return {}, {}
        if not raw:
            self.problem(path, "is empty: a workspace needs at least one service")
            return {}, {}

        first_index: dict[str, int] = {}  # every declared id -> index of its first entry
        names: dict[str, str] = {}
        pending: list[tuple[int, str | None, dict, list[tuple[int, str]]]] = []
        built: dict[str, Service] = {}
        complete = True
        for index, entry in enumerate(raw):
            entry_path: Key = ("services", index)
            table = self.table(entry, entry_path, " (a [[services]] entry)")
            if table is None:
                complete = False
                continue
            self.unknown_keys(table, entry_path, KNOWN_KEYS["services"])
            service_id = self.string(table, "id", entry_path, required=True)
            if service_id is not None:
                self.check_id(service_id, index, first_index)
            name = self.string(table, "name", entry_path, default=service_id)
            kind = self.choice(table, "kind", entry_path, SERVICE_KINDS, what="kind", required=True)
            resource = self.string(table, "resource", entry_path, required=True)
            depends_on = self.service_ids(table, "depends_on", entry_path)
            thresholds: dict[str, Threshold] = {}
            if "thresholds" in table:
                thresholds = self.thresholds(
                    table["thresholds"], (*entry_path, "thresholds"), kind, service_id
                )
            if service_id is not None:
                names.setdefault(service_id, name or service_id)
            pending.append((index, service_id, table, depends_on))
            if None in (service_id, name, kind, resource) or depends_on is None:
                complete = False
                continue
            if service_id not in built:
                built[service_id] = Service(
                    id=service_id,
                    name=name,
                    kind=kind,
                    resource=resource,
                    depends_on=tuple(dep for _, dep in depends_on),
                    thresholds=thresholds,
                )

        graph: dict[str, list[tuple[int, str]]] = {}
        for index, service_id, _, depends_on in pending:
            if depends_on is None:
                continue
            self.check_dependencies(index, service_id, depends_on, first_index)
            if service_id is not None and first_index.get(service_id) == index:
                graph[service_id] = [
                    (j, dep) for j, dep in depends_on if dep in first_index and dep != service_id
                ]
        self.check_cycles(graph, first_index)
        return (built if complete else {}), names

    def check_id(self, service_id: str, index: int, first_index: dict[str, int]) -> None:
        key: Key = ("services", index, "id")
        if not _SLUG.fullmatch(service_id):
            slug = re.sub(r"[^a-z0-9_-]+", "-", service_id.strip().lower()).strip("-")
            self.problem(
                key,
                f"{_quote(service_id)} is not a valid id: use lowercase letters, digits, '-' and "
                "'_', starting with a letter",
                slug if _SLUG.fullmatch(slug) else None,
            )
        if service_id in first_index:
            first = first_index[service_id]
            line = self.locator.line_for(("services", first, "id"))
            at = f", line {line}" if line is not None else ""
            self.problem(
                key, f"duplicate service id {_quote(service_id)} (already services[{first}]{at})"
            )
        else:
            first_index[service_id] = index

    def service_ids(
        self, table: Mapping[str, object], key: str, path: Key
    ) -> list[tuple[int, str]] | None:
        """A list of service ids, each with its index in the list."""
        if key not in table:
            return []
        value = table[key]
        if isinstance(value, str):
            self.problem(
                (*path, key),
                f"must be a list of service ids, not {_describe(value)}",
                json.dumps([value]),
            )
            return None
        if not isinstance(value, list):
            self.problem((*path, key), f"must be a list of service ids, not {_describe(value)}")
            return None
        ids: list[tuple[int, str]] = []
        good = True
        for j, item in enumerate(value):
            if isinstance(item, str):
                ids.append((j, item))
            else:
                self.problem(
                    (*path, key, j), f"must be a service id (a string), not {_describe(item)}"
                )
                good = False
        return ids if good else None

    def check_dependencies(
        self,
        index: int,
        service_id: str | None,
        depends_on: list[tuple[int, str]],
        first_index: dict[str, int],
    ) -> None:
        key: Key = ("services", index, "depends_on")
        who = f"service {_quote(service_id)}" if service_id is not None else f"services[{index}]"
        seen: set[str] = set()
        for j, dep in depends_on:
            at = (*key, j)
            if dep == service_id:
                self.problem(key, f"{who} depends on itself", at=at)
            elif dep not in first_index:
                suggestion = _suggest(dep, first_index)
                self.problem(
                    key,
                    f"{who} depends on unknown service {_quote(dep)}"
                    + ("" if suggestion else _service_list(first_index)),
                    suggestion,
                    at=at,
                )
            elif dep in seen:
                self.problem(key, f"{who} lists {_quote(dep)} twice", at=at)
            seen.add(dep)

    def check_cycles(
        self, graph: dict[str, list[tuple[int, str]]], first_index: dict[str, int]
    ) -> None:
        """Report each dependency cycle once, starting from its service first in the file."""
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        reported: set[tuple[str, ...]] = set()
        for root in graph:
            if root in state:
                continue
            stack: list[tuple[str, Iterable[tuple[int, str]]]] = [(root, iter(graph[root]))]
            path = [root]
            state[root] = 1
            while stack:
                node, edges = stack[-1]
                for _, dep in edges:
                    if state.get(dep) == 1:
                        self.report_cycle(path[path.index(dep) :], graph, first_index, reported)
                    elif dep not in state and dep in graph:
                        state[dep] = 1
                        path.append(dep)
                        stack.append((dep, iter(graph[dep])))
                        break
                else:
                    state[node] = 2
                    path.pop()
                    stack.pop()

    def report_cycle(
        self,
        cycle: list[str],
        graph: dict[str, list[tuple[int, str]]],
        first_index: dict[str, int],
        reported: set[tuple[str, ...]],
    ) -> None:
        start = min(range(len(cycle)), key=lambda i: first_index[cycle[i]])
        cycle = cycle[start:] + cycle[:start]
        if tuple(cycle) in reported:
            return
        reported.add(tuple(cycle))
        head, after = cycle[0], cycle[1 % len(cycle)]
        index = first_index[head]
        j = next(j for j, dep in graph[head] if dep == after)
        self.problem(
            ("services", index, "depends_on"),
            "dependency cycle: " + " -> ".join([*cycle, head]),
            at=("services", index, "depends_on", j),
        )

    def golden_path(self, data: dict, names: dict[str, str]) -> tuple[GoldenPathStep, ...]:
        path: Key = ("golden_path",)
        if "golden_path" not in data:
            self.problem(
                path,
                'missing required table [golden_path] (the user journey: steps = ["frontend", …])',
            )
            return ()
        table = self.table(data["golden_path"], path, ' with steps = ["frontend", …]')
        if table is None:
            return ()
        self.unknown_keys(table, path, KNOWN_KEYS["golden_path"])
        steps_path: Key = (*path, "steps")
        if "steps" not in table:
            self.problem(steps_path, 'required key is missing (e.g. steps = ["frontend", …])')
            return ()
        steps = table["steps"]
        if not isinstance(steps, list):
            self.problem(steps_path, f"must be a list of steps, not {_describe(steps)}")
            return ()
        if not steps:
            self.problem(steps_path, "the golden path is empty: list at least one service")
            return ()
        result: list[GoldenPathStep] = []
        used: dict[str, int] = {}
        for k, step in enumerate(steps):
            step_path: Key = (*steps_path, k)
            label: str | None = None
            if isinstance(step, str):
                service_id, id_path = step, step_path
            elif isinstance(step, dict):
                self.unknown_keys(step, step_path, KNOWN_KEYS["golden_path.steps"])
                service_id = self.string(step, "service", step_path, required=True)
                label = self.string(step, "label", step_path)
                id_path = (*step_path, "service")
                if service_id is None:
                    continue
            else:
                self.problem(
                    step_path,
                    "must be a service id or a table { service = …, label = … }, "
                    f"not {_describe(step)}",
                )
                continue
            if service_id not in names:
                suggestion = _suggest(service_id, names)
                self.problem(
                    id_path,
                    f"unknown service {_quote(service_id)}"
                    + ("" if suggestion else _service_list(names)),
                    suggestion,
                )
            elif service_id in used:
                self.problem(
                    id_path,
                    f"service {_quote(service_id)} appears twice in the golden path "
                    f"(already steps[{used[service_id]}])",
                )
            else:
                used[service_id] = k
                result.append(GoldenPathStep(service_id, label or names[service_id]))
        return tuple(result)

    def thresholds(
        self, raw: object, path: Key, kind: ServiceKind | None, service_id: str | None = None
    ) -> dict[str, Threshold]:
        """A thresholds table: workspace-wide (``kind`` None) or one service's overrides."""
        table = self.table(raw, path, " of metric = { degraded = …, failing = … }")
        if table is None:
            return {}
        per_service = len(path) > 1
        specs = METRICS_BY_KIND[kind] if kind is not None else _ALL_SPECS
        result: dict[str, Threshold] = {}
        for metric, limits in table.items():
            metric_path = (*path, metric)
            spec = specs.get(metric)
            if spec is None:
                suggestion = _suggest(metric, specs)
                if per_service and kind is not None:
                    who = f"service {_quote(service_id)}" if service_id else "this service"
                    verb = "does not report" if metric in _ALL_SPECS else "has no metric"
                    message = f"{who} ({kind}) {verb} {_quote(metric)}; it reports " + ", ".join(
                        specs
                    )
                else:
                    message = "unknown metric; docs/workspace.md lists the metrics of each kind"
                self.problem(metric_path, message, suggestion)
                continue
            threshold = self.threshold(limits, metric_path, spec)
            if threshold is not None:
                result[metric] = threshold
        return result

    def threshold(self, raw: object, path: Key, spec: MetricSpec) -> Threshold | None:
        example = _threshold_example(spec)
        if not isinstance(raw, dict):
            self.problem(path, f"must be a table such as {example}, not {_describe(raw)}")
            return None
        self.unknown_keys(raw, path, KNOWN_KEYS["thresholds"])
        if "degraded" not in raw and "failing" not in raw:
            self.problem(path, f"give degraded, failing or both, e.g. {example}")
            return None
        values: dict[str, float] = {}
        for key in ("degraded", "failing"):
            if key in raw:
                try:
                    values[key] = _threshold_value(raw[key], spec)
                except _BadValueError as bad:
                    self.problem((*path, key), bad.message, bad.suggestion)
        degraded, failing = values.get("degraded"), values.get("failing")
        if degraded is not None and failing is not None:
            shown = f"degraded ({_show(raw['degraded'])})", f"failing ({_show(raw['failing'])})"
            if spec.higher_is_worse and not degraded < failing:
                self.problem(
                    path,
                    f"higher is worse for {spec.name}, so {shown[0]} must be below {shown[1]}",
                )
            elif not spec.higher_is_worse and not degraded > failing:
                self.problem(
                    path,
                    f"lower is worse for {spec.name}, so {shown[0]} must be above {shown[1]}",
                )
        if len(values) != sum(key in raw for key in ("degraded", "failing")):
            return None
        return Threshold(spec.name, degraded, failing)


# --- line numbers -----------------------------------------------------------------------------

_SCALAR = re.compile(r"[^\s,\]}#]+")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_AFTER_SPACE = re.compile(r" \d{2}:\d{2}[^\s,\]}#]*")


class _Locator:
    """Finds the line of a key in TOML text, since tomllib reports no positions.

    It re-scans the (already valid) text: table headers, key/value pairs, and the items of arrays
    and inline tables, resolving ``[[array]]`` headers to indexes the way TOML does. Best effort:
    on anything it does not understand it stops scanning and answers from what it has.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._line_starts = [0, *(match.end() for match in re.finditer("\n", text))]
        self._headers: list[tuple[Key, int]] = []  # table path, offset of "["
        self._entries: list[tuple[Key, int, int]] = []  # key path, key offset, value offset
        with contextlib.suppress(ValueError, IndexError):
            self._scan()

    def line_for(self, path: Key) -> int | None:
        """The line where ``path`` is written, else where its nearest written parent is."""
        if not path:
            return None
        best: tuple[int, int] | None = None  # (depth, offset)
        best_is_entry = False
        for header, offset in self._headers:
            if _is_prefix(header, path) and (best is None or len(header) > best[0]):
                best, best_is_entry = (len(header), offset), False
        for key, key_offset, value_offset in self._entries:
            if _is_prefix(key, path) and (best is None or len(key) >= best[0]):
                if best is not None and best_is_entry and len(key) == best[0]:
                    continue
                offset = key_offset
                if len(key) < len(path):
                    offset = self._descend(value_offset, path[len(key) :], key_offset)
                best, best_is_entry = (len(key), offset), True
        if best is None or (not best_is_entry and best[0] < len(path)):
            # Not written as such: maybe as a dotted key or a sub-table header below it.
            below = [offset for key, offset in self._headers if _is_prefix(path, key)]
            below += [offset for key, offset, _ in self._entries if _is_prefix(path, key)]
            if below:
                return self._line_of(min(below))
        return None if best is None else self._line_of(best[1])

    def _line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    def _descend(self, offset: int, rest: Key, key_offset: int) -> int:
        text, i = self._text, 0
        while i < len(rest):
            step = rest[i]
            if text[offset] == "[" and isinstance(step, int):
                items = self._items(offset)[0]
                if step >= len(items):
                    break
                key_offset = offset = items[step][2]
                i += 1
            elif text[offset] == "{" and isinstance(step, str):
                for parts, item_offset, value_offset in self._items(offset)[0]:
                    n = len(parts or ())
                    if parts is not None and tuple(parts) == rest[i : i + n]:
                        key_offset, offset = item_offset, value_offset
                        i += n
                        break
                else:
                    break
            else:
                break
        return key_offset if i == len(rest) else offset

    def _scan(self) -> None:
        text, n = self._text, len(self._text)
        section: Key = ()
        arrays: dict[Key, int] = {}  # [[array]] path -> how many entries so far
        pos = self._skip_blank(0, newlines=True)
        while pos < n:
            start = pos
            if text.startswith("[[", pos):
                parts, pos = self._read_key(pos + 2)
                pos = text.index("]]", pos) + 2
                array = (*self._resolve(parts[:-1], arrays), parts[-1])
                arrays[array] = arrays.get(array, 0) + 1
                section = (*array, arrays[array] - 1)
                self._headers.append((section, start))
            elif text[pos] == "[":
                parts, pos = self._read_key(pos + 1)
                pos = text.index("]", pos) + 1
                section = self._resolve(parts, arrays)
                self._headers.append((section, start))
            else:
                parts, pos = self._read_key(pos)
                pos = self._expect_equals(pos)
                self._entries.append(((*section, *parts), start, pos))
                pos = self._skip_value(pos)
            pos = self._skip_blank(pos, newlines=True)

    @staticmethod
    def _resolve(parts: list[str], arrays: dict[Key, int]) -> Key:
        path: Key = ()
        for part in parts:
            path = (*path, part)
            if path in arrays:
                path = (*path, arrays[path] - 1)
        return path

    def _skip_blank(self, pos: int, *, newlines: bool) -> int:
        text, n = self._text, len(self._text)
        while pos < n:
            char = text[pos]
            if char in " \t" or (newlines and char in "\r\n"):
                pos += 1
            elif char == "#":
                end = text.find("\n", pos)
                pos = n if end == -1 else end
                if not newlines:
                    break
            else:
                break
        return pos

    def _expect_equals(self, pos: int) -> int:
        pos = self._skip_blank(pos, newlines=False)
        if self._text[pos] != "=":
            raise ValueError("expected '='")
        return self._skip_blank(pos + 1, newlines=False)

    def _read_key(self, pos: int) -> tuple[list[str], int]:
        text, parts = self._text, []
        while True:
            pos = self._skip_blank(pos, newlines=False)
            if text[pos] in "\"'":
                end = self._skip_string(pos)
                raw = text[pos + 1 : end - 1]
                if text[pos] == '"':
                    with contextlib.suppress(ValueError):
                        raw = json.loads(f'"{raw}"')
                parts.append(raw)
                pos = end
            else:
                match = _BARE_KEY.match(text, pos)
                if match is None:
                    raise ValueError("expected a key")
                parts.append(match.group())
                pos = match.end()
            after = self._skip_blank(pos, newlines=False)
            if after < len(text) and text[after] == ".":
                pos = after + 1
            else:
                return parts, pos

    def _skip_value(self, pos: int) -> int:
        text = self._text
        if text[pos] in "[{":
            return self._items(pos)[1]
        if text[pos] in "\"'":
            return self._skip_string(pos)
        match = _SCALAR.match(text, pos)
        if match is None:
            raise ValueError("expected a value")
        end = match.end()
        if _DATE_ONLY.fullmatch(match.group()) and (clock := _TIME_AFTER_SPACE.match(text, end)):
            end = clock.end()  # TOML allows a space between date and time
        return end

    def _items(self, pos: int) -> tuple[list[tuple[list[str] | None, int, int]], int]:
        """The items of the array or inline table at ``pos`` (key parts or None, item offset,
        value offset), and the offset just after it."""
        text = self._text
        is_table = text[pos] == "{"
        close = "}" if is_table else "]"
        pos += 1
        items: list[tuple[list[str] | None, int, int]] = []
        while True:
            pos = self._skip_blank(pos, newlines=True)
            if text[pos] == close:
                return items, pos + 1
            if text[pos] == ",":
                pos += 1
                continue
            start, parts = pos, None
            if is_table:
                parts, pos = self._read_key(pos)
                pos = self._expect_equals(pos)
            items.append((parts, start, pos))
            pos = self._skip_value(pos)

    def _skip_string(self, pos: int) -> int:
        text = self._text
        for quotes in ('"""', "'''"):
            if text.startswith(quotes, pos):
                i = pos + 3
                while not text.startswith(quotes, i):
                    if i >= len(text):
                        raise ValueError("unterminated string")
                    i += 2 if quotes == '"""' and text[i] == "\\" else 1
                end = i + 3
                while end < len(text) and text[end] == quotes[0] and end - i < 5:
                    end += 1  # up to two quotes may end the content
                return end
        if text[pos] == '"':
            i = pos + 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            return i + 1
        return text.index("'", pos + 1) + 1


def _is_prefix(prefix: Key, path: Key) -> bool:
    return len(prefix) <= len(path) and path[: len(prefix)] == prefix
