"""The ``open`` and ``report`` commands: review an ``.incident`` file, draft its report.

``console.cli`` calls ``add_review_commands(subparsers)`` while building its parser and adds the
returned ``{name: handler}`` to its command table. Both commands check the file headless first
(``console.snapshot.open_snapshot``: a bad file is one line and exit 2, before Qt is loaded),
then hand over to the Qt frontend through ``importlib`` (``ui.review_window`` for ``open``,
``ui.incident_report`` for ``report``), the same seam ``console.cli`` uses for the window, so
``console`` stays importable without Qt. Neither needs credentials or a network.

``--at`` (where the review cursor starts) takes an offset from the recording's start (``25m``),
an offset back from its end (``--at=-5m``: with ``=``, or argparse takes it for an option),
``start``/``end``, or a time of day / ISO 8601 moment (``04:36``, ``2025-03-14T09:30:00Z``),
resolved by ``console.review.resolve_moment``.
"""

from __future__ import annotations

import argparse
import importlib
import types
from collections.abc import Callable
from pathlib import Path

from console.cli_arguments import size_argument
from console.review import resolve_moment
from console.snapshot import SnapshotError, open_snapshot

Handler = Callable[[argparse.Namespace], int]


def add_review_commands(subparsers: argparse._SubParsersAction) -> dict[str, Handler]:
    """Add ``open`` and ``report`` to ``subparsers``; returns their handlers by name."""
    review = subparsers.add_parser(
        "open",
        help="review an .incident file in the window: read-only, with a time cursor",
        description="Open a recorded incident read-only (no credentials, no network): scrub "
        "or play it back; the graph, golden path, findings, logs and timeline follow the cursor.",
    )
    review.add_argument("file", type=Path, help="the .incident file")
    review.add_argument(
        "--at",
        metavar="TIME",
        help="where the cursor starts: 25m (after the start), =-5m (before the end), start, end, "
        "HH:MM[:SS] (local) or an ISO 8601 time; default: the end",
    )
    review.add_argument(
        "--screenshot",
        type=Path,
        metavar="FILE.png",
        help="render the review window to a PNG offscreen instead of opening it",
    )
    review.add_argument("--size", type=size_argument, default=(1600, 1000), metavar="WxH")
    review.add_argument(
        "--wall",
        action="store_true",
        help="show it on the war-room wall instead (fullscreen, marked NOT LIVE; the top-level "
        "--screen and --rotate apply); with --screenshot, render the wall's first page",
    )

    report = subparsers.add_parser(
        "report",
        help="draft a post-incident report (one HTML file) from an .incident file",
        description="Summary (duration, services affected, the golden path's outage window), "
        "timeline, actions with before/after, recovery criteria and charts as images, in one "
        "self-contained HTML file.",
    )
    report.add_argument("file", type=Path, help="the .incident file")
    report.add_argument("--output", "-o", type=Path, required=True, metavar="report.html")
    report.add_argument(
        "--images",
        type=Path,
        metavar="FOLDER",
        help="also write the report's pictures to FOLDER as PNG files",
    )
    return {"open": cmd_open, "report": cmd_report}


def _frontend(module: str) -> types.ModuleType:
    """A Qt frontend module, imported only now (``console`` never imports ``ui`` at the top)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            f"the graphical frontend cannot start: {exc}. Install the console with its "
            "dependencies (see README); `export` works without it."
        ) from exc


def _checked(path: Path) -> tuple[float, float]:
    """The recorded range of the snapshot at ``path``; ``SnapshotError`` for a bad file."""
    with open_snapshot(path) as snapshot:
        time_range = snapshot.time_range
    if time_range is None:
        raise SnapshotError(f"{path}: nothing was recorded in it")
    return time_range


def _writable(path: Path, what: str) -> None:
    if path.is_dir():
        raise SnapshotError(f"cannot write {path}: it is a folder; give a {what} file name")
    if not path.parent.is_dir():
        raise SnapshotError(f"cannot write {path}: folder {path.parent} does not exist")


def cmd_open(args: argparse.Namespace) -> int:
    """``open FILE [--at TIME] [--screenshot FILE.png]``."""
    time_range = _checked(args.file)
    at = None
    if args.at is not None:
        try:
            at = resolve_moment(args.at, time_range)
        except ValueError as exc:
            raise SnapshotError(f"--at {args.at}: {exc}") from None
    if args.wall:
        return _open_on_the_wall(args, at)
    frontend = _frontend("ui.review_window")
    if args.screenshot is not None:
        _writable(args.screenshot, "PNG")
        frontend.render_review_screenshot(args.file, args.screenshot, args.size, at)
        print(f"wrote {args.screenshot} ({args.size[0]}x{args.size[1]})")
        return 0
    return int(frontend.run_review(args.file, at=at))


def _open_on_the_wall(args: argparse.Namespace, at: float | None) -> int:
    """``open FILE --wall``: the recording on the wall (``ui.wall``), or its first page as PNG."""
    wall = _frontend("ui.wall")
    if args.screenshot is not None:
        _writable(args.screenshot, "PNG")
        wall.render_wall_review_screenshot(args.file, args.screenshot, args.size, at)
        print(f"wrote {args.screenshot} ({args.size[0]}x{args.size[1]})")
        return 0
    rotate_s = wall.DEFAULT_ROTATE_S if args.rotate is None else args.rotate
    try:
        return int(wall.run_wall_review(args.file, at=at, screen=args.screen, rotate_s=rotate_s))
    except wall.WallScreenError as exc:
        raise SnapshotError(str(exc)) from None


def cmd_report(args: argparse.Namespace) -> int:
    """``report FILE --output report.html [--images FOLDER]``."""
    _checked(args.file)
    output: Path = args.output
    _writable(output, "report")
    if args.images is not None and args.images.exists() and not args.images.is_dir():
        raise SnapshotError(f"cannot write pictures to {args.images}: it is a file")
    images = _frontend("ui.incident_report").write_report(args.file, output, args.images)
    where = f" and {len(images)} pictures in {args.images}" if args.images is not None else ""
    print(f"wrote {output}{where}")
    return 0
