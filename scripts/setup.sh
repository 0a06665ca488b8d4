#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install the app into it.
# Usage: scripts/setup.sh [--test]          (--test adds the test extras)
#        scripts/setup.sh --print-torch-command   (print the pip arguments chosen for PyTorch, install nothing)
#
# PyTorch: on a machine without an NVIDIA GPU the CPU build comes from PyTorch's CPU wheel index (about
# 200 MB; the default Linux wheel on PyPI brings about 2.7 GB of CUDA libraries). With an NVIDIA GPU
# (nvidia-smi lists one) the default wheel from PyPI is installed, which includes CUDA.
# Environment:
#   BRATS_TORCH=auto|cpu|cuda   force the CPU or the CUDA build (default: auto, by nvidia-smi)
#   BRATS_TORCH_INDEX=URL       install torch from this index instead (e.g. https://download.pytorch.org/whl/cu128)
#   BRATS_TORCH_CPU_INDEX=URL   PyTorch's CPU wheel index (default: https://download.pytorch.org/whl/cpu)
# pip's own configuration (find-links, constraints, extra indexes) is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH_SPEC=${BRATS_TORCH_SPEC:-torch==2.13.0}
CPU_INDEX=${BRATS_TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}

has_nvidia_gpu() {
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '
}

index_reachable() {  # can pip's index at $1 be reached within a few seconds?
    "$PYTHON" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
url = sys.argv[1].rstrip("/") + "/torch/"
urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=8)
PY
}

# Prints the arguments for `pip install` that install PyTorch, one per line; notes go to stderr.
torch_install_args() {
    local variant=${BRATS_TORCH:-auto}
    if [ -n "${BRATS_TORCH_INDEX:-}" ]; then
        printf '%s\n' "$TORCH_SPEC" --index-url "$BRATS_TORCH_INDEX"
        return
    fi
    if [ "$variant" = auto ]; then
        if has_nvidia_gpu; then variant=cuda; else variant=cpu; fi
    fi
    case "$variant" in
        cuda)
            echo "note: NVIDIA GPU: installing the CUDA build of PyTorch from the default index" >&2
            printf '%s\n' "$TORCH_SPEC" ;;
        cpu)
            if index_reachable "$CPU_INDEX"; then
                printf '%s\n' "$TORCH_SPEC" --index-url "$CPU_INDEX"
            else
                echo "note: PyTorch's CPU wheel index $CPU_INDEX cannot be reached; installing torch from" \
                    "the default index (on Linux that wheel brings CUDA libraries, about 2.7 GB)" >&2
                printf '%s\n' "$TORCH_SPEC"
            fi ;;
        *)
            echo "error: BRATS_TORCH must be auto, cpu or cuda (not '$variant')" >&2
            return 1 ;;
    esac
}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
if [ "${1:-}" = "--print-torch-command" ]; then
    torch_install_args
    exit 0
fi
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
fi
VPY=.venv/bin/python
"$VPY" -m pip install --quiet --upgrade pip

if ! "$VPY" -c 'import torch' 2>/dev/null; then
    mapfile -t torch_args < <(torch_install_args)
    [ ${#torch_args[@]} -gt 0 ] || exit 1
    echo "==> installing PyTorch: pip install ${torch_args[*]}"
    "$VPY" -m pip install --quiet "${torch_args[@]}"
fi

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
echo "==> installing brats-viewer${extras}"
"$VPY" -m pip install --quiet -e ".${extras}"
