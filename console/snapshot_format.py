"""The ``.incident`` file format: schema versions, the writer of the current version, and one
reader per version ever written.

An ``.incident`` file is one SQLite database. Its header carries ``PRAGMA application_id`` =
``APPLICATION_ID`` (the bytes ``INCI``), which tells our files from any other SQLite file, and
``PRAGMA user_version`` = the format version it was written in. ``docs/snapshot-format.md``
documents every table; keep the two in step.

Versioning rules (glue's habit: one loader per session-file version, old files kept as test
fixtures):

- ``FORMAT_VERSION`` is what this console writes. ``SnapshotWriter`` only ever writes that version.
- ``READERS`` maps every version ever released to its reader class. A reader is never deleted or
  changed in a way that breaks its fixture (``tests/fixtures/snapshot-vN.incident``).
- To add version 2: write ``SCHEMA_V2`` beside ``SCHEMA_V1``, a ``ReaderV2`` (usually a subclass of
  ``ReaderV1`` overriding only what changed), register it in ``READERS``, point ``SnapshotWriter``
  at the new schema, bump ``FORMAT_VERSION``, and commit a ``snapshot-v2.incident`` fixture.
  Version 1 files keep loading through ``ReaderV1``.

This module also decides what of a workspace may enter a file: its TOML text and a JSON rendering
of the model, with anything named like a credential removed (``strip_credentials``).

No Qt here, no threads: the flight recorder (``console.recorder``) drives ``SnapshotWriter`` from
its writer thread; ``console.snapshot`` opens files through ``READERS``.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from console.metrics import metric_spec
from console.sources import LogEntry, SeriesKey, SourceStatus
from console.timeline import TimelineEntry
from console.workspace import (
    GoldenPathStep,
    Incident,
    Service,
    SimulationSettings,
    Threshold,
    Workspace,
)

#: The format version this console writes.
FORMAT_VERSION = 1
#: ``PRAGMA application_id`` of every ``.incident`` file: the ASCII bytes ``INCI``.
APPLICATION_ID = int.from_bytes(b"INCI", "big")
#: The usual file name suffix.
SUFFIX = ".incident"

# -- records stored beside the series --------------------------------------------------------------


@dataclass(frozen=True)
class RecordedSourceStatus:
    """A source's status as it changed at time ``t``."""

    t: float
    status: SourceStatus


@dataclass(frozen=True)
class ResourceState:
    """The observed configuration of a cloud resource at time ``t`` (e.g. a connector's min/max
    instances, a Cloud Run service's revision and traffic split), as a JSON-serialisable dict."""

    t: float
    service: str
    resource: str
    state: dict[str, Any]


# -- schema ----------------------------------------------------------------------------------------

#: Version 1, frozen: never edit these statements; write SCHEMA_V2 instead.
SCHEMA_V1: tuple[str, ...] = (
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE workspace (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        toml TEXT NOT NULL,
        model_json TEXT NOT NULL,
        file_name TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        service TEXT NOT NULL,
        metric TEXT NOT NULL,
        unit TEXT NOT NULL DEFAULT '',
        UNIQUE (service, metric)
    )""",
    """CREATE TABLE samples (
        series_id INTEGER NOT NULL REFERENCES series (id),
        t REAL NOT NULL,
        v REAL,
        PRIMARY KEY (series_id, t)
    ) WITHOUT ROWID""",
    """CREATE TABLE logs (
        id INTEGER PRIMARY KEY,
        t REAL NOT NULL,
        service TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        status INTEGER,
        latency_ms REAL,
        revision TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX logs_by_time ON logs (t)",
    """CREATE TABLE source_status (
        id INTEGER PRIMARY KEY,
        t REAL NOT NULL,
        source TEXT NOT NULL,
        state TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        expected_delay_s REAL NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE resource_states (
        id INTEGER PRIMARY KEY,
        t REAL NOT NULL,
        service TEXT NOT NULL,
        resource TEXT NOT NULL,
        state_json TEXT NOT NULL
    )""",
    """CREATE TABLE timeline (
        id INTEGER PRIMARY KEY,
        t REAL NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        fields_json TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX timeline_by_time ON timeline (t)",
)

#: The tables a file of each version must have (a quick sanity check when opening).
REQUIRED_TABLES: dict[int, frozenset[str]] = {
    1: frozenset(
        {"meta", "workspace", "series", "samples", "logs", "source_status", "resource_states"}
        | {"timeline"}
    ),
}

#: ``meta.closed``: how the writer left the file.
CLOSED_OPEN, CLOSED_CLEAN, CLOSED_RECOVERED = "open", "clean", "recovered"


# -- what of a workspace may be stored -------------------------------------------------------------

#: Key names that look like a credential: never written into a snapshot.
CREDENTIAL_KEY = re.compile(
    r"secret|token|passw(or)?d|credential|key_?file|api_?key|private_?key|auth_?header",
    re.IGNORECASE,
)

_TOML_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_TOML_KEY_VALUE = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=\s*(.*)$")
_INLINE_PAIR = re.compile(
    r"""(?P<key>[A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*=\s*"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^,}\]]*)\s*,?\s*"""
)


def _is_credential_key(dotted: str) -> bool:
    return any(CREDENTIAL_KEY.search(part.strip("\"' ")) for part in dotted.split("."))


def strip_credentials(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, scalars) without any key named like a credential."""
    if isinstance(value, Mapping):
        return {
            k: strip_credentials(v)
            for k, v in value.items()
            if not (isinstance(k, str) and _is_credential_key(k))
        }
    if isinstance(value, list | tuple):
        return [strip_credentials(v) for v in value]
    return value


def strip_credentials_from_toml(text: str) -> str:
    """TOML ``text`` without keys or tables named like a credential (a defence: the workspace
    format has none today). Works line by line, so comments and layout survive; a removed
    multi-line value is removed whole."""
    out: list[str] = []
    skipping_table = False
    open_multiline: str | None = None
    for line in text.splitlines(keepends=True):
        if open_multiline is not None:
            if open_multiline in line:
                open_multiline = None
            continue
        header = _TOML_HEADER.match(line)
        if header:
            skipping_table = _is_credential_key(header.group(1))
            if skipping_table:
                continue
            out.append(line)
            continue
        if skipping_table:
            continue
        pair = _TOML_KEY_VALUE.match(line)
        if pair and _is_credential_key(pair.group(1)):
            value = pair.group(2).strip()
            for quotes in ('"""', "'''"):
                if value.startswith(quotes) and value.count(quotes) == 1:
                    open_multiline = quotes
            continue
        if "{" in line and CREDENTIAL_KEY.search(line):
            line = _strip_inline_pairs(line)
        out.append(line)
    return "".join(out)


def _strip_inline_pairs(line: str) -> str:
    """Drop ``key = value`` pairs named like a credential inside inline tables on one line."""

    def replace(match: re.Match[str]) -> str:
        return "" if _is_credential_key(match.group("key")) else match.group(0)

    head, brace, rest = line.partition("{")
    return head + brace + _INLINE_PAIR.sub(replace, rest)


def workspace_to_json(workspace: Workspace) -> str:
    """A JSON rendering of the workspace model, credentials stripped, path reduced to a name."""
    model = dataclasses.asdict(workspace)
    model["path"] = workspace.path.name if workspace.path is not None else None
    return json.dumps(strip_credentials(model), ensure_ascii=False, default=str)


def workspace_from_json(text: str) -> Workspace:
    """Rebuild a ``Workspace`` from ``workspace_to_json`` output (the fallback when the stored
    TOML no longer validates, e.g. under a stricter future parser). Raises ``ValueError``."""
    try:
        data = json.loads(text)
        incident = Incident(**data["incident"])
        services = {}
        for sid, raw in data["services"].items():
            raw = dict(raw)
            raw["depends_on"] = tuple(raw.get("depends_on", ()))
            raw["thresholds"] = {m: Threshold(**t) for m, t in raw.get("thresholds", {}).items()}
            services[sid] = Service(**raw)
        steps = tuple(GoldenPathStep(**step) for step in data["golden_path"])
        thresholds = {m: Threshold(**t) for m, t in data.get("thresholds", {}).items()}
        simulation = data.get("simulation")
        return Workspace(
            incident=incident,
            services=services,
            golden_path=steps,
            thresholds=thresholds,
            simulation=SimulationSettings(**simulation) if simulation is not None else None,
            path=None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"the stored workspace model is unreadable: {exc}") from exc


def render_workspace_toml(workspace: Workspace) -> str:
    """TOML text for a workspace that has no file (built in code): numbers in base units."""

    def string(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    def limits(threshold: Threshold) -> str:
        parts = [
            f"{name} = {value!r}"
            for name, value in (("degraded", threshold.degraded), ("failing", threshold.failing))
            if value is not None
        ]
        return "{ " + ", ".join(parts) + " }"

    incident = workspace.incident
    lines = ["[incident]", f"title = {string(incident.title)}"]
    lines.append(f"environment = {string(incident.environment)}")
    for name in ("project", "region", "reference"):
        if getattr(incident, name):
            lines.append(f"{name} = {string(getattr(incident, name))}")
    if incident.started_at is not None:
        started = datetime.fromtimestamp(incident.started_at, UTC).isoformat()
        lines.append(f"started_at = {string(started.replace('+00:00', 'Z'))}")
    if incident.read_only:
        lines.append("read_only = true")
    if workspace.simulation is not None:
        lines += ["", "[simulation]", f"seed = {workspace.simulation.seed}"]
        lines.append(f"history = {workspace.simulation.history_s!r}")
    for service in workspace.services.values():
        lines += ["", "[[services]]", f"id = {string(service.id)}"]
        lines += [f"name = {string(service.name)}", f"kind = {string(service.kind)}"]
        lines.append(f"resource = {string(service.resource)}")
        if service.depends_on:
            lines.append(f"depends_on = [{', '.join(string(d) for d in service.depends_on)}]")
        if service.thresholds:
            lines.append("[services.thresholds]")
            lines += [f"{m} = {limits(t)}" for m, t in service.thresholds.items()]
    steps = ", ".join(
        f"{{ service = {string(s.service)}, label = {string(s.label)} }}"
        for s in workspace.golden_path
    )
    lines += ["", "[golden_path]", f"steps = [{steps}]"]
    if workspace.thresholds:
        lines += ["", "[thresholds]"]
        lines += [f"{m} = {limits(t)}" for m, t in workspace.thresholds.items()]
    return "\n".join(lines) + "\n"


def unit_of(workspace: Workspace | None, key: SeriesKey) -> str:
    """The unit of series ``key`` per the canonical metrics, or "" when unknown."""
    if workspace is None or key[0] not in workspace.services:
        return ""
    spec = metric_spec(workspace.services[key[0]].kind, key[1])
    return spec.unit if spec is not None else ""


# -- writing (current version only) ----------------------------------------------------------------


def _optional_float(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


class SnapshotWriter:
    """Writes the current format version into an open SQLite connection.

    Transactions belong to the caller (the recorder commits every second, ``save_snapshot`` once):
    ``begin`` starts one if none is open, ``commit`` ends it. The connection must have been opened
    with ``isolation_level=None``. Not thread-safe: one writer thread owns it.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self._series_ids: dict[SeriesKey, int] = {}
        self.time_start: float | None = None
        self.time_end: float | None = None

    # structure

    def create(self, meta: Mapping[str, str], *, journal_mode: str = "DELETE") -> None:
        """Stamp the header, create the schema and write ``meta`` (in one transaction).

        The header (application id, format version) is written first, in rollback-journal mode,
        so that even a file killed during its first second is recognisable; then the journal mode
        switches to ``journal_mode`` (``WAL`` for a live recording).
        """
        con = self.connection
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
        con.execute("BEGIN")
        for statement in SCHEMA_V1:
            con.execute(statement)
        self.set_meta({"format_version": str(FORMAT_VERSION), **meta})
        con.execute("COMMIT")
        if journal_mode.upper() != "DELETE":
            con.execute(f"PRAGMA journal_mode = {journal_mode}")

    def begin(self) -> None:
        """Open a transaction unless one is open."""
        if not self.connection.in_transaction:
            self.connection.execute("BEGIN")

    def commit(self) -> None:
        """Record the time range and commit the open transaction, if any."""
        if not self.connection.in_transaction:
            return
        if self.time_start is not None and self.time_end is not None:
            self.set_meta({"time_start": repr(self.time_start), "time_end": repr(self.time_end)})
        self.connection.execute("COMMIT")

    # content

    def set_meta(self, values: Mapping[str, str]) -> None:
        """Insert or replace ``meta`` rows."""
        self.connection.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, str(v)) for k, v in values.items()],
        )

    def write_workspace(self, toml_text: str, model_json: str, file_name: str = "") -> None:
        """Store the workspace (credentials stripped from both renderings)."""
        model = strip_credentials(json.loads(model_json))
        self.connection.execute(
            "INSERT OR REPLACE INTO workspace (id, toml, model_json, file_name)"
            " VALUES (1, ?, ?, ?)",
            (
                strip_credentials_from_toml(toml_text),
                json.dumps(model, ensure_ascii=False),
                file_name,
            ),
        )

    def _series_id(self, key: SeriesKey, unit: str) -> int:
        series_id = self._series_ids.get(key)
        if series_id is None:
            con = self.connection
            con.execute(
                "INSERT OR IGNORE INTO series (service, metric, unit) VALUES (?, ?, ?)",
                (key[0], key[1], unit),
            )
            row = con.execute(
                "SELECT id FROM series WHERE service = ? AND metric = ?", key
            ).fetchone()
            series_id = self._series_ids[key] = int(row[0])
        return series_id

    def _extend_range(self, t_min: float, t_max: float) -> None:
        if self.time_start is None or t_min < self.time_start:
            self.time_start = t_min
        if self.time_end is None or t_max > self.time_end:
            self.time_end = t_max

    def append_samples(
        self, key: SeriesKey, timestamps: np.ndarray, values: np.ndarray, unit: str = ""
    ) -> int:
        """Append samples of one series (NaN is stored as NULL); returns how many."""
        return self.append_series({key: (timestamps, values)}, {key: unit})

    def append_series(
        self,
        samples: Mapping[SeriesKey, tuple[np.ndarray, np.ndarray]],
        units: Mapping[SeriesKey, str] | None = None,
    ) -> int:
        """Append samples of many series in one statement (NaN stored as NULL); returns how
        many. One ``executemany`` for everything keeps the writer thread's Python work small."""
        rows: list[Iterable[tuple[int, float, float | None]]] = []
        count = 0
        for key, (timestamps, values) in samples.items():
            series_id = self._series_id(key, (units or {}).get(key, ""))
            n = len(timestamps)
            if n == 0:
                continue
            ts_array = np.asarray(timestamps, dtype=np.float64)
            vs_array = np.asarray(values, dtype=np.float64)
            ts = ts_array.tolist()
            vs = vs_array.tolist()
            if np.isnan(vs_array).any():
                vs = [None if v != v else v for v in vs]
            rows.append(zip(itertools.repeat(series_id, n), ts, vs, strict=True))
            self._extend_range(ts[0], ts[-1])
            count += n
        if rows:
            self.connection.executemany(
                "INSERT OR REPLACE INTO samples (series_id, t, v) VALUES (?, ?, ?)",
                itertools.chain.from_iterable(rows),
            )
        return count

    def append_logs(self, entries: Sequence[LogEntry]) -> None:
        """Append log entries."""
        if not entries:
            return
        self.connection.executemany(
            "INSERT INTO logs (t, service, severity, message, status, latency_ms, revision)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.t,
                    e.service,
                    e.severity,
                    e.message,
                    e.status,
                    _optional_float(e.latency_ms),
                    e.revision,
                )
                for e in entries
            ],
        )
        self._extend_range(min(e.t for e in entries), max(e.t for e in entries))

    def append_source_statuses(self, statuses: Sequence[RecordedSourceStatus]) -> None:
        """Append source status changes."""
        self.connection.executemany(
            "INSERT INTO source_status (t, source, state, message, expected_delay_s)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (r.t, r.status.name, r.status.state, r.status.message, r.status.expected_delay_s)
                for r in statuses
            ],
        )

    def append_resource_states(self, states: Sequence[ResourceState]) -> None:
        """Append observed resource states (credentials stripped)."""
        self.connection.executemany(
            "INSERT INTO resource_states (t, service, resource, state_json) VALUES (?, ?, ?, ?)",
            [(s.t, s.service, s.resource, _json(strip_credentials(s.state))) for s in states],
        )

    def append_timeline(self, entries: Sequence[TimelineEntry]) -> None:
        """Append timeline entries (credentials stripped from their fields)."""
        self.connection.executemany(
            "INSERT INTO timeline (t, kind, text, fields_json) VALUES (?, ?, ?, ?)",
            [(e.t, e.kind, e.text, _json(strip_credentials(e.fields))) for e in entries],
        )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


# -- reading (one class per version) ---------------------------------------------------------------


def _time_clause(t0: float | None, t1: float | None, column: str = "t") -> tuple[str, list[float]]:
    clauses, params = [], []
    if t0 is not None:
        clauses.append(f"{column} >= ?")
        params.append(float(t0))
    if t1 is not None:
        clauses.append(f"{column} <= ?")
        params.append(float(t1))
    return (" AND ".join(clauses) or "1"), params


class ReaderV1:
    """Reads a version 1 file from an open (read-only) connection.

    Methods raise ``sqlite3.DatabaseError`` on a damaged file; ``console.snapshot`` turns that into
    one clear line. Later readers subclass this and override what their version changed.
    """

    version = 1

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self._series_ids: dict[SeriesKey, int] | None = None
        self._units: dict[SeriesKey, str] = {}

    def tables(self) -> set[str]:
        """Names of the tables in the file."""
        rows = self.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}

    def meta(self) -> dict[str, str]:
        """The ``meta`` table as a dict."""
        return dict(self.connection.execute("SELECT key, value FROM meta").fetchall())

    def workspace_texts(self) -> tuple[str, str, str]:
        """``(toml, model_json, file_name)`` of the stored workspace."""
        row = self.connection.execute(
            "SELECT toml, model_json, file_name FROM workspace WHERE id = 1"
        ).fetchone()
        if row is None:
            raise sqlite3.DatabaseError("the file holds no workspace")
        return row[0], row[1], row[2]

    def _ids(self) -> dict[SeriesKey, int]:
        if self._series_ids is None:
            rows = self.connection.execute(
                "SELECT id, service, metric, unit FROM series ORDER BY id"
            ).fetchall()
            self._series_ids = {(s, m): i for i, s, m, _ in rows}
            self._units = {(s, m): u for _, s, m, u in rows}
        return self._series_ids

    def series_keys(self) -> list[SeriesKey]:
        """Every series, in the order first recorded."""
        return list(self._ids())

    def unit(self, key: SeriesKey) -> str:
        """The recorded unit of ``key`` ("" when unknown)."""
        self._ids()
        return self._units.get(key, "")

    def series(
        self, key: SeriesKey, t0: float | None = None, t1: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Samples of ``key`` with ``t0 <= t <= t1``, ascending; NULL values become NaN."""
        series_id = self._ids().get(key)
        if series_id is None:
            empty = np.empty(0, dtype=np.float64)
            return empty, empty.copy()
        where, params = _time_clause(t0, t1)
        rows = self.connection.execute(
            f"SELECT t, v FROM samples WHERE series_id = ? AND {where} ORDER BY t",
            [series_id, *params],
        ).fetchall()
        if not rows:
            empty = np.empty(0, dtype=np.float64)
            return empty, empty.copy()
        data = np.array(rows, dtype=np.float64)  # None -> nan
        return np.ascontiguousarray(data[:, 0]), np.ascontiguousarray(data[:, 1])

    def sample_range(self) -> tuple[float, float] | None:
        """Oldest and newest sample time over all series (uses the primary key per series)."""
        lows, highs = [], []
        for series_id in self._ids().values():
            row = self.connection.execute(
                "SELECT min(t), max(t) FROM samples WHERE series_id = ?", (series_id,)
            ).fetchone()
            if row[0] is not None:
                lows.append(row[0])
                highs.append(row[1])
        return (min(lows), max(highs)) if lows else None

    # Reads for the review window: each is one index seek or one range scan of one series, so
    # scrubbing a day-long file never reads all of it.

    def value_at(self, key: SeriesKey, t: float) -> tuple[float, float] | None:
        """The newest sample of ``key`` at or before ``t`` (a NULL value reads as NaN), or None."""
        series_id = self._ids().get(key)
        if series_id is None:
            return None
        row = self.connection.execute(
            "SELECT t, v FROM samples WHERE series_id = ? AND t <= ? ORDER BY t DESC LIMIT 1",
            (series_id, float(t)),
        ).fetchone()
        if row is None:
            return None
        return float(row[0]), math.nan if row[1] is None else float(row[1])

    def data_span(
        self, key: SeriesKey, t0: float | None = None, t1: float | None = None
    ) -> tuple[float, float] | None:
        """The first and last sample time of ``key`` within ``[t0, t1]``, or None."""
        series_id = self._ids().get(key)
        if series_id is None:
            return None
        low = -math.inf if t0 is None else float(t0)
        high = math.inf if t1 is None else float(t1)
        row = self.connection.execute(
            "SELECT (SELECT t FROM samples WHERE series_id = ?1 AND t >= ?2 AND t <= ?3"
            " ORDER BY t LIMIT 1), (SELECT t FROM samples WHERE series_id = ?1 AND t >= ?2"
            " AND t <= ?3 ORDER BY t DESC LIMIT 1)",
            (series_id, low, high),
        ).fetchone()
        return None if row[0] is None else (float(row[0]), float(row[1]))

    def first_times(self, key: SeriesKey, count: int) -> np.ndarray:
        """The times of the first ``count`` samples of ``key`` (to estimate its spacing)."""
        series_id = self._ids().get(key)
        if series_id is None:
            return np.empty(0, dtype=np.float64)
        rows = self.connection.execute(
            "SELECT t FROM samples WHERE series_id = ? ORDER BY t LIMIT ?", (series_id, count)
        ).fetchall()
        return np.array([t for (t,) in rows], dtype=np.float64)

    def bucket_extremes(
        self,
        key: SeriesKey,
        origin: float,
        bucket_s: float,
        t0: float | None = None,
        t1: float | None = None,
    ) -> np.ndarray:
        """Per bucket of ``bucket_s`` seconds counted from ``origin``, in time order, one row
        ``(first t, last t, min v, max v)`` of ``key``'s samples in ``[t0, t1]`` (an array of
        shape (n, 4); a bucket of only gaps has NaN extremes; empty buckets are absent).
        SQLite aggregates, so only the summary crosses into Python."""
        series_id = self._ids().get(key)
        if series_id is None:
            return np.empty((0, 4), dtype=np.float64)
        where, params = _time_clause(t0, t1)
        rows = self.connection.execute(
            "SELECT min(t), max(t), min(v), max(v) FROM samples"
            f" WHERE series_id = ? AND {where} GROUP BY CAST((t - ?) / ? AS INTEGER) ORDER BY 1",
            [series_id, *params, float(origin), float(bucket_s)],
        ).fetchall()
        if not rows:
            return np.empty((0, 4), dtype=np.float64)
        return np.array(rows, dtype=np.float64)  # None -> nan

    def log_times(self) -> np.ndarray:
        """The time of every log entry, ascending (an index for paging through logs)."""
        rows = self.connection.execute("SELECT t FROM logs ORDER BY t").fetchall()
        return np.array([t for (t,) in rows], dtype=np.float64)

    def logs(self, t0: float | None = None, t1: float | None = None) -> list[LogEntry]:
        """Log entries with ``t0 <= t <= t1`` in time order."""
        where, params = _time_clause(t0, t1)
        rows = self.connection.execute(
            "SELECT t, service, severity, message, status, latency_ms, revision FROM logs"
            f" WHERE {where} ORDER BY t, id",
            params,
        )
        return [LogEntry(*row) for row in rows]

    def source_statuses(
        self, t0: float | None = None, t1: float | None = None
    ) -> list[RecordedSourceStatus]:
        """Source status changes in time order."""
        where, params = _time_clause(t0, t1)
        rows = self.connection.execute(
            "SELECT t, source, state, message, expected_delay_s FROM source_status"
            f" WHERE {where} ORDER BY t, id",
            params,
        )
        return [RecordedSourceStatus(t, SourceStatus(s, st, m, d)) for t, s, st, m, d in rows]

    def resource_states(
        self, t0: float | None = None, t1: float | None = None
    ) -> list[ResourceState]:
        """Observed resource states in time order."""
        where, params = _time_clause(t0, t1)
        rows = self.connection.execute(
            "SELECT t, service, resource, state_json FROM resource_states"
            f" WHERE {where} ORDER BY t, id",
            params,
        )
        return [ResourceState(t, s, r, json.loads(j)) for t, s, r, j in rows]

    def timeline(self, t0: float | None = None, t1: float | None = None) -> list[TimelineEntry]:
        """Timeline entries in time order."""
        where, params = _time_clause(t0, t1)
        rows = self.connection.execute(
            f"SELECT t, kind, text, fields_json FROM timeline WHERE {where} ORDER BY t, id",
            params,
        )
        return [TimelineEntry(t, k, x, json.loads(f)) for t, k, x, f in rows]


#: Every format version this console reads, with its reader. Never remove an entry.
READERS: dict[int, type[ReaderV1]] = {1: ReaderV1}


def reader_for(version: int, connection: sqlite3.Connection) -> ReaderV1:
    """The reader of ``version`` over ``connection``. Raises ``KeyError`` for unknown versions."""
    return READERS[version](connection)


# -- the SQLite header, read without SQLite --------------------------------------------------------

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100


@dataclass(frozen=True)
class SqliteHeader:
    """The parts of a SQLite file header that tell what a file is before SQLite touches it."""

    page_size: int
    #: Pages per the header; only trustworthy when ``size_valid``.
    page_count: int
    size_valid: bool
    wal_mode: bool
    user_version: int
    application_id: int

    @classmethod
    def parse(cls, data: bytes) -> SqliteHeader:
        """Parse the first 100 bytes of a SQLite file (the caller checked the magic)."""
        raw_page_size = int.from_bytes(data[16:18], "big")
        page_size = 65536 if raw_page_size == 1 else raw_page_size
        change_counter = int.from_bytes(data[24:28], "big")
        page_count = int.from_bytes(data[28:32], "big")
        valid_for = int.from_bytes(data[92:96], "big")
        return cls(
            page_size=page_size,
            page_count=page_count,
            size_valid=page_count > 0 and change_counter == valid_for,
            wal_mode=data[18] == 2 or data[19] == 2,
            user_version=int.from_bytes(data[60:64], "big", signed=True),
            application_id=int.from_bytes(data[68:72], "big", signed=True),
        )


def iter_sidecars(path: Path) -> Iterable[Path]:
    """The files SQLite may keep beside ``path``: ``-wal``, ``-shm`` and ``-journal``."""
    for suffix in ("-wal", "-shm", "-journal"):
        yield path.with_name(path.name + suffix)
