"""The ``incident-console`` command line.

Headless commands (``check-config``, ``status``) run on the engine alone. The GUI commands (no
subcommand, ``screenshot``) load the Qt frontend on demand through ``importlib``: this is the one
seam where the engine hands over to ``ui``, and it keeps ``console`` importable without Qt.

Exit codes: 0 ok, 1 failure at run time, 2 bad usage or bad input. Bad input never ends in a
traceback: every error names what was wrong and how to fix it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from console import __version__
from console.action_commands import ActionUsageError, add_action_commands
from console.cli_arguments import duration_argument, size_argument
from console.clock import SystemClock, VirtualClock
from console.credentials_commands import add_credentials_commands
from console.gcp.credentials import CredentialsError, skip_metadata_probe_off_google_cloud
from console.review_commands import add_review_commands
from console.session_factory import NoSourcesError, build_session
from console.snapshot import SnapshotError
from console.snapshot_commands import add_snapshot_commands
from console.status_report import build_status, format_status_text
from console.workspace import Workspace
from console.workspace_toml import (
    WorkspaceError,
    check_secrets,
    demo_workspace_path,
    load_workspace,
    summarize,
)

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
DEFAULT_WORKSPACE = Path("incident.toml")


class UsageError(Exception):
    """Bad usage or bad input: printed as one message, exit code 2."""


def _add_workspace_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--config", metavar="FILE", type=Path, help="workspace TOML file")
    group.add_argument("--demo", action="store_true", help="the built-in demo incident")


#: The shortest page rotation of the wall (shorter cannot be read before the page moves on).
MIN_ROTATE_S = 5.0


def _rotation(text: str) -> float:
    seconds = duration_argument(text)
    if 0 < seconds < MIN_ROTATE_S:
        raise argparse.ArgumentTypeError(
            f"rotation {text!r} is too short to read a page: use at least 5s, or 0 to stop rotating"
        )
    return seconds


def _counted_from_one(text: str, what: str, things: str, example: str) -> int:
    """``text`` as a whole number from 1 (a page, a screen), else an error naming ``what``."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r} ({example})") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{things} count from 1, not {number}")
    return number


def _page_number(text: str) -> int | str:
    if text.strip().lower() == "all":
        return "all"
    return _counted_from_one(text, "a page", "pages", "write 1, 2, … or all")


def _screen_number(text: str) -> int:
    return _counted_from_one(text, "a screen number", "screens", "1 = first")


def _add_wall_options(parser: argparse.ArgumentParser) -> None:
    wall = parser.add_argument_group("war-room wall (see docs/wall.md)")
    wall.add_argument("--wall", action="store_true", help="the read-only fullscreen wall display")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="the window without actions: nothing in it can change the cloud",
    )
    wall.add_argument(
        "--screen",
        type=_screen_number,
        metavar="N",
        help="the screen the wall fills, counting from 1 (default: the primary screen)",
    )
    wall.add_argument(
        "--rotate",
        type=_rotation,
        metavar="DURATION",
        help="how long each wall page stays (default 20s; 0 stops the rotation)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="incident-console",
        description="Incident Console: see where the golden path breaks and why. Without a "
        "command it opens the window on ./incident.toml if present, else on the demo.",
    )
    parser.add_argument("--version", action="version", version=f"incident-console {__version__}")
    _add_workspace_options(parser)
    _add_wall_options(parser)
    parser.add_argument(
        "--no-autosave",
        dest="autosave",
        action="store_false",
        help="do not record the session into the autosave folder (the flight recorder)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check-config", help="validate a workspace file")
    check.add_argument("file", type=Path, help="workspace TOML file")

    status = commands.add_parser("status", help="evaluate health once and print it")
    _add_workspace_options(status)
    status.add_argument(
        "--at",
        type=duration_argument,
        default=0.0,
        metavar="DURATION",
        help="advance the simulation by DURATION first (e.g. 10m)",
    )
    status.add_argument("--json", action="store_true", help="print JSON")

    shot = commands.add_parser("screenshot", help="render the main window to a PNG, offscreen")
    _add_workspace_options(shot)
    shot.add_argument("--output", "-o", type=Path, required=True, metavar="FILE.png")
    shot.add_argument(
        "--size", type=size_argument, metavar="WxH", help="default 1600x1000; 1920x1080 with --wall"
    )
    shot.add_argument("--wall", action="store_true", help="render a page of the wall display")
    shot.add_argument(
        "--page", type=_page_number, metavar="N|all", help="the wall page (default 1); all: each"
    )
    shot.add_argument(
        "--at",
        type=duration_argument,
        default=0.0,
        metavar="DURATION",
        help="advance the simulation by DURATION first (e.g. 10m)",
    )
    handlers = {
        "check-config": cmd_check_config,
        "status": cmd_status,
        "screenshot": cmd_screenshot,
    }
    handlers.update(add_snapshot_commands(commands))
    handlers.update(add_review_commands(commands))
    handlers.update(add_action_commands(commands))
    handlers.update(add_credentials_commands(commands))
    for name, handler in handlers.items():
        commands.choices[name].set_defaults(handler=handler)
    return parser


def resolve_workspace(config: Path | None, demo: bool) -> Workspace:
    """The workspace a command runs on: ``--config``, ``--demo``, ./incident.toml, else the demo."""
    if config is not None:
        return load_workspace(config)
    if not demo and DEFAULT_WORKSPACE.is_file():
        return load_workspace(DEFAULT_WORKSPACE)
    return load_workspace(demo_workspace_path())


def _workspace_args(args: argparse.Namespace) -> tuple[Path | None, bool]:
    return getattr(args, "config", None), bool(getattr(args, "demo", False))


def cmd_check_config(args: argparse.Namespace) -> int:
    """``check-config FILE``: one summary line and exit 0, or the problems and exit 2.

    Beyond the file itself it checks that every keyring reference of the probes resolves.
    """
    workspace = load_workspace(args.file)
    secret_problems = check_secrets(workspace)
    if secret_problems:
        raise WorkspaceError(secret_problems)
    print(summarize(workspace))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    """``status``: evaluate once, optionally after advancing the simulation."""
    workspace = resolve_workspace(*_workspace_args(args))
    clock = VirtualClock(SystemClock().now())
    session = build_session(workspace, clock)
    try:
        session.poll_sources()
        if args.at > 0:
            clock.advance(args.at)
            session.poll_sources()
        session.drain()
        status = build_status(session)
    finally:
        session.stop()
    if args.json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
    else:
        print(format_status_text(status))
    return EXIT_OK


def _frontend(module: str = "ui.app") -> types.ModuleType:
    """The Qt frontend, imported only for GUI commands."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            f"the graphical frontend cannot start: {exc}. Install the console with its "
            "dependencies (see README) or use the headless commands (status, check-config)."
        ) from exc


def cmd_screenshot(args: argparse.Namespace) -> int:
    """``screenshot``: render the main window offscreen to a PNG."""
    workspace = resolve_workspace(*_workspace_args(args))
    if not args.output.parent.exists():
        raise UsageError(f"cannot write {args.output}: folder {args.output.parent} does not exist")
    if args.wall:
        return _wall_screenshot(args, workspace)
    if args.page is not None:
        raise UsageError("--page chooses a page of the wall: add --wall")
    size = args.size or (1600, 1000)
    _frontend().render_screenshot(workspace, args.output, size, args.at)
    print(f"wrote {args.output} ({size[0]}x{size[1]})")
    return EXIT_OK


def _wall_screenshot(args: argparse.Namespace, workspace: Workspace) -> int:
    """``screenshot --wall``: one page of the wall (or every page) offscreen to PNG."""
    wall = _frontend("ui.wall")
    size = args.size or (1920, 1080)
    page = None if args.page == "all" else (args.page or 1)
    try:
        written = wall.render_wall_screenshot(workspace, args.output, size, args.at, page)
    except wall.WallScreenError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(f"wrote {path} ({size[0]}x{size[1]})")
    return EXIT_OK


def cmd_wall(args: argparse.Namespace) -> int:
    """``--wall``: the read-only wall, fullscreen. A bad workspace is refused (exit 2), never
    replaced by the demo: a war-room wall must not show simulated data by surprise."""
    workspace = resolve_workspace(*_workspace_args(args))
    wall = _frontend("ui.wall")
    rotate_s = wall.DEFAULT_ROTATE_S if args.rotate is None else args.rotate
    try:
        return int(wall.run_wall(workspace, screen=args.screen, rotate_s=rotate_s))
    except wall.WallScreenError as exc:
        raise UsageError(str(exc)) from None


def _check_wall_options(args: argparse.Namespace) -> None:
    """``--screen`` and ``--rotate`` only mean something for the wall (``--wall``, or
    ``open FILE --wall``)."""
    command = getattr(args, "command", None)
    if getattr(args, "wall", False) and command in (None, "open"):
        return
    given = [name for name in ("screen", "rotate") if getattr(args, name, None) is not None]
    if command not in (None, "screenshot", "open") and getattr(args, "wall", False):
        given.insert(0, "wall")
    if given:
        options = " and ".join(f"--{name}" for name in given)
        raise UsageError(f"{options}: only for the wall display (incident-console --wall ...)")
    if command not in (None, "action") and getattr(args, "read_only", False):
        raise UsageError(f"--read-only is for the window; {command} changes nothing anyway")


def cmd_gui(args: argparse.Namespace) -> int:
    """No command: the window, on the resolved workspace; a bad one is shown in a dialog."""
    if args.wall:
        return cmd_wall(args)
    try:
        workspace: Workspace | None = resolve_workspace(*_workspace_args(args))
        config_error = None
    except WorkspaceError as exc:
        workspace, config_error = None, str(exc)
    return int(
        _frontend().run_gui(
            workspace,
            config_error=config_error,
            autosave=args.autosave,
            read_only=args.read_only,
        )
    )


def _fail(message: str, code: int) -> NoReturn:
    print(f"incident-console: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    skip_metadata_probe_off_google_cloud()  # ADC would probe the metadata server for 9 s
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].endswith(".incident"):
        # A file manager's double-click (desktop entry ``Exec=incident-console %f``): review it.
        argv.insert(0, "open")
    args = build_parser().parse_args(argv)
    handler = getattr(args, "handler", cmd_gui)
    try:
        _check_wall_options(args)
        return handler(args)
    except WorkspaceError as exc:
        _fail(f"invalid workspace:\n{exc}", EXIT_BAD_INPUT)
    except (UsageError, NoSourcesError, SnapshotError, ActionUsageError, CredentialsError) as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except (RuntimeError, OSError) as exc:
        _fail(str(exc), EXIT_FAILURE)


if __name__ == "__main__":
    sys.exit(main())
