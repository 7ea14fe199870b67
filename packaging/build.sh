#!/usr/bin/env bash
# Build what a user installs: a one-folder bundle (dist/incident-console/), a wheel and an sdist
# (dist/), and the icon PNGs. Uses the project's .venv (made by bootstrap.sh):
#   bash packaging/build.sh            # bundle + wheel + sdist
#   bash packaging/build.sh bundle     # only the bundle
#   bash packaging/build.sh wheel      # only the wheel and sdist
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
py=.venv/bin/python
[ -x "$py" ] || { echo "no .venv: run 'bash bootstrap.sh test' first" >&2; exit 2; }
"$py" -m pip install -q -e ".[package]"
"$py" packaging/make_icons.py >/dev/null
if [ "$what" = all ] || [ "$what" = wheel ]; then
  "$py" -m build --sdist --wheel --outdir dist . >/dev/null
  ls dist/*.whl dist/*.tar.gz
fi
if [ "$what" = all ] || [ "$what" = bundle ]; then
  "$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/incident-console.spec
  du -sh dist/incident-console
fi
