#!/usr/bin/env bash
# Set everything up and start the viewer on the bundled sample case with the bundled model.
# Extra arguments go to brats-viewer (e.g. --no-gui predict CASE -o OUT for the headless path).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/brats-viewer "$@"
