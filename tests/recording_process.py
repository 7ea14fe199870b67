"""A real recording process for the crash tests: started, read line by line, killed with SIGKILL.

``RecordingProcess(code, data_dir)`` runs ``python -c code`` from the checkout with its data
folder (``INCIDENT_CONSOLE_DATA_DIR``) set to ``data_dir``. The child prints ``path FILE`` first
(the recording it writes), then whatever the test waits for; ``line`` reads the next line
without sleeping (``select`` with the process's deadline). Used as a context manager, a child
still running at the end is killed.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent


class RecordingProcess:
    """``python -c code`` recording into ``data_dir``, which must report within ``timeout_s``."""

    def __init__(self, code: str, data_dir: Path, timeout_s: float) -> None:
        env = {**os.environ, "INCIDENT_CONSOLE_DATA_DIR": str(data_dir)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.deadline = time.monotonic() + timeout_s

    def line(self) -> str:
        """The child's next line on stdout; fails the test past the deadline or at its end."""
        stream = self.process.stdout
        assert stream is not None
        while True:
            remaining = self.deadline - time.monotonic()
            assert remaining > 0, "the recording child stopped reporting"
            ready, _, _ = select.select([stream], [], [], remaining)
            if ready:
                line = stream.readline()
                assert line, "the recording child ended early"
                return line

    def recording_path(self) -> Path:
        """The recording's file, from the child's first line (``path FILE``)."""
        first = self.line()
        assert first.startswith("path "), first + self.stderr()
        return Path(first.split(" ", 1)[1].strip())

    def stderr(self) -> str:
        """What the child wrote on stderr (waits for it to end)."""
        assert self.process.stderr is not None
        return self.process.stderr.read()

    def kill(self) -> None:
        """Kill the child with SIGKILL (no clean-up of its own) and wait for it."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def __enter__(self) -> RecordingProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
