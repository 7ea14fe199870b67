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
    GOLDEN_PATH_EVENTS,
    PROBE_KINDS,
    Comparison,
    CriterionSpec,
    Environment,
    EscalationSpec,
    GcpSettings,
    GoldenPathStep,
    Incident,
    ProbeSpec,
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

#: Keys of ``[[probes]]`` that belong to one kind of probe only.
HTTP_PROBE_KEYS = ("url", "method", "expect_status", "headers")
GOLDEN_PATH_PROBE_KEYS = (
    "login_url",
    "username",
    "password",
    "token_field",
    "websocket_url",
    "message",
    "events",
)

#: The newest workspace format this console reads (``format_version`` at the top of the file;
#: a file without it is format 1). Raise it only for a change an older console would misread.
WORKSPACE_FORMAT_VERSION = 1

#: The keys each table accepts ("" is the top level; "thresholds" is each metric's table).
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": (
        "incident",
        "simulation",
        "services",
        "golden_path",
        "thresholds",
        "probes",
        "criteria",
        "escalation",
        "gcp",
        "format_version",
    ),
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
    "gcp": ("project", "region", "credentials", "poll_interval", "backfill", "endpoints"),
    "gcp.endpoints": ("monitoring", "logging", "run", "vpcaccess"),
    "services": ("id", "name", "kind", "resource", "depends_on", "thresholds"),
    "golden_path": ("steps",),
    "golden_path.steps": ("service", "label"),
    "thresholds": ("degraded", "failing"),
    "probes": (
        "id",
        "name",
        "kind",
        "service",
        "interval",
        "timeout",
        "ca_file",
        *HTTP_PROBE_KEYS,
        *GOLDEN_PATH_PROBE_KEYS,
    ),
    "criteria": ("id", "title", "series", "probe", "services", "require", "sustain"),
    "escalation": ("id", "title", "after", "detail", "started_by", "unless", "snooze"),
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
    for count, singular, plural in (
        (len(workspace.probes), "probe", None),
        (len(workspace.criteria), "recovery criterion", "recovery criteria"),
        (len(workspace.escalations), "escalation timer", None),
    ):
        if count:
            parts.append(_plural(count, singular, plural))
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

    def unknown_service(
        self, key: Key, service_id: str, known: Iterable[str], *, prefix: str = "", at: Key = ()
    ) -> None:
        """Report ``service_id`` as none of the ``known`` services: the likely one, or the list."""
        known = list(known)
        suggestion = _suggest(service_id, known)
        self.problem(
            key,
            f"{prefix}unknown service {_quote(service_id)}"
            + ("" if suggestion else _service_list(known)),
            suggestion,
            at=at,
        )

    def invalid_id(self, key: Key, value: str) -> bool:
        """Report ``value`` unless it is a valid id (with a slug made of it to suggest); returns
        True when it was reported."""
        if _SLUG.fullmatch(value):
            return False
        slug = re.sub(r"[^a-z0-9_-]+", "-", value.strip().lower()).strip("-")
        self.problem(
            key,
            f"{_quote(value)} is not a valid id: use lowercase letters, digits, '-' and '_', "
            "starting with a letter",
            slug if _SLUG.fullmatch(slug) else None,
        )
        return True

    # the tables

    def workspace(self, data: dict, path: Path | None) -> Workspace | None:
        if not data:
            self.problem(
                (),
                "the workspace is empty: it needs [incident], [[services]] and [golden_path] "
                "(see docs/workspace.md)",
            )
            return None
        if not self.format_version(data):
            return None
        self.unknown_keys(data, (), KNOWN_KEYS[""])
        incident = self.incident(data)
        simulation = self.simulation(data)
        thresholds: dict[str, Threshold] = {}
        if "thresholds" in data:
            thresholds = self.thresholds(data["thresholds"], ("thresholds",), None)
        services, names = self.services(data)
        golden_path = self.golden_path(data, names)
        probes, criteria, escalations = check_workflow_tables(
            self, data, services, names, thresholds, demo=simulation is not None
        )
        gcp = check_gcp_table(self, data, incident)
        if self.problems or incident is None:
            return None
        return Workspace(
            incident=incident,
            services=services,
            golden_path=golden_path,
            thresholds=thresholds,
            simulation=simulation,
            path=path,
            probes=probes,
            criteria=criteria,
            escalations=escalations,
            gcp=gcp,
        )

    def format_version(self, data: dict) -> bool:
        """False when the file declares a format this console cannot read (then nothing else
        is checked: a newer format's keys would only read as a list of misspellings)."""
        if "format_version" not in data:
            return True
        value = data["format_version"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.problem(
                ("format_version",),
                f"must be a whole number such as {WORKSPACE_FORMAT_VERSION}, not "
                f"{_describe(value)}",
            )
            return False
        if value > WORKSPACE_FORMAT_VERSION:
            self.problem(
                ("format_version",),
                f"this workspace is written in format {value}, and this console reads formats "
                f"up to {WORKSPACE_FORMAT_VERSION}: upgrade Incident Console to open it",
            )
            return False
        return True

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

    def optional_table(self, data: dict, name: str) -> dict | None:
        """The optional top-level table ``[name]`` with unknown keys reported; None if absent."""
        if name not in data:
            return None
        table = self.table(data[name], (name,))
        if table is not None:
            self.unknown_keys(table, (name,), KNOWN_KEYS[name])
        return table

    def simulation(self, data: dict) -> SimulationSettings | None:
        path: Key = ("simulation",)
        table = self.optional_table(data, "simulation")
        if table is None:
            return None
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
        self.invalid_id(key, service_id)
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
                self.unknown_service(key, dep, first_index, prefix=f"{who} depends on ", at=at)
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
                self.unknown_service(id_path, service_id, names)
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


# --- the incident workflow: probes, recovery criteria, escalation timers ------------------------
# docs/workflow.md explains what these tables do; docs/workspace.md lists their keys.

#: How a timer may start: from the console by hand, when the session opens, or by an action.
TIMER_STARTS = ("hand", "open", "ScaleConnector", "ScaleService", "RouteTraffic")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
#: Limits of a probe's interval and timeout, and of sustain periods and timers (seconds).
PROBE_INTERVAL_RANGE = (1.0, 24 * 3600.0)
PROBE_TIMEOUT_RANGE = (0.1, 600.0)
MAX_SUSTAIN_S = 24 * 3600.0
MAX_TIMER_S = 7 * 24 * 3600.0
#: Header names whose values are credentials: they must be keyring references.
_SECRET_HEADER = re.compile(r"authori[sz]ation|cookie|token|secret|api[-_]?key|password", re.I)
_REQUIRE = re.compile(r"\s*(<=|>=|<|>|=<|=>|==|=)\s*(.*?)\s*")
_KEYRING_EXAMPLE = '"keyring:golden-path-user"'


def check_workflow_tables(
    checker: _Checker,
    data: dict,
    services: dict[str, Service],
    names: dict[str, str],
    thresholds: dict[str, Threshold],
    *,
    demo: bool,
) -> tuple[tuple[ProbeSpec, ...], tuple[CriterionSpec, ...], tuple[EscalationSpec, ...]]:
    """Validate ``[[probes]]``, ``[[criteria]]`` and ``[[escalation]]`` (each optional)."""
    probes = _check_probes(checker, data.get("probes"), names, demo=demo)
    criteria = _check_criteria(
        checker, data.get("criteria"), services, names, thresholds, probes, data.get("probes")
    )
    escalations = _check_escalations(checker, data.get("escalation"), criteria)
    return probes, criteria, escalations


def _entries(checker: _Checker, raw: object, table: str, what: str) -> list[tuple[int, dict]]:
    """The tables of an optional ``[[table]]`` array, each with its index."""
    if raw is None:
        return []
    path: Key = (table,)
    if isinstance(raw, dict):
        checker.problem(path, f"must be an array of tables: write each {what} under [[{table}]]")
        return []
    if not isinstance(raw, list):
        checker.problem(path, f"must be an array of [[{table}]] tables, not {_describe(raw)}")
        return []
    result = []
    for index, entry in enumerate(raw):
        table_value = checker.table(entry, (table, index), f" (a [[{table}]] entry)")
        if table_value is not None:
            checker.unknown_keys(table_value, (table, index), KNOWN_KEYS[table])
            result.append((index, table_value))
    return result


def _workflow_id(
    checker: _Checker,
    table: dict,
    path: Key,
    seen: dict[str, int],
    what: str,
    taken: Mapping[str, str] | None = None,
) -> str | None:
    value = checker.string(table, "id", path, required=True)
    if value is None:
        return None
    key = (*path, "id")
    if checker.invalid_id(key, value):
        return None
    if value in seen:
        checker.problem(key, f"duplicate {what} id {_quote(value)} (already [{seen[value]}])")
        return None
    if taken is not None and value in taken:
        checker.problem(
            key,
            f"{_quote(value)} is already a service id: a probe's series are named by its id, "
            "so give the probe its own (e.g. "
            f"{_quote(value + '-probe')})",
        )
        return None
    seen[value] = path[1] if isinstance(path[1], int) else 0
    return value


def _workflow_duration(
    checker: _Checker,
    table: dict,
    key: str,
    path: Key,
    *,
    default: float | None,
    low: float,
    high: float,
    example: str,
) -> float | None:
    """A duration key ("30s", "2h" or a number of seconds) within ``[low, high]``."""
    if key not in table:
        if default is None:
            checker.problem((*path, key), f"required key is missing (a duration such as {example})")
        return default
    raw = table[key]
    if isinstance(raw, str):
        try:
            seconds = parse_duration(raw)
        except ValueError as error:
            checker.problem((*path, key), str(error))
            return None
    elif _is_number(raw):
        seconds = _to_float(raw)
    else:
        checker.problem((*path, key), f"must be a duration such as {example}, not {_describe(raw)}")
        return None
    if not low <= seconds <= high:
        from console.durations import format_duration

        lowest = f"{low * 1000:g} ms" if low < 1 else format_duration(low)
        checker.problem(
            (*path, key),
            f"{_show(raw)} is out of range: from {lowest} to {format_duration(high)}",
        )
        return None
    return seconds


def _url(
    checker: _Checker, table: dict, key: str, path: Key, schemes: tuple[str, ...]
) -> str | None:
    from urllib.parse import urlsplit

    value = checker.string(table, key, path, required=True)
    if value is None:
        return None
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as error:
        checker.problem((*path, key), f"{_quote(value)} is not a valid URL: {error}")
        return None
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    if parts.scheme.lower() not in schemes:
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        suggestion = None
        if not parts.scheme and value.strip():
            suggestion = f"{schemes[-1]}://{value.strip()}"
        checker.problem(
            (*path, key), f"{_quote(value)} has {shown}: {key} must start with {wanted}", suggestion
        )
        return None
    if not parts.hostname:
        checker.problem((*path, key), f"{_quote(value)} names no host")
        return None
    return value.strip()


def _keyring_reference(checker: _Checker, value: str, path: Key, what: str) -> bool:
    from console.keyring_secrets import is_reference, reference_name

    if not is_reference(value):
        checker.problem(
            path,
            f"{what} must be a keyring reference such as {_KEYRING_EXAMPLE}, never the secret "
            "itself: store it with `keyring set incident-console NAME`",
        )
        return False
    try:
        reference_name(value)
    except ValueError as error:
        checker.problem(path, f"{_quote(value)} is {error}")
        return False
    return True


def _check_probes(
    checker: _Checker, raw: object, names: dict[str, str], *, demo: bool
) -> tuple[ProbeSpec, ...]:
    probes: list[ProbeSpec] = []
    seen: dict[str, int] = {}
    for index, table in _entries(checker, raw, "probes", "probe"):
        path: Key = ("probes", index)
        before = len(checker.problems)
        probe_id = _workflow_id(checker, table, path, seen, "probe", names)
        kind = checker.choice(table, "kind", path, PROBE_KINDS, what="probe kind", required=True)
        name = checker.string(table, "name", path, default=probe_id)
        service = checker.string(table, "service", path)
        if service is not None and service not in names:
            checker.unknown_service((*path, "service"), service, names)
        golden = kind == "golden_path"
        interval = _workflow_duration(
            checker,
            table,
            "interval",
            path,
            default=30.0,
            low=PROBE_INTERVAL_RANGE[0],
            high=PROBE_INTERVAL_RANGE[1],
            example='"30s"',
        )
        timeout = _workflow_duration(
            checker,
            table,
            "timeout",
            path,
            default=30.0 if golden else 10.0,
            low=PROBE_TIMEOUT_RANGE[0],
            high=PROBE_TIMEOUT_RANGE[1],
            example='"10s"',
        )
        ca_file = checker.string(table, "ca_file", path, default="")
        if kind is None:
            continue
        foreign = GOLDEN_PATH_PROBE_KEYS if kind == "http" else HTTP_PROBE_KEYS
        for key in foreign:
            if key in table:
                checker.problem((*path, key), f'only for kind = "{_other_kind(kind)}" probes')
        fields: dict[str, object] = {}
        if kind == "http":
            fields["url"] = _url(checker, table, "url", path, ("http", "https"))
            method = checker.string(table, "method", path, default="GET")
            if method is not None and method.upper() not in HTTP_METHODS:
                checker.problem(
                    (*path, "method"),
                    f"unknown HTTP method {_quote(method)}; use one of {', '.join(HTTP_METHODS)}",
                    _suggest(method.upper(), HTTP_METHODS),
                )
            fields["method"] = (method or "GET").upper()
            fields["expect_status"] = _expect_status(checker, table, path)
            fields["headers"] = _headers(checker, table, path)
            if demo and service is None:
                checker.problem(
                    (*path, "service"),
                    "required in a demo workspace: the simulated service that answers this probe",
                )
        else:
            fields["login_url"] = _url(checker, table, "login_url", path, ("http", "https"))
            fields["websocket_url"] = _url(checker, table, "websocket_url", path, ("ws", "wss"))
            fields["username"] = checker.string(table, "username", path, default="")
            password = checker.string(table, "password", path, default="")
            if password and _keyring_reference(
                checker, password, (*path, "password"), "the password"
            ):
                fields["password"] = password.strip()
            fields["token_field"] = checker.string(
                table, "token_field", path, default="access_token"
            )
            message = checker.string(table, "message", path)
            if message is not None:
                fields["message"] = message
            fields["events"] = _events(checker, table, path)
        if len(checker.problems) > before or probe_id is None or None in fields.values():
            continue
        probes.append(
            ProbeSpec(
                id=probe_id,
                name=name or probe_id,
                kind=kind,
                interval_s=interval,  # type: ignore[arg-type]
                timeout_s=timeout,  # type: ignore[arg-type]
                service=service,
                ca_file=ca_file or "",
                **fields,  # type: ignore[arg-type]
            )
        )
    return tuple(probes)


def _other_kind(kind: str) -> str:
    return "golden_path" if kind == "http" else "http"


def _expect_status(checker: _Checker, table: dict, path: Key) -> int | None:
    value = table.get("expect_status", 200)
    if isinstance(value, bool) or not isinstance(value, int):
        checker.problem(
            (*path, "expect_status"),
            f"must be an HTTP status code such as 200, not {_describe(value)}",
        )
        return None
    if not 100 <= value <= 599:
        checker.problem((*path, "expect_status"), f"{_show(value)} is not an HTTP status (100–599)")
        return None
    return value


def _headers(checker: _Checker, table: dict, path: Key) -> dict[str, str] | None:
    raw = table.get("headers", {})
    hpath = (*path, "headers")
    if not isinstance(raw, dict):
        checker.problem(
            hpath, f'must be a table such as {{ Accept = "text/html" }}, not {_describe(raw)}'
        )
        return None
    headers: dict[str, str] = {}
    good = True
    for name, value in raw.items():
        if not isinstance(value, str):
            checker.problem((*hpath, name), f"must be a string, not {_describe(value)}")
            good = False
        elif _SECRET_HEADER.search(name) or value.startswith("keyring:"):
            good &= _keyring_reference(checker, value, (*hpath, name), f"header {name!r}")
            headers[name] = value.strip()
        else:
            headers[name] = value
    return headers if good else None


def _events(checker: _Checker, table: dict, path: Key) -> tuple[str, ...] | None:
    if "events" not in table:
        return GOLDEN_PATH_EVENTS
    raw = table["events"]
    epath = (*path, "events")
    if not isinstance(raw, list) or not raw:
        checker.problem(
            epath,
            "must be a non-empty list of event names, e.g. "
            + json.dumps(list(GOLDEN_PATH_EVENTS[:2])),
        )
        return None
    events: list[str] = []
    for j, item in enumerate(raw):
        if not isinstance(item, str) or not item.strip():
            checker.problem((*epath, j), f"must be an event name, not {_describe(item)}")
            return None
        if item in events:
            checker.problem((*epath, j), f"{_quote(item)} is listed twice")
            return None
        events.append(item)
    return tuple(events)


def _check_criteria(
    checker: _Checker,
    raw: object,
    services: dict[str, Service],
    names: dict[str, str],
    thresholds: dict[str, Threshold],
    probes: tuple[ProbeSpec, ...],
    data_probes: object,
) -> tuple[CriterionSpec, ...]:
    criteria: list[CriterionSpec] = []
    seen: dict[str, int] = {}
    probe_by_id = {probe.id: probe for probe in probes}
    declared_probes = {
        entry["id"]
        for entry in (data_probes if isinstance(data_probes, list) else [])
        if isinstance(entry, dict) and isinstance(entry.get("id"), str)
    }
    for index, table in _entries(checker, raw, "criteria", "criterion"):
        path: Key = ("criteria", index)
        before = len(checker.problems)
        criterion_id = _workflow_id(checker, table, path, seen, "criterion")
        title = checker.string(table, "title", path, required=True)
        sustain = _workflow_duration(
            checker,
            table,
            "sustain",
            path,
            default=0.0,
            low=0.0,
            high=MAX_SUSTAIN_S,
            example='"10m"',
        )
        rules = [key for key in ("series", "probe", "services") if key in table]
        if len(rules) != 1:
            message = (
                'say what to measure: series = ["auth.latency_p95_ms"], probe = "golden-path" '
                'or services = ["auth", "backend"]'
                if not rules
                else f"give only one of {', '.join(rules)} (one rule per criterion)"
            )
            checker.problem(path if not rules else (*path, rules[1]), message)
            continue
        rule = rules[0]
        spec_fields: dict[str, object] = {}
        if rule == "services":
            spec_fields = _health_rule(checker, table, path, names)
        elif rule == "probe":
            spec_fields = _probe_rule(checker, table, path, probe_by_id, declared_probes)
        else:
            spec_fields = _series_rule(
                checker, table, path, services, names, thresholds, probe_by_id, declared_probes
            )
        if len(checker.problems) > before or criterion_id is None or title is None:
            continue
        criteria.append(
            CriterionSpec(id=criterion_id, title=title, sustain_s=sustain or 0.0, **spec_fields)  # type: ignore[arg-type]
        )
    return tuple(criteria)


def _health_rule(checker: _Checker, table: dict, path: Key, names: dict[str, str]) -> dict:
    ids = checker.service_ids(table, "services", path)
    if ids is None:
        return {}
    if not ids:
        checker.problem((*path, "services"), "list at least one service")
        return {}
    for j, sid in ids:
        if sid not in names:
            checker.unknown_service((*path, "services", j), sid, names)
    require = checker.string(table, "require", path, default="ok")
    if require is None:
        return {}
    normalized = " ".join(require.lower().split())
    if normalized not in ("ok", "not failing"):
        checker.problem(
            (*path, "require"),
            f'a services rule requires "ok" (no degradation) or "not failing", '
            f"not {_quote(require)}",
            _suggest(normalized, ("ok", "not failing")),
        )
        return {}
    return {"services": tuple(sid for _, sid in ids), "health": normalized, "require": normalized}


def _probe_rule(
    checker: _Checker,
    table: dict,
    path: Key,
    probe_by_id: dict[str, ProbeSpec],
    declared: set[str],
) -> dict:
    probe_id = checker.string(table, "probe", path)
    if probe_id is None:
        return {}
    if "require" in table:
        checker.problem(
            (*path, "require"),
            f'probe = {_quote(probe_id)} means "every run passes" and takes no require; for other '
            f'rules use series = ["{probe_id}.probe_latency_ms"]',
        )
        return {}
    if probe_id not in probe_by_id:
        if probe_id not in declared:
            choices = sorted(probe_by_id) or sorted(declared)
            suggestion = _suggest(probe_id, choices)
            listed = f"; the probes are {', '.join(choices)}" if choices and not suggestion else ""
            checker.problem(
                (*path, "probe"),
                f"unknown probe {_quote(probe_id)}"
                + (listed or ("" if suggestion else "; declare it under [[probes]]")),
                suggestion,
            )
        return {}
    return {
        "series": ((probe_id, "probe_success"),),
        "comparison": ">=",
        "limits": (1.0,),
        "require": "every run passes",
    }


def _series_rule(
    checker: _Checker,
    table: dict,
    path: Key,
    services: dict[str, Service],
    names: dict[str, str],
    thresholds: dict[str, Threshold],
    probe_by_id: dict[str, ProbeSpec],
    declared_probes: set[str],
) -> dict:
    raw = table["series"]
    spath = (*path, "series")
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        checker.problem(
            spath, 'must be a list of "service.metric" names, e.g. ["auth.latency_p95_ms"]'
        )
        return {}
    keys: list[tuple[str, str]] = []
    specs: list[MetricSpec] = []
    owners: list[Service | None] = []
    broken = False
    for j, item in enumerate(items):
        ipath = spath if isinstance(raw, str) else (*spath, j)
        if not isinstance(item, str):
            checker.problem(ipath, f'must be a "service.metric" name, not {_describe(item)}')
            broken = True
            continue
        owner, _, metric = item.strip().partition(".")
        if owner in services or owner in probe_by_id:
            available = (
                services[owner].metrics() if owner in services else probe_by_id[owner].metrics()
            )
            what = (
                f"service {_quote(owner)} ({services[owner].kind})"
                if owner in services
                else f"probe {_quote(owner)}"
            )
            if metric not in available:
                checker.problem(
                    ipath,
                    f"{what} has no series {_quote(metric)}; it has " + ", ".join(available),
                    f"{owner}.{s}" if (s := _suggest(metric, available)) else None,
                )
                broken = True
                continue
            keys.append((owner, metric))
            specs.append(available[metric])
            owners.append(services.get(owner))
        elif owner in names or owner in declared_probes:
            broken = True  # declared but invalid: its own problem is reported already
        else:
            choices = [*names, *probe_by_id]
            suggestion = _suggest(owner, choices)
            checker.problem(
                ipath,
                f"unknown series {_quote(item)}: no service or probe {_quote(owner)} "
                '(write "service.metric", e.g. "auth.latency_p95_ms")',
                f"{suggestion}.{metric}" if suggestion and metric else suggestion,
            )
            broken = True
    require = checker.string(table, "require", path, required=True, hint=' (e.g. "< 2 s")')
    if broken or require is None or not keys:
        return {}
    units = {spec.unit for spec in specs}
    if len(units) > 1:
        checker.problem(
            spath,
            "mixes units (" + ", ".join(sorted(units)) + "): one criterion compares "
            "series of one unit; split it into several criteria",
        )
        return {}
    rpath = (*path, "require")
    match = _REQUIRE.fullmatch(require)
    if match is None:
        checker.problem(
            rpath,
            f'{_quote(require)} is not a comparison: write an operator and a value, e.g. "< 2 s", '
            '">= 99%" or "< degraded" (below the metric\'s degraded threshold)',
        )
        return {}
    op, value = match.group(1), match.group(2)
    fixed = {"=<": "<=", "=>": ">="}.get(op)
    if fixed or op in ("=", "=="):
        checker.problem(
            rpath,
            f"use <, <=, > or >= (not {op!r}): equality of measured values is too brittle",
            f"{fixed} {value}" if fixed else f">= {value}",
        )
        return {}
    comparison: Comparison = op  # type: ignore[assignment]
    limits: list[float] = []
    if value.lower() in ("degraded", "failing"):
        for key, owner in zip(keys, owners, strict=True):
            threshold = None
            if owner is not None:
                threshold = owner.thresholds.get(key[1]) or (
                    thresholds.get(key[1]) if key[1] in owner.metrics() else None
                )
            limit = None if threshold is None else getattr(threshold, value.lower())
            if limit is None:
                checker.problem(
                    rpath,
                    f"{key[0]}.{key[1]} has no {value.lower()} threshold to compare with; "
                    "set one under [thresholds] or write a value",
                )
                return {}
            limits.append(limit)
    else:
        spec = specs[0]
        try:
            if spec.unit == "count":
                number = float(value)
                if not math.isfinite(number) or number < 0:
                    raise _BadValueError(f"{_quote(value)} must be a finite number, not negative")
                limit = number
            else:
                limit = _threshold_value(value, spec)
        except ValueError:
            checker.problem(rpath, f"{_quote(value)} is not a number; {spec.name} counts")
            return {}
        except _BadValueError as bad:
            checker.problem(
                rpath, bad.message, f"{op} {bad.suggestion}" if bad.suggestion else None
            )
            return {}
        limits = [limit] * len(keys)
    impossible = _impossible(comparison, limits, specs, keys, probe_by_id)
    if impossible:
        checker.problem(rpath, f"{_quote(require)} can never be met: {impossible}")
        return {}
    return {
        "series": tuple(keys),
        "comparison": comparison,
        "limits": tuple(limits),
        "require": " ".join(require.split()),
    }


def _impossible(
    comparison: str,
    limits: list[float],
    specs: list[MetricSpec],
    keys: list[tuple[str, str]],
    probe_by_id: dict[str, ProbeSpec],
) -> str:
    """Why a comparison can never hold (values are never negative, fractions never above 100%,
    a probe never counts more events than it expects), or ""."""
    for limit, spec, key in zip(limits, specs, keys, strict=True):
        if comparison == "<" and limit <= 0:
            return f"{spec.name} is never below 0"
        ceiling = None
        if spec.unit == "fraction":
            ceiling = 1.0
        elif spec.name == "probe_events" and key[0] in probe_by_id:
            ceiling = float(len(probe_by_id[key[0]].events))
        if ceiling is None:
            continue
        if (comparison == ">" and limit >= ceiling) or (comparison == ">=" and limit > ceiling):
            shown = f"{ceiling * 100:g}%" if spec.unit == "fraction" else f"{ceiling:g}"
            return f"{key[0]}.{key[1]} is never above {shown}"
    return ""


def _check_escalations(
    checker: _Checker, raw: object, criteria: tuple[CriterionSpec, ...]
) -> tuple[EscalationSpec, ...]:
    timers: list[EscalationSpec] = []
    seen: dict[str, int] = {}
    criterion_ids = [c.id for c in criteria]
    for index, table in _entries(checker, raw, "escalation", "escalation timer"):
        path: Key = ("escalation", index)
        before = len(checker.problems)
        timer_id = _workflow_id(checker, table, path, seen, "escalation timer")
        title = checker.string(table, "title", path, required=True)
        detail = checker.string(table, "detail", path, default="", allow_empty=True)
        after = _workflow_duration(
            checker, table, "after", path, default=None, low=1.0, high=MAX_TIMER_S, example='"2h"'
        )
        snooze = _workflow_duration(
            checker,
            table,
            "snooze",
            path,
            default=900.0,
            low=1.0,
            high=MAX_TIMER_S,
            example='"15m"',
        )
        started_by = checker.choice(
            table, "started_by", path, TIMER_STARTS, what="start", default="hand"
        )
        unless = checker.string(table, "unless", path)
        if unless is not None and unless not in criterion_ids:
            suggestion = _suggest(unless, criterion_ids)
            listed = f"; the criteria are {', '.join(criterion_ids)}" if criterion_ids else ""
            checker.problem(
                (*path, "unless"),
                f"unknown criterion {_quote(unless)}" + ("" if suggestion else listed),
                suggestion,
            )
        if len(checker.problems) > before or None in (timer_id, title, after, started_by):
            continue
        timers.append(
            EscalationSpec(
                id=timer_id,  # type: ignore[arg-type]
                title=title,  # type: ignore[arg-type]
                after_s=after,  # type: ignore[arg-type]
                detail=detail or "",
                started_by=started_by,  # type: ignore[arg-type]
                unless=unless,
                snooze_s=snooze or 900.0,
            )
        )
    return tuple(timers)


def check_secrets(workspace: Workspace) -> list[ConfigProblem]:
    """Problems with the keyring references of the workspace's probes: each must resolve.

    ``check-config`` calls this; loading a workspace does not (a review laptop opens snapshots
    without the secrets). Demo workspaces are skipped: the simulation answers their probes.
    """
    if workspace.is_demo or not workspace.probes:
        return []
    from console.keyring_secrets import SecretUnavailableError, resolve_reference

    file = str(workspace.path) if workspace.path is not None else "<workspace>"
    locator: _Locator | None = None
    if workspace.path is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            locator = _Locator(workspace.path.read_bytes().decode("utf-8-sig"))
    problems: list[ConfigProblem] = []
    for index, probe in enumerate(workspace.probes):
        for key, reference in probe.secret_references().items():
            try:
                resolve_reference(reference)
            except SecretUnavailableError as error:
                path: Key = ("probes", index, *key.split("."))
                line = locator.line_for(path) if locator is not None else None
                problems.append(
                    ConfigProblem(file, _render_key(path), line, f"secret missing: {error}")
                )
    return problems


# --- [gcp]: live data from Google Cloud ----------------------------------------------------------
# docs/google-cloud.md explains the sources; docs/workspace.md lists the keys.

_GCP_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
#: Monitoring polls: faster than 10 s is pointless (data is sampled every 60 s), slower than an
#: hour leaves the charts empty.
GCP_POLL_RANGE = (10.0, 3600.0)
GCP_BACKFILL_RANGE = (0.0, 24 * 3600.0)


def check_gcp_table(checker: _Checker, data: dict, incident: Incident | None) -> GcpSettings | None:
    """Validate the optional ``[gcp]`` table into ``GcpSettings``."""
    from console.gcp.clients import EndpointError, parse_endpoint

    path: Key = ("gcp",)
    table = checker.optional_table(data, "gcp")
    if table is None:
        return None
    defaults = GcpSettings()
    project = checker.string(table, "project", path, default="", allow_empty=True)
    region = checker.string(table, "region", path, default="", allow_empty=True)
    credentials = checker.string(table, "credentials", path, default="", allow_empty=True)
    if project and not _GCP_PROJECT.fullmatch(project):
        checker.problem(
            (*path, "project"),
            f"{_quote(project)} is not a Google Cloud project id (6–30 lowercase letters, digits "
            "and hyphens, starting with a letter)",
        )
    effective_project = project or (incident.project if incident else "")
    effective_region = region or (incident.region if incident else "")
    if incident is not None and not effective_project:
        checker.problem(
            path, "no project: set project in [gcp] or in [incident] (the project id, not its name)"
        )
    if incident is not None and not effective_region:
        checker.problem(
            path, 'no region: set region in [gcp] or in [incident] (e.g. "us-central1")'
        )
    if credentials:
        from console.keyring_secrets import is_reference, reference_name

        if not is_reference(credentials):
            checker.problem(
                (*path, "credentials"),
                'must name a key in the OS keyring, such as "keyring:gcp-credentials" (store one '
                "with `incident-console credentials import KEY.json`), never the key itself",
            )
        else:
            try:
                reference_name(credentials)
            except ValueError as error:
                checker.problem((*path, "credentials"), f"{_quote(credentials)} is {error}")
    poll = _workflow_duration(
        checker,
        table,
        "poll_interval",
        path,
        default=defaults.poll_interval_s,
        low=GCP_POLL_RANGE[0],
        high=GCP_POLL_RANGE[1],
        example='"60s"',
    )
    backfill = _workflow_duration(
        checker,
        table,
        "backfill",
        path,
        default=defaults.backfill_s,
        low=GCP_BACKFILL_RANGE[0],
        high=GCP_BACKFILL_RANGE[1],
        example='"1h"',
    )
    endpoints = {
        "monitoring": defaults.monitoring_endpoint,
        "logging": defaults.logging_endpoint,
        "run": defaults.run_endpoint,
        "vpcaccess": defaults.vpcaccess_endpoint,
    }
    if "endpoints" in table:
        end_path: Key = (*path, "endpoints")
        end_table = checker.table(table["endpoints"], end_path)
        if end_table is not None:
            checker.unknown_keys(end_table, end_path, KNOWN_KEYS["gcp.endpoints"])
            for api in endpoints:
                value = checker.string(end_table, api, end_path)
                if value is None:
                    continue
                try:
                    parse_endpoint(value)
                except EndpointError as error:
                    checker.problem((*end_path, api), str(error))
                    continue
                endpoints[api] = value.strip()
    if None in (project, region, credentials, poll, backfill):
        return None
    assert poll is not None and backfill is not None
    return GcpSettings(
        project=project or "",
        region=region or "",
        credentials=credentials or "",
        poll_interval_s=poll,
        backfill_s=backfill,
        monitoring_endpoint=endpoints["monitoring"],
        logging_endpoint=endpoints["logging"],
        run_endpoint=endpoints["run"],
        vpcaccess_endpoint=endpoints["vpcaccess"],
    )
