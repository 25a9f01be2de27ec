"""Data-stack bench rows, side by side in one run: native CPython (the
pinned wheels of requirements-native.txt) vs the sandbox (our WASI builds).

    python3 scripts/data_stack/bench.py [--eryx PATH] [--runs N]

Rows: `import pandas` and `import matplotlib.pyplot` in a new process
(median of N; the sandbox's image has them pre-imported), then the compute
timings of timings.py (best of 5 inside one process). Markdown on stdout."""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from compare import ROOT, WORKFLOWS, native_python  # noqa: E402

PACKAGES = WORKFLOWS["matplotlib"][1]


def median_ms(cmd, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eryx", default=str(ROOT / "target" / "release" / "eryx"))
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    subprocess.run([str(ROOT / "scripts" / "build-packages.sh"), *WORKFLOWS["matplotlib"][2]], check=True,
                   stdout=subprocess.DEVNULL)
    py = str(native_python())
    eryx = [args.eryx]
    for p in PACKAGES:
        eryx += ["--with", p]
    subprocess.run(eryx + ["-c", "pass"], check=True)  # resolve and build the image once
    print("| row | native CPython 3.11 (ms) | eryx (ms) | eryx / native |")
    print("|---|---:|---:|---:|")
    for mod in ("pandas", "matplotlib.pyplot"):
        n = median_ms([py, "-c", f"import {mod}"], args.runs)
        e = median_ms(eryx + ["-c", f"import {mod}"], args.runs)
        print(f"| new process, `import {mod}` (median of {args.runs}) | {n:.0f} | {e:.0f} | {e / n:.2f} |")
    native = subprocess.run([py, str(HERE / "timings.py")], check=True, capture_output=True, text=True).stdout
    ours = subprocess.run(eryx + [str(HERE / "timings.py")], check=True, capture_output=True, text=True).stdout
    for a, b in zip(native.splitlines(), ours.splitlines()):
        name, n = a.split("\t")
        e = b.split("\t")[1]
        print(f"| {name} (best of 5) | {float(n):.2f} | {float(e):.2f} | {float(e) / float(n):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
