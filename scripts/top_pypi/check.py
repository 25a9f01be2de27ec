"""The top-150 import check (issue 23): every most-downloaded PyPI project whose
dependency closure is pure Python must import in the sandbox.

For each project of top150.tsv (or the names given) it runs
`eryx --with NAME --no-preimport-with import_check.py NAME`: pip resolves the
closure for the sandbox (pure wheels plus WASI builds), and the guest imports
every top-level module of the distribution. Outcomes:

  ok          every top-level module imported
  older       imported, but pip chose an older release than PyPI's newest
              (the newer ones need a native package without a WASI build);
              counted as imported, shown with both versions
  native      the closure needs a package with only CPython-native wheels and
              no WASI build (out of this check's scope; counted, not failed)
  by-design   failed, and listed in by_design.tsv with its reason
  FAIL        failed: an import raised, or eryx itself failed

Writes target/top-pypi/report.tsv; exits 1 on any FAIL, or on a by_design.tsv
entry that now imports (a stale entry).
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def read_tsv(path):
    rows = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


def newest(name):
    """PyPI's newest release of `name` (None when PyPI cannot be asked)."""
    try:
        with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=30) as r:
            return json.load(r)["info"]["version"]
    except (OSError, ValueError, KeyError):
        return None


def check(eryx, name, timeout):
    cmd = [str(eryx), "--with", name, "--no-preimport-with", "--no-stdin",
           str(HERE / "import_check.py"), name]
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "FAIL", "", f"no answer in {timeout} s", time.monotonic() - start
    secs = time.monotonic() - start
    lines = p.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        result = None
    if result is None:
        err = [l for l in p.stderr.splitlines() if l.startswith("eryx: error") or "Error" in l]
        why = (err or p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
        kind = "native" if "has only CPython-native wheels" in why else "FAIL"
        return kind, "", why.removeprefix("eryx: error: ").removeprefix("eryx: sandbox setup failed: "), secs
    if result["failed"]:
        why = "; ".join(f"{m}: {e}" for m, e in result["failed"].items())
        return "FAIL", result["version"], why, secs
    if not result["modules"]:
        return "FAIL", result["version"], "no top-level module found", secs
    latest = newest(name)
    if latest and latest != result["version"]:
        return "older", result["version"], f"newest is {latest}; imported: " + " ".join(result["modules"]), secs
    return "ok", result["version"], " ".join(result["modules"]), secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="projects to check (default: all of top150.tsv)")
    ap.add_argument("--eryx", default=str(ROOT / "target/release/eryx"))
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--report", default=str(ROOT / "target/top-pypi/report.tsv"))
    args = ap.parse_args()

    ranked = [(int(r), n) for r, n in read_tsv(HERE / "top150.tsv")]
    by_design = {r[0]: r[1] for r in read_tsv(HERE / "by_design.tsv")}
    wanted = args.names or [n for _, n in ranked]
    rank = {n: r for r, n in ranked}

    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    counts = {}
    bad = 0
    with report.open("w", newline="") as f:
        out = csv.writer(f, delimiter="\t", lineterminator="\n")
        out.writerow(["rank", "name", "outcome", "version", "detail", "seconds"])
        for name in wanted:
            kind, version, detail, secs = check(args.eryx, name, args.timeout)
            if kind == "FAIL" and name in by_design:
                kind, detail = "by-design", f"{by_design[name]} ({detail})"
            elif kind in ("ok", "older") and name in by_design:
                kind, detail = "FAIL", "listed in by_design.tsv but imports: remove the entry"
            counts[kind] = counts.get(kind, 0) + 1
            bad += kind == "FAIL"
            out.writerow([rank.get(name, ""), name, kind, version, detail, f"{secs:.1f}"])
            f.flush()
            print(f"{kind:9} {name} {version} {detail[:160]}", flush=True)
    pure = sum(v for k, v in counts.items() if k != "native")
    print(f"top-pypi: {len(wanted)} projects; pure closure {pure}: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
          + f"; report {report}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
