"""scripts/setup.sh chooses the CPU build of PyTorch where there is no NVIDIA GPU; scripts/run.sh installs
only when needed (issue #18)."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_SPEC = "torch==2.13.0"
PYPI = "https://pypi.org/simple"


def _fake_command(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def local_index() -> Iterator[str]:
    """An HTTP server answering every GET/HEAD with 200: a reachable stand-in for PyTorch's CPU index."""

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 (http.server API)
            self.send_response(200)
            self.end_headers()

        do_GET = do_HEAD  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/whl/cpu"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/whl/cpu"


def torch_command(tmp_path: Path, *, gpu: bool, cpu_index: str, **env: str) -> tuple[list[str], str]:
    """What setup.sh would pass to pip for PyTorch, with a fake nvidia-smi that does or does not list a GPU."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if gpu:
        _fake_command(bin_dir, "nvidia-smi", 'echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)"')
    else:  # a driver-less machine where the tool exists but finds nothing
        _fake_command(bin_dir, "nvidia-smi", "echo 'NVIDIA-SMI has failed' >&2; exit 9")
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BRATS_TORCH")},
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHON": sys.executable,
        "BRATS_TORCH_CPU_INDEX": cpu_index,
        **env,
    }
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup.sh"), "--print-torch-command"],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split(), result.stderr


def test_without_a_gpu_torch_comes_from_the_cpu_index(tmp_path: Path, local_index: str) -> None:
    args, notes = torch_command(tmp_path, gpu=False, cpu_index=local_index)
    assert args == [TORCH_SPEC, "--index-url", local_index]
    assert notes == ""


def test_the_default_cpu_index_is_pytorchs(tmp_path: Path) -> None:
    text = (REPO / "scripts" / "setup.sh").read_text()
    assert f"CPU_INDEX=${{BRATS_TORCH_CPU_INDEX:-{CPU_INDEX}}}" in text


def test_an_unreachable_cpu_index_falls_back_to_the_plain_index(tmp_path: Path) -> None:
    args, notes = torch_command(tmp_path, gpu=False, cpu_index=_closed_port_url())
    assert args == [TORCH_SPEC]
    assert "cannot be reached; installing torch from the default index" in notes


def test_with_an_nvidia_gpu_torch_comes_from_the_default_index(tmp_path: Path, local_index: str) -> None:
    args, notes = torch_command(tmp_path, gpu=True, cpu_index=local_index)
    assert args == [TORCH_SPEC]
    assert "NVIDIA GPU" in notes


def test_the_choice_can_be_forced(tmp_path: Path, local_index: str) -> None:
    assert torch_command(tmp_path, gpu=True, cpu_index=local_index, BRATS_TORCH="cpu")[0] == [
        TORCH_SPEC,
        "--index-url",
        local_index,
    ]
    assert torch_command(tmp_path, gpu=False, cpu_index=local_index, BRATS_TORCH="cuda")[0] == [TORCH_SPEC]
    cu = "https://download.pytorch.org/whl/cu128"
    assert torch_command(tmp_path, gpu=False, cpu_index=local_index, BRATS_TORCH_INDEX=cu)[0] == [
        TORCH_SPEC,
        "--index-url",
        cu,
    ]


# ---------------------------------------------------------------- what pip would resolve
def _reachable(url: str) -> str | None:
    """None when ``url`` answers, else why not."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10):
            pass
    except OSError as exc:
        return str(exc)
    return None


def pip_report(tmp_path: Path, args: list[str], *, fresh_machine: bool) -> dict[str, str]:
    """name -> version pip would install for ``args`` (dry run; wheels' metadata by HTTP range requests only).

    ``fresh_machine`` ignores this machine's pip configuration (its local wheel cache and constraints).
    """
    env = dict(os.environ)
    if fresh_machine:
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--only-binary=:all:",
            "--use-feature=fast-deps",  # metadata by range requests: no multi-GB download
            "--no-cache-dir",
            "--quiet",
            "--report",
            str(report),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    entries = json.loads(report.read_text())["install"]
    return {e["metadata"]["name"].lower(): e["metadata"]["version"] for e in entries} | {
        "torch-url": next(e["download_info"]["url"] for e in entries if e["metadata"]["name"] == "torch")
    }


def test_pip_resolves_the_cpu_wheel_without_cuda_from_the_cpu_index(tmp_path: Path, local_index: str) -> None:
    problem = _reachable(f"{CPU_INDEX}/torch/")
    if problem:
        pytest.skip(f"PyTorch's CPU wheel index {CPU_INDEX} cannot be reached from here ({problem})")
    args, _ = torch_command(tmp_path, gpu=False, cpu_index=CPU_INDEX)
    resolved = pip_report(tmp_path, args, fresh_machine=True)
    assert resolved["torch"] == "2.13.0+cpu"
    assert not [name for name in resolved if name.startswith(("nvidia-", "cuda-", "triton"))]


def test_pip_resolves_the_cuda_build_from_the_plain_index(tmp_path: Path, local_index: str) -> None:
    problem = _reachable(f"{PYPI}/torch/")
    if problem:
        pytest.skip(f"PyPI cannot be reached from here ({problem})")
    args, _ = torch_command(tmp_path, gpu=True, cpu_index=local_index)
    resolved = pip_report(tmp_path, args, fresh_machine=True)
    assert resolved["torch"] == "2.13.0"
    cuda = sorted(name for name in resolved if name.startswith("nvidia-"))
    assert len(cuda) >= 10, resolved


def test_this_machines_wheel_cache_still_gives_the_cpu_wheel(tmp_path: Path) -> None:
    """Here pip is configured with a local wheel cache and constraints; the chosen command keeps using them."""
    cached = sorted(Path("/opt/wheels").glob("torch-2.13.0+cpu-*.whl"))
    if not cached:
        pytest.skip("no local wheel cache with torch 2.13.0+cpu on this machine (/opt/wheels)")
    args, _ = torch_command(tmp_path, gpu=False, cpu_index=CPU_INDEX)
    resolved = pip_report(tmp_path, args, fresh_machine=False)
    assert resolved["torch"] == "2.13.0+cpu"
    assert resolved["torch-url"].startswith("file:///opt/wheels/")
    assert not [name for name in resolved if name.startswith("nvidia-")]


# ---------------------------------------------------------------- run.sh
@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The real run.sh in a copy of the repository whose setup.sh is a stand-in that logs its calls."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "run.sh", root / "scripts" / "run.sh")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / "scripts" / "setup.sh").write_text(
        "set -e\n"
        'echo setup >> "$LOG"\n'
        '[ -z "${SETUP_FAILS:-}" ] || exit 7\n'
        "mkdir -p .venv/bin\n"
        f"ln -sf {sys.executable} .venv/bin/python\n"
        'printf \'#!/bin/sh\\necho "viewer $*" >> "$LOG"\\n\' > .venv/bin/brats-viewer\n'
        "chmod +x .venv/bin/brats-viewer\n"
    )
    return root


def run_sh(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    offline = {  # nothing may need the network once installed
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_NO_INDEX": "1",
    }
    full_env = {**os.environ, **offline, "LOG": str(root / "log"), **env}
    return subprocess.run(
        ["bash", str(root / "scripts" / "run.sh"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
    )


def log(root: Path) -> list[str]:
    return (root / "log").read_text().splitlines()


def test_run_sh_installs_once_then_starts_at_once(repo_copy: Path) -> None:
    assert run_sh(repo_copy, "--self-test").returncode == 0
    assert log(repo_copy) == ["setup", "viewer --self-test"]
    assert run_sh(repo_copy, "CASE").returncode == 0
    assert log(repo_copy) == ["setup", "viewer --self-test", "viewer CASE"]


def test_run_sh_installs_again_when_pyproject_changes(repo_copy: Path) -> None:
    assert run_sh(repo_copy).returncode == 0
    pyproject = repo_copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# a new dependency\n")
    assert run_sh(repo_copy).returncode == 0
    assert run_sh(repo_copy).returncode == 0
    assert log(repo_copy) == ["setup", "viewer ", "setup", "viewer ", "viewer "]


def test_run_sh_installs_again_when_the_environment_is_gone(repo_copy: Path) -> None:
    assert run_sh(repo_copy).returncode == 0
    shutil.rmtree(repo_copy / ".venv")
    assert run_sh(repo_copy).returncode == 0
    assert log(repo_copy) == ["setup", "viewer ", "setup", "viewer "]


def test_a_failed_setup_starts_nothing_and_is_retried(repo_copy: Path) -> None:
    failed = run_sh(repo_copy, SETUP_FAILS="1")
    assert failed.returncode == 7
    assert log(repo_copy) == ["setup"]
    assert not (repo_copy / ".venv" / ".brats-setup-stamp").exists()
    assert run_sh(repo_copy).returncode == 0
    assert log(repo_copy) == ["setup", "setup", "viewer "]
