#!/usr/bin/env bash
# Start the viewer on the bundled sample case with the bundled model, setting up .venv first when it is
# missing or pyproject.toml changed since the last setup (a stamp in .venv records its hash); an installed
# environment starts at once and offline.
# Extra arguments go to brats-viewer (e.g. --no-gui predict CASE -o OUT for the headless path).
set -euo pipefail
cd "$(dirname "$0")/.."

STAMP=.venv/.brats-setup-stamp
pyproject_hash() {
    local python=python3
    [ -x .venv/bin/python ] && python=.venv/bin/python
    "$python" -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())'
}

wanted=$(pyproject_hash)
if [ ! -x .venv/bin/brats-viewer ] || [ "$(cat "$STAMP" 2>/dev/null || true)" != "$wanted" ]; then
    bash scripts/setup.sh
    echo "$wanted" > "$STAMP"
fi
exec .venv/bin/brats-viewer "$@"
