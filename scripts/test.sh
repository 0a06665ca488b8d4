#!/usr/bin/env bash
# Set everything up (venv, test extras, virtual-display packages) and run the whole test suite:
# ruff, import contracts, then pytest (under xvfb-run so the GUI tests get a real X display and GL).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1
bash scripts/install_xvfb.sh || exit 1

V=.venv/bin
echo "==> ruff"
$V/ruff check . && $V/ruff format --check . || exit 1
echo "==> import contracts"
$V/lint-imports || exit 1
echo "==> mypy (the Qt-free packages listed in pyproject.toml)"
$V/python -m mypy || exit 1

echo "==> pytest"
if command -v xvfb-run >/dev/null 2>&1; then
    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1200x24" $V/python -m pytest "$@"
else
    echo "note: xvfb-run not available: tests marked 'gui' are skipped"
    $V/python -m pytest "$@"
fi
rc=$?
if [ $rc -eq 5 ]; then
    echo "error: pytest collected no tests" >&2
    exit 1
fi
exit $rc
