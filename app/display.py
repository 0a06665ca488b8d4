"""Is there a display for the window? Checked before Qt starts, which aborts the process without one.

Without a display Qt's xcb plugin aborts with a misleading "libxcb-cursor0 is needed" and exit code 134.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

#: Qt platforms that need no display server.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")
X11_SOCKET_DIR = Path("/tmp/.X11-unix")
CONNECT_TIMEOUT_S = 1.0

NO_DISPLAY_FIX = (
    "run it on a desktop session, or under a virtual display: "
    "xvfb-run -a brats-viewer --self-test (Debian/Ubuntu: apt-get install xvfb xauth); "
    "brats-viewer --no-gui ... runs the command line without a window"
)


def _can_connect_unix(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


def _x11_server_answers(display: str) -> bool:
    """Whether an X server listens for ``display`` (":N", "unix:N", "host:N", each with optional ".S")."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".", 1)[0]
    if not number.isdigit():
        return False
    if host in ("", "unix") or host.startswith("/"):
        path = host if host.startswith("/") else str(X11_SOCKET_DIR / f"X{number}")
        if _can_connect_unix(path):
            return True
        return sys.platform.startswith("linux") and _can_connect_unix(f"\0{path}")  # abstract socket
    try:
        with socket.create_connection((host, 6000 + int(number)), timeout=CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def display_problem(environ: dict[str, str] | None = None) -> str | None:
    """None when the window can be shown; else one line saying why not and how to fix it."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") and not sys.platform.startswith("freebsd"):
        return None  # Windows and macOS always have their own window system
    platform = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip()
    if platform in HEADLESS_PLATFORMS:
        return None
    display, wayland = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    if wayland and platform != "xcb":
        runtime = env.get("XDG_RUNTIME_DIR", "")
        path = wayland if wayland.startswith("/") else str(Path(runtime) / wayland)
        if _can_connect_unix(path):
            return None
    if display:
        if _x11_server_answers(display):
            return None
        return f"no display: nothing answers on DISPLAY={display}; {NO_DISPLAY_FIX}"
    return f"no display: DISPLAY (and WAYLAND_DISPLAY) is not set; {NO_DISPLAY_FIX}"
