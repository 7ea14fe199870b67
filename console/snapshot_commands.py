"""The ``record`` and ``export`` commands: argparse wiring and handlers, engine only.

``console.cli`` calls ``add_snapshot_commands(subparsers)`` while building its parser and adds the
returned ``{name: handler}`` to its command table. Handlers return an exit code; bad input raises
``console.snapshot.SnapshotError`` (one line, exit 2), a failure while writing raises ``OSError``
(exit 1). ``console.cli`` is imported inside the handlers only, to avoid an import cycle.

``record`` runs a session headless into a flight recording (``--output FILE.incident``): the demo
on a virtual clock, ``--speed N`` simulated seconds per real second (``--speed 0`` or ``--fast``:
as fast as possible). It records into ``FILE.incident.partial`` and renames it onto the final
name only when done, so a half-written file never carries the final name; a run that is killed
leaves the ``.partial`` file, itself a readable snapshot of everything committed.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from console.cli_arguments import positive_duration_argument
from console.clock import SystemClock, VirtualClock
from console.durations import format_duration
from console.recorder import FlightRecorder, RecorderStatus
from console.session import Session
from console.snapshot import (
    SnapshotError,
    export_csv,
    export_json,
    finish_atomically,
    iso_utc,
    open_snapshot,
    remove_with_sidecars,
    snapshot_as_json,
)

Handler = Callable[[argparse.Namespace], int]

#: Simulated seconds per poll when recording as fast as possible.
FAST_STEP_S = 5.0
#: Real seconds between progress lines on stderr.
PROGRESS_EVERY_S = 1.0


def _speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a speed: {text!r} (simulated seconds per real second, e.g. 10; 0 = fastest)"
        ) from None
    if not 0 <= speed < float("inf"):
        raise argparse.ArgumentTypeError(f"speed {text} must be 0 (fastest) or more")
    return speed


def add_snapshot_commands(subparsers: argparse._SubParsersAction) -> dict[str, Handler]:
    """Add ``record`` and ``export`` to ``subparsers``; returns their handlers by name."""
    record = subparsers.add_parser(
        "record", help="record a session headless into an .incident file"
    )
    group = record.add_mutually_exclusive_group()
    group.add_argument("--config", metavar="FILE", type=Path, help="workspace TOML file")
    group.add_argument("--demo", action="store_true", help="the built-in demo incident")
    record.add_argument(
        "--for",
        dest="duration",
        type=positive_duration_argument,
        required=True,
        metavar="DURATION",
        help="how much session time to record (e.g. 10m, 6h)",
    )
    record.add_argument("--output", "-o", type=Path, required=True, metavar="FILE.incident")
    pace = record.add_mutually_exclusive_group()
    pace.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="N",
        help="demo only: simulated seconds per real second (default 1; 0 = as fast as possible)",
    )
    pace.add_argument(
        "--fast", action="store_true", help="demo only: as fast as possible (--speed 0)"
    )

    export = subparsers.add_parser(
        "export", help="export an .incident file as CSV (one file per series) or JSON"
    )
    export.add_argument("file", type=Path, help="the .incident file")
    export.add_argument("--format", choices=("csv", "json"), required=True)
    export.add_argument(
        "--output",
        "-o",
        type=Path,
        required=True,
        metavar="PATH",
        help="csv: a folder (created if missing); json: a file, or - for standard output",
    )
    return {"record": cmd_record, "export": cmd_export}


# -- record ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordingResult:
    """How a headless recording ended."""

    output: Path
    status: RecorderStatus
    #: Simulated (or real, for live sources) seconds recorded.
    recorded_s: float


def _check_output(output: Path) -> None:
    if output.is_dir():
        raise SnapshotError(f"cannot write {output}: it is a folder; give a file name")
    if not output.parent.is_dir():
        raise SnapshotError(f"cannot write {output}: folder {output.parent} does not exist")


def partial_path(output: Path) -> Path:
    """Where ``record`` writes until it is done: ``OUTPUT.partial`` beside the output."""
    return output.with_name(output.name + ".partial")


class _Progress:
    """Prints at most one progress line per ``every_s`` real seconds."""

    def __init__(self, stream: TextIO | None, total_s: float, every_s: float) -> None:
        self.stream = stream
        self.total_s = total_s
        self.every_s = every_s
        self._last = time.monotonic()

    def report(self, done_s: float, status: RecorderStatus, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.stream is None or (not force and now - self._last < self.every_s):
            return
        self._last = now
        newest = status.newest_committed_t
        committed = "nothing committed yet" if newest is None else f"committed to {iso_utc(newest)}"
        print(
            f"record: {format_duration(done_s)} of {format_duration(self.total_s)}, "
            f"{status.samples_committed} samples, {committed}",
            file=self.stream,
            flush=True,
        )


def run_recording(
    session: Session,
    output: Path,
    duration_s: float,
    *,
    speed: float = 1.0,
    progress: TextIO | None = None,
    progress_every_s: float = PROGRESS_EVERY_S,
    stop: threading.Event | None = None,
) -> RecordingResult:
    """Record ``session`` for ``duration_s`` into ``output`` (via ``output.partial``).

    With a ``VirtualClock`` (the demo) the loop advances the clock itself, ``speed`` simulated
    seconds per real second (0: no waiting). With a real clock the sources run on their threads
    and the loop drains until the time is up. ``stop`` ends the recording early (kept).
    Raises ``OSError`` when the recording fails (e.g. a full disk): the ``.partial`` file keeps
    what was committed.
    """
    partial = partial_path(output)
    remove_with_sidecars(partial)
    recorder = FlightRecorder(session, partial)
    recorder.start()
    stop = stop if stop is not None else threading.Event()
    reporter = _Progress(progress, duration_s, progress_every_s)
    done_s = 0.0
    clock = session.clock
    try:
        if isinstance(clock, VirtualClock):
            session.poll_sources()
            session.drain()
            step_s = FAST_STEP_S if speed == 0 else min(60.0, max(1.0, speed / 4))
            started = time.monotonic()
            while done_s < duration_s and recorder.status.state != "failed":
                step = min(step_s, duration_s - done_s)
                if speed > 0:
                    due = started + (done_s + step) / speed
                    if stop.wait(max(0.0, due - time.monotonic())):
                        break
                elif stop.is_set():
                    break
                clock.advance(step)
                done_s += step
                session.poll_sources()
                session.drain()
                reporter.report(done_s, recorder.status)
        else:
            session.start()
            started = time.monotonic()
            try:
                while done_s < duration_s and recorder.status.state != "failed":
                    if stop.wait(min(0.5, duration_s - done_s)):
                        break
                    session.drain()
                    done_s = time.monotonic() - started
                    reporter.report(done_s, recorder.status)
            finally:
                session.stop()
                session.drain()
    except BaseException:
        recorder.close()
        raise
    status = recorder.close()
    if status.state == "failed":
        raise OSError(f"{status.error}; what was committed is kept in {partial}")
    finish_atomically(partial, output)
    reporter.report(done_s, status, force=True)
    return RecordingResult(output, status, done_s)


def cmd_record(args: argparse.Namespace) -> int:
    """``record``: record a session headless for ``--for`` into ``--output``."""
    from console.cli import resolve_workspace
    from console.session_factory import build_session

    output: Path = args.output
    _check_output(output)
    workspace = resolve_workspace(args.config, args.demo)
    speed = 0.0 if args.fast else args.speed
    clock: VirtualClock | SystemClock
    if workspace.is_demo:
        clock = VirtualClock(SystemClock().now())
    else:
        if speed != 1.0:
            raise SnapshotError("--speed and --fast apply to the demo only: live data is real time")
        clock = SystemClock()
    session = build_session(workspace, clock)
    long_run = speed == 0 or args.duration / (speed or 1.0) > 5
    try:
        result = run_recording(
            session,
            output,
            args.duration,
            speed=speed,
            progress=sys.stderr if long_run else None,
        )
    except KeyboardInterrupt:
        print(
            f"record: interrupted; what was recorded is in {partial_path(output)}", file=sys.stderr
        )
        raise
    status = result.status
    print(
        f"wrote {output}: {format_duration(result.recorded_s)} recorded, "
        f"{status.samples_committed} samples"
    )
    return 0


# -- export ----------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    """``export FILE --format csv|json --output PATH``."""
    import json

    output: Path = args.output
    with open_snapshot(args.file) as snapshot:
        if args.format == "json":
            if str(output) == "-":
                json.dump(snapshot_as_json(snapshot), sys.stdout, ensure_ascii=False, indent=1)
                sys.stdout.write("\n")
                return 0
            if output.is_dir():
                raise SnapshotError(f"cannot write {output}: it is a folder; give a file name")
            if not output.parent.is_dir():
                raise SnapshotError(f"cannot write {output}: folder {output.parent} does not exist")
            export_json(snapshot, output)
            print(f"wrote {output}")
            return 0
        if output.exists() and not output.is_dir():
            raise SnapshotError(
                f"cannot export to {output}: it is a file; CSV export writes a folder"
            )
        if not output.parent.is_dir():
            raise SnapshotError(f"cannot export to {output}: folder {output.parent} does not exist")
        files = export_csv(snapshot, output)
        print(f"wrote {len(files)} files to {output}")
    return 0
