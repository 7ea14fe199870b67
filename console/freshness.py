"""Is what we show live? The freshness of a session's data and the problems of its sources.

The war-room wall must never show old data as if it were live. ``FreshnessWatch`` looks at a
session at a moment and answers, per service, how old its newest sample is and whether that is
older than the session's stale limit for it (``Session.stale_after``: the source's expected
delay plus a margin, the same rule ``console.health`` uses for the ``stale`` status); which
sources report an error (and since when: the watch remembers when it first saw each one); and
which sources have not delivered anything yet. ``freshness_alerts`` turns a report into the
sentences a wall (or any frontend) puts in its banner.

Pure engine code: no Qt, no wall time (``now`` comes from the session's clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from console.durations import format_duration
from console.metrics import METRICS_BY_KIND
from console.session import Session
from console.units import format_clock
from console.workspace import Workspace

#: Source states that mean "this source is not delivering and says why".
PROBLEM_STATES = ("error", "unauthorized", "quota", "stopped")

#: ``recording`` is for frontends that show a recording (never live); this module never makes one.
AlertKind = Literal["stale", "error", "waiting", "recording"]


@dataclass(frozen=True)
class ServiceFreshness:
    """How old one service's newest sample is, against the age it may reach."""

    service: str
    #: Time of the newest sample of any of its metrics; None before any data.
    newest_t: float | None
    #: How old its data may be before it counts as stale.
    limit_s: float
    #: ``now - newest_t`` (never negative); None before any data.
    age_s: float | None

    @property
    def stale(self) -> bool:
        """True when the service had data and the newest is older than its limit."""
        return self.age_s is not None and self.age_s > self.limit_s


@dataclass(frozen=True)
class SourceProblem:
    """A source that is not delivering and says why."""

    source: str
    state: str
    message: str
    #: When the watch first saw the source in a problem state (session clock).
    since: float


@dataclass(frozen=True)
class FreshnessReport:
    """The freshness of a session's data at ``now``."""

    now: float
    services: dict[str, ServiceFreshness]
    problems: tuple[SourceProblem, ...]
    #: Sources that have not delivered a first batch yet.
    waiting: tuple[str, ...]

    @property
    def newest_t(self) -> float | None:
        """Time of the newest sample of any service, None without data."""
        times = [s.newest_t for s in self.services.values() if s.newest_t is not None]
        return max(times) if times else None

    @property
    def data_age_s(self) -> float | None:
        """Age of the newest sample of any service, None without data."""
        newest = self.newest_t
        return None if newest is None else max(0.0, self.now - newest)

    @property
    def stale_services(self) -> tuple[str, ...]:
        """Services whose data is older than their limit, in workspace order."""
        return tuple(sid for sid, s in self.services.items() if s.stale)

    @property
    def last_good_t(self) -> float | None:
        """When the stale services last delivered (their newest sample), None if none is stale."""
        times = [s.newest_t for s in self.services.values() if s.stale and s.newest_t is not None]
        return max(times) if times else None

    @property
    def live(self) -> bool:
        """True when there is data, none of it is stale and no source reports a problem."""
        return self.newest_t is not None and not self.stale_services and not self.problems


class FreshnessWatch:
    """Assesses a session's freshness; remembers since when each source has had a problem."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._problem_since: dict[str, float] = {}

    def assess(self, now: float | None = None) -> FreshnessReport:
        """The freshness at ``now`` (default: the session clock's time)."""
        session = self.session
        now = session.clock.now() if now is None else now
        limits = session.stale_after()
        services: dict[str, ServiceFreshness] = {}
        for sid, service in session.workspace.services.items():
            newest: float | None = None
            for metric in METRICS_BY_KIND[service.kind]:
                reading = session.store.latest((sid, metric))
                if reading is not None and (newest is None or reading[0] > newest):
                    newest = reading[0]
            age = None if newest is None else max(0.0, now - newest)
            services[sid] = ServiceFreshness(sid, newest, limits.get(sid, 0.0), age)

        problems: list[SourceProblem] = []
        waiting: list[str] = []
        for name, status in session.source_statuses.items():
            if status.state in PROBLEM_STATES:
                since = self._problem_since.setdefault(name, now)
                problems.append(SourceProblem(name, status.state, status.message, since))
            else:
                self._problem_since.pop(name, None)
                if status.state == "starting":
                    waiting.append(name)
        return FreshnessReport(now, services, tuple(problems), tuple(waiting))


@dataclass(frozen=True)
class FreshnessAlert:
    """One line of a banner: what kind of problem, a headline and the detail under it."""

    kind: AlertKind
    headline: str
    detail: str


def clock_text(t: float, now: float) -> str:
    """Local time of day, ``05:09:40``; with the date when ``t`` is not on ``now``'s day."""
    stamp = datetime.fromtimestamp(t).astimezone()
    if stamp.date() != datetime.fromtimestamp(now).astimezone().date():
        return stamp.strftime("%a %d %b %H:%M:%S")
    return format_clock(t)


def freshness_alerts(report: FreshnessReport, workspace: Workspace) -> list[FreshnessAlert]:
    """What a banner must say about ``report``: stale data, source errors, no data yet.

    Empty when everything shown is live.
    """
    alerts: list[FreshnessAlert] = []
    names = {sid: s.name for sid, s in workspace.services.items()}
    stale = report.stale_services
    if stale:
        last = report.last_good_t
        assert last is not None
        who = (
            "every service"
            if len(stale) == len(report.services)
            else ", ".join(names[sid] for sid in stale)
        )
        limit = max(report.services[sid].limit_s for sid in stale)
        alerts.append(
            FreshnessAlert(
                "stale",
                f"◷ STALE · no new data since {clock_text(last, report.now)} "
                f"({format_duration(report.now - last)} ago)",
                f"NOT LIVE: {who} (new data expected within {format_duration(limit)}). "
                "Statuses and charts show the last good data.",
            )
        )
    for problem in report.problems:
        word = {
            "unauthorized": "NOT AUTHORIZED",
            "quota": "QUOTA EXCEEDED",
            "stopped": "SOURCE STOPPED",
        }.get(problem.state, "SOURCE ERROR")
        symbol = "■" if problem.state == "stopped" else "✖"
        message = problem.message or problem.state
        since = (
            f"since {clock_text(problem.since, report.now)} "
            f"({format_duration(report.now - problem.since)})"
        )
        retry = "" if problem.state == "stopped" else " · retrying by itself"
        alerts.append(
            FreshnessAlert("error", f"{symbol} {word} · {problem.source}: {message}", since + retry)
        )
    if report.newest_t is None:
        sources = ", ".join(report.waiting) or "the sources"
        alerts.append(
            FreshnessAlert(
                "waiting",
                f"? NO DATA YET · waiting for {sources}",
                "Nothing is shown as live until the first data arrives.",
            )
        )
    return alerts
