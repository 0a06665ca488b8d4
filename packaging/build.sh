#!/usr/bin/env bash
# Build the one-folder desktop app with PyInstaller: dist/brats-viewer/brats-viewer (+ its _internal/).
# Usage: bash packaging/build.sh [--dist DIR] [--work DIR]   (defaults: dist/ and build/ in the repository)
# Installs PyInstaller into .venv when missing; prints build time and the folder's size.
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=dist
WORK=build
while [ $# -gt 0 ]; do
    case "$1" in
        --dist) DIST=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        *) echo "usage: $0 [--dist DIR] [--work DIR]" >&2; exit 2 ;;
    esac
done

VPY=${VPY:-.venv/bin/python}
if [ ! -x "$VPY" ]; then
    echo "error: $VPY not found: run 'bash scripts/setup.sh' first (or set VPY to a Python with the app installed)" >&2
    exit 1
fi
if ! "$VPY" -c 'import PyInstaller' 2>/dev/null; then
    echo "==> installing PyInstaller"
    "$VPY" -m pip install --quiet "pyinstaller>=6.11"
fi
for part in resources/models/default/model.json resources/sample; do
    [ -e "$part" ] || echo "warning: $part is missing: the build will not contain it" >&2
done

start=$(date +%s)
nice -n 10 "$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" packaging/brats_viewer.spec
folder="$DIST/brats-viewer"
# The VTK and torch libraries keep their full symbol tables (~190 MB); the dynamic symbols stay. Only these
# two trees: auditwheel-patched libraries (numpy.libs, scipy.libs) break when stripped.
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null 2>&1; then
    find "$folder/_internal/vtkmodules" "$folder/_internal/torch/lib" -type f -name '*.so*' \
        -exec strip --strip-unneeded {} +
    # deepbet's compiled helpers ship with debug info (cc3d alone 19 MB -> 3 MB without it)
    find "$folder/_internal" -maxdepth 2 -type f \( -path '*/cc3d/*' -o -path '*/fill_voids/*' -o -path '*/fastremap/*' \) \
        -name '*.so' -exec strip --strip-debug {} +
fi
seconds=$(( $(date +%s) - start ))

echo "==> built $folder in ${seconds} s"
echo "==> size: $(du -sh "$folder" | cut -f1) ($(du -sb "$folder" | cut -f1) bytes)"
echo "==> smoke test: $VPY packaging/smoke_test.py --app $folder/brats-viewer"
