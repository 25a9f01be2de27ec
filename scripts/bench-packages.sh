#!/usr/bin/env bash
# Bench rows for packages by name, side by side in one run: a new process
# `eryx --with PKG -c 'import MOD'` (pre-imported image) vs `eryx -c pass`
# vs native `python3 -c 'import MOD'` (a venv with the same version).
# Usage: scripts/bench-packages.sh [PKG [MOD [RUNS]]]  (default rich rich 10)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PKG=${1:-rich}; MOD=${2:-$PKG}; RUNS=${3:-10}
ERYX="$ROOT/target/release/eryx"
VENV="$ROOT/target/bench-packages-venv"
"$ERYX" --with "$PKG" -c "import $MOD" >/dev/null   # warm: resolve, build the image
VERSION=$("$ERYX" --with "$PKG" -c "import importlib.metadata as m; print(m.version('$PKG'))")
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet "$PKG==$VERSION" >&2
python3 - "$RUNS" "$PKG==$VERSION" \
  "eryx --with $PKG -c 'import $MOD'" "$ERYX --with $PKG -c 'import $MOD'" \
  "eryx -c pass (no packages)" "$ERYX -c pass" \
  "python3 -c 'import $MOD' (native $(python3 -V | cut -d' ' -f2))" "$VENV/bin/python -c 'import $MOD'" <<'PY'
import shlex, statistics, subprocess, sys, time
runs, what, rows = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
print(f"| {what}: new process, {runs} runs | median ms | min ms |")
print("| --- | --- | --- |")
for label, cmd in zip(rows[::2], rows[1::2]):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(shlex.split(cmd), check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t) * 1000)
    print(f"| {label} | {statistics.median(times):.1f} | {min(times):.1f} |")
PY
