"""Packages' own test suites inside the sandbox (issue 23): each suite runs
pytest in `eryx --with ...` (real CPython in real wasmtime), and the counts
go into a Markdown table (target/package-suites/report.md) for docs/package-suites.md.

A suite's tests come from the installed wheel (`--pyargs`) or, for projects
that ship them only in the source distribution, from the pinned sdist,
downloaded once into the cache and mounted read-only at /suite.

pytest runs with the plugins that need what WASI lacks turned off: the
cache provider and faulthandler (no os.dup) and fd capture (sys capture
instead). Exit status: 1 when a suite has more failures than its budget
(the failures classified in suites.py) or does not run at all.
"""

import argparse
import os
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "scripts" / "build_packages"))
import fetch  # noqa: E402
from suites import PYTEST, SUITES  # noqa: E402

PYTEST_FLAGS = ["-q", "-p", "no:cacheprovider", "-p", "no:faulthandler", "--capture=sys",
                "-o", "addopts=", "--no-header", "-rN"]
CHDIR_PYTEST = "import os, sys, pytest; os.chdir(sys.argv[1]); sys.exit(pytest.main(sys.argv[2:]))"
COUNT = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?|deselected)")


def cache_dir():
    base = os.environ.get("ERYX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "eryx")
    return Path(base) / "suites"


def sdist_tests(project, version, subdir, sha256):
    """The tests directory of project==version's sdist (fetched once from the
    package index by its pinned sha256, with the build pipeline's fetch)."""
    out = cache_dir() / f"{project}-{version}"
    tests = out / subdir
    if tests.is_dir():
        return tests
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        archive = Path(fetch.download(project, version, sha256, str(out.parent / f".{project}-{version}.download")))
    except fetch.StepFailed as e:
        raise SystemExit(f"package-suites: {project} {version}: {e}") from None
    tmp = out.parent / f".{project}-{version}.unpack"
    with tarfile.open(archive) as t:
        t.extractall(tmp, filter="data")
    (top,) = list(tmp.iterdir())
    top.rename(out)
    return tests


def run(eryx, suite, short, failures_to=None):
    cmd = [str(eryx)]
    for r in PYTEST + suite["with"]:
        cmd += ["--with", r]
    cmd += ["--no-preimport-with"]
    targets = suite["ci"] if short else suite["targets"]
    if "sdist" in suite:
        tests = sdist_tests(*suite["sdist"])
        cmd += ["--mount", f"{tests}:/suite:ro"]
        args = [f"/suite/{t}" for t in targets]
    elif "paths" in suite:
        base = {Path(p).name: p for p in suite["paths"]}
        args = [base[t] for t in targets]
    else:
        args = ["--pyargs", *targets]
    # -r is pytest's last-one-wins option: -rfE lists failures and errors.
    report = ["-rfE"] if failures_to else []
    if "cwd" in suite:
        # Tests that open their data relative to the working directory (Pillow's
        # Tests/images/...): a fixed launcher, the directory and pytest's
        # arguments passed as sys.argv.
        cmd += ["-c", CHDIR_PYTEST, suite["cwd"]]
    else:
        cmd += ["-m", "pytest"]
    cmd += [*PYTEST_FLAGS, *report, *suite.get("pytest", []), *args]
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.monotonic() - start
    tail = [l for l in p.stdout.splitlines() if " in " in l and COUNT.search(l)]
    counts = {k.rstrip("s") if k.startswith("error") else k: int(n)
              for n, k in COUNT.findall(tail[-1])} if tail else {}
    if not tail:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
    if failures_to:
        failures_to.parent.mkdir(parents=True, exist_ok=True)
        failures_to.write_text("".join(l + "\n" for l in p.stdout.splitlines()
                                       if l.startswith(("FAILED ", "ERROR "))))
    return counts, secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="suites to run (default: all)")
    ap.add_argument("--ci", action="store_true", help="the short subsets CI runs")
    ap.add_argument("--eryx", default=str(ROOT / "target/release/eryx"))
    ap.add_argument("--report", default=str(ROOT / "target/package-suites/report.md"))
    ap.add_argument("--list-failures", action="store_true",
                    help="write each suite's failing test ids to target/package-suites/NAME-failures.txt")
    args = ap.parse_args()
    chosen = [s for s in SUITES if not args.names or s["name"] in args.names]
    builds = [b for s in chosen for b in s.get("build", [])]
    if builds:
        subprocess.run([str(ROOT / "scripts/build-packages.sh"), *builds], check=True,
                       stdout=subprocess.DEVNULL)
    rows, bad = [], 0
    for s in chosen:
        listing = Path(args.report).parent / f"{s['name']}-failures.txt" if args.list_failures else None
        c, secs = run(args.eryx, s, args.ci, listing)
        failed = c.get("failed", 0) + c.get("error", 0)
        budget = s["ci_failures"] if args.ci else sum(n for n, _ in s["failures"])
        ok = bool(c) and c.get("passed", 0) > 0 and failed <= budget
        bad += not ok
        why = "; ".join(f"{n}: {w}" for n, w in s["failures"]) if failed else ""
        rows.append(f"| {s['name']} {s['version']} | {' '.join(s['ci'] if args.ci else s['targets'])} "
                    f"| {c.get('passed', 0)} | {failed} | {c.get('skipped', 0)} "
                    f"| {c.get('xfailed', 0)} | {secs:.0f} | {why} |")
        print(f"package-suites: {s['name']}: {c or 'did not run'} in {secs:.0f} s"
              + ("" if ok else f" — OVER BUDGET ({failed} > {budget})" if c else " — FAILED"),
              file=sys.stderr, flush=True)
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    head = ["| suite | tests | passed | failed | skipped | xfailed | s | failures, classified |",
            "|---|---|---:|---:|---:|---:|---:|---|"]
    report.write_text("\n".join(head + rows) + "\n")
    print(report.read_text(), end="")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
