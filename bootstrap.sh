#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine that has only python3, then starts the demo or runs
# the tests:
#   bash bootstrap.sh demo    # the console on its built-in incident simulation
#   bash bootstrap.sh test    # the whole test suite (what CI runs)
# It creates .venv/ beside this file, installs the console and its test tools into it, and (as
# root, with apt-get) installs the few system packages that Qt and the tests need when missing.
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-}"
case "$mode" in
  demo|test) ;;
  *) echo "usage: bash bootstrap.sh demo|test" >&2; exit 2 ;;
esac

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_install() {
  # Install Debian packages when we can (root + apt-get); otherwise say what is missing.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: $*"
    if [ -z "${_apt_updated:-}" ]; then apt-get update -qq; _apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "missing system packages: $* (install them with: sudo apt-get install $*)" >&2
    return 1
  fi
}

command -v python3 >/dev/null || { echo "python3 is required (3.11 or newer)" >&2; exit 1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "python3 is $(python3 -V 2>&1); the console needs 3.11 or newer" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  if ! python3 -m venv .venv 2>/dev/null; then
    rm -rf .venv
    pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    apt_install "python${pyver}-venv" || apt_install python3-venv
    python3 -m venv .venv
  fi
fi

stamp=.venv/.installed-$(cat pyproject.toml | python3 -c 'import hashlib,sys; print(hashlib.sha1(sys.stdin.buffer.read()).hexdigest()[:12])')
if [ ! -f "$stamp" ]; then
  say "installing the console and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

qt_smoke='from PySide6.QtWidgets import QApplication, QLabel; a = QApplication([]); QLabel("x").grab()'
if ! QT_QPA_PLATFORM=offscreen .venv/bin/python -c "$qt_smoke" >/dev/null 2>&1; then
  # The Qt wheels need a few shared libraries that a minimal Debian lacks.
  apt_install libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core
  QT_QPA_PLATFORM=offscreen .venv/bin/python -c "$qt_smoke" \
    || { echo "Qt still cannot start offscreen; see the error above" >&2; exit 1; }
fi

if [ "$mode" = test ]; then
  # Tools some tests use (the desktop entry's validator); skipped when they cannot be installed.
  command -v desktop-file-validate >/dev/null || apt_install desktop-file-utils || true
  # A real Secret Service for the credentials tests (a private D-Bus session + gnome-keyring);
  # without it they use an in-memory keyring.
  { command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; } \
    || apt_install dbus-daemon gnome-keyring || true
  say "lint"
  .venv/bin/ruff check .
  say "tests"
  export QT_QPA_PLATFORM=offscreen GRPC_VERBOSITY=ERROR
  status=0
  .venv/bin/python -m pytest "${@:2}" || status=$?
  if [ "$status" -ge 128 ]; then
    echo "pytest died from signal $((status - 128)) (a crash, e.g. in Qt): failing loudly" >&2
  fi
  exit "$status"
fi

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  if ! .venv/bin/python -c "$qt_smoke" >/dev/null 2>&1; then
    # A real window (X11) needs the xcb helper libraries too (Qt's message blames libxcb-cursor0).
    apt_install libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-shape0 libxcb-xkb1 \
      libxkbcommon-x11-0 || true
  fi
  say "starting the demo"
  exec .venv/bin/incident-console --demo
fi
# No screen here (a server, a container, CI): show what the window would show.
say "no display found: rendering the demo window to demo.png and printing its status instead"
.venv/bin/incident-console screenshot --demo --output demo.png
.venv/bin/incident-console status --demo
echo
echo "On a desktop, the same command opens the window. To see it here: open demo.png."
