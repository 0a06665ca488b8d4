#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install the app into it.
# Usage: scripts/setup.sh [--test]   (--test adds the test extras)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: Python 3.11 or newer is needed ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
fi
VPY=.venv/bin/python
"$VPY" -m pip install --quiet --upgrade pip

# The CPU build of PyTorch is all the app needs; pinning it keeps pip from pulling a multi-GB CUDA build.
if ! "$VPY" -c 'import torch' 2>/dev/null; then
    echo "==> installing PyTorch (CPU)"
    "$VPY" -m pip install --quiet "torch==2.13.0"
fi

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
echo "==> installing brats-viewer${extras}"
"$VPY" -m pip install --quiet -e ".${extras}"
