#!/usr/bin/env bash
# Install the bundle from packaging/build.sh for the current user, like a desktop application:
# the program in ~/.local/opt/incident-console, the command in ~/.local/bin, the menu entry, the
# icon in every size, and the .incident file type (a double-click opens the review).
#   bash packaging/install-desktop.sh            # install
#   bash packaging/install-desktop.sh --remove   # uninstall
set -euo pipefail
cd "$(dirname "$0")/.."
data="${XDG_DATA_HOME:-$HOME/.local/share}"
opt="$HOME/.local/opt/incident-console"
bin="$HOME/.local/bin/incident-console"
if [ "${1:-}" = --remove ]; then
  rm -rf "$opt" "$bin" "$data/applications/incident-console.desktop" \
    "$data/mime/packages/incident-console-mime.xml"
  find "$data/icons/hicolor" -name incident-console.png -delete 2>/dev/null || true
  echo "removed"; exit 0
fi
[ -x dist/incident-console/incident-console ] || { echo "no bundle: run 'bash packaging/build.sh bundle' first" >&2; exit 2; }
mkdir -p "$opt" "$(dirname "$bin")" "$data/applications" "$data/mime/packages"
cp -a dist/incident-console/. "$opt/"
ln -sf "$opt/incident-console" "$bin"
for size in 16 32 48 64 128 256 512; do
  install -D -m 644 "resources/icons/incident-console-$size.png" \
    "$data/icons/hicolor/${size}x${size}/apps/incident-console.png"
done
install -m 644 packaging/incident-console.desktop "$data/applications/"
install -m 644 packaging/incident-console-mime.xml "$data/mime/packages/"
command -v update-mime-database >/dev/null && update-mime-database "$data/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "installed: $bin (make sure ~/.local/bin is on your PATH)"
