"""Damaged ``.incident`` files for the tests of opening bad input (``open_snapshot``, the ``open``
and ``report`` commands).

Each maker writes ``path`` from a good recording (``recording``); ``DAMAGED_SNAPSHOTS`` names
each damage with its maker and the message a person is shown for it.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

from console.snapshot_format import FORMAT_VERSION

Damage = Callable[[Path, Path], None]


def truncated(path: Path, recording: Path) -> None:
    data = recording.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def cut_in_header(path: Path, recording: Path) -> None:
    path.write_bytes(recording.read_bytes()[:60])


def random_bytes(path: Path, recording: Path) -> None:
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 8192, dtype=np.uint8).tobytes())


def text_file(path: Path, recording: Path) -> None:
    path.write_text("[incident]\ntitle = 'not a snapshot'\n")


def other_sqlite(path: Path, recording: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()


def newer_version(path: Path, recording: Path) -> None:
    shutil.copyfile(recording, path)
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {FORMAT_VERSION + 1}")
    connection.close()


def empty(path: Path, recording: Path) -> None:
    path.write_bytes(b"")


DAMAGED_SNAPSHOTS: dict[str, tuple[Damage, str]] = {
    "truncated": (truncated, "truncated or corrupt"),
    "cut in the header": (cut_in_header, "truncated or corrupt"),
    "random bytes": (random_bytes, "not an incident snapshot"),
    "a text file": (text_file, "not an incident snapshot"),
    "another program's sqlite": (other_sqlite, "not an incident snapshot"),
    "newer version": (
        newer_version,
        f"written by a newer console (format {FORMAT_VERSION + 1}); this console reads up to "
        f"{FORMAT_VERSION}: upgrade",
    ),
    "empty": (empty, "empty file"),
}
