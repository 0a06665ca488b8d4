"""Without a display the viewer says so in one line, with the fix, instead of Qt's abort (issue #18)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app import display

REPO = Path(__file__).resolve().parents[1]


def _env_without_display(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return {**env, **extra}


@pytest.mark.parametrize("args", [["--self-test"], [], ["--empty"]])
def test_no_display_is_one_line_with_the_fix_and_exit_3(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env_without_display(),
    )
    assert result.returncode == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("brats-viewer: no display: DISPLAY (and WAYLAND_DISPLAY) is not set;")
    assert "xvfb-run -a brats-viewer --self-test" in lines[0]
    assert "libxcb" not in result.stderr


def test_a_display_nobody_answers_on_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(display, "X11_SOCKET_DIR", tmp_path)
    problem = display.display_problem({"DISPLAY": ":93"})
    assert problem is not None and problem.startswith("no display: nothing answers on DISPLAY=:93;")


def test_a_listening_x_socket_is_a_display(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(display, "X11_SOCKET_DIR", tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "X93"))
        server.listen(1)
        assert display.display_problem({"DISPLAY": ":93.0"}) is None
        assert display.display_problem({"DISPLAY": "unix:93"}) is None
        assert display.display_problem({"DISPLAY": ":94"}) is not None


def test_headless_qt_platforms_need_no_display() -> None:
    assert display.display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display.display_problem({"QT_QPA_PLATFORM": "xcb"}) is not None


def test_the_command_line_needs_no_display() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "--no-gui", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env_without_display(),
    )
    assert result.returncode == 0, result.stderr
    assert "brats-seg" in result.stdout
