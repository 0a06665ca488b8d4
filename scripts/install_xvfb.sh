#!/usr/bin/env bash
# Install the Debian packages a virtual X display needs for Qt's xcb plugin and VTK's OpenGL,
# when any is missing. Exits 0 with a message (and GUI tests are skipped) where that is not possible.
set -uo pipefail

PACKAGES=(xvfb xauth libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
    libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-cursor0 libegl1 libgl1
    libxrender1 libxi6 libdbus-1-3 libfontconfig1 poppler-utils)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
elif ! command -v xvfb-run >/dev/null 2>&1; then
    echo "note: not a Debian system and xvfb-run is missing; install Xvfb yourself to run the GUI tests"
    exit 0
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "note: missing Debian packages for a virtual display (${missing[*]}) and not root;"
    echo "      GUI tests will be skipped. Install them with: sudo apt-get install ${missing[*]}"
    exit 0
fi
echo "==> installing Debian packages for a virtual X display: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
