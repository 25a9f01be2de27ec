"""Host side of scripts/cpython-tests.sh: turn each module's output
(target/cpython-tests/<module>.out/.err/.rc) into the table and the gate.

  report.py --line DIR MODULE                      one progress line (stderr)
  report.py [--update] --scratch S DIR MODULE...   the table, failures and the
                                                   gate; --update first records
                                                   these modules' outcome

S is the /tmp the run used (vfs or host). expected.txt holds one line per
module and scratch: `MODULE S run=R passed=P skipped=K listed=L` (L of the
K skipped tests by skips.py entries) or `MODULE S module-skipped`.

The gate (exit 1) fails on: a module that broke the sandbox; any failure,
error or unexpected success (a known one is a skips.py entry, never a
tolerated failure); a module that ran zero tests; a module whose outcome
differs from expected.txt, or that has no line there; and a skips.py entry
of a module that ran which matched no test (stale).
"""

import json
import sys
from pathlib import Path

import skips

EXPECTED = Path(__file__).with_name("expected.txt")
# Test ids that do not start with their module's name.
ALIASES = {"datetimetester": "test_datetime"}


def load(out, name):
    rc_line = (out / f"{name}.rc").read_text().split()
    rc, start, end = int(rc_line[1]), float(rc_line[2]), float(rc_line[3])
    report = None
    for line in (out / f"{name}.out").read_text(errors="replace").splitlines():
        if line.startswith("ERYX-SUITE "):
            report = json.loads(line[len("ERYX-SUITE "):])
    err = (out / f"{name}.err").read_text(errors="replace").strip().splitlines()
    why = ""
    if report is None:
        why = err[-1] if err else f"exit status {rc}, no report"
        current = out / f"{name}.current"
        if current.exists():
            why += f" in {current.read_text().strip()}"
    return report, rc, end - start, why


def write_log(out, name, report):
    lines = [f"{f['kind']}: {f['id']}: {f['summary']}" for f in report["failures"]]
    (out / f"{name}.log").write_text("\n".join(lines) + ("\n" if lines else ""))


def outcome(report):
    """What expected.txt records for a module's report."""
    if report.get("module_skipped"):
        return "module-skipped"
    passed = report["run"] - report["skipped"] - report["failed"] - report["errors"]
    return f"run={report['run']} passed={passed} skipped={report['skipped']} listed={report.get('listed', 0)}"


def read_expected():
    """{(module, scratch): outcome} of expected.txt."""
    expected = {}
    for line in EXPECTED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, scratch, rest = line.split(None, 2)
            expected[name, scratch] = rest.strip()
    return expected


def write_expected(expected):
    head = [l for l in EXPECTED.read_text().splitlines() if l.startswith("#")]
    body = [f"{name} {scratch} {expected[name, scratch]}" for name, scratch in sorted(expected)]
    EXPECTED.write_text("\n".join(head + body) + "\n")


def module_of(pattern):
    first = pattern.split(".", 1)[0]
    return ALIASES.get(first, first)


def gate(reports, broken, expected, scratch):
    """Every reason the run (with /tmp `scratch`) does not match what is
    committed."""
    problems = [f"{name}: broke the sandbox" for name in broken]
    matched = set()
    for name, report in reports.items():
        matched |= set(report.get("skips_matched", []))
        for f in report["failures"]:
            problems.append(f"{name}: new {f['kind']}: {f['id']}")
        if not report.get("module_skipped") and report["run"] == 0:
            problems.append(f"{name}: ran zero tests")
        want = expected.get((name, scratch))
        got = outcome(report)
        if want is None:
            problems.append(
                f"{name}: no line for /tmp {scratch} in {EXPECTED.name} (got {got!r}; record it with --update)"
            )
        elif want != got:
            problems.append(f"{name}: expected {want!r}, got {got!r}")
    ran = {name for name, r in reports.items() if not r.get("module_skipped")}
    for pattern in skips.SKIPS:
        if module_of(pattern) in ran and pattern not in matched:
            problems.append(f"stale skip (matches no test of {module_of(pattern)}): {pattern}")
    return problems


def line(out, name):
    report, rc, wall, why = load(out, name)
    if report is None:
        print(f"cpython-tests: {name}: BROKE THE SANDBOX ({why})")
    elif report.get("module_skipped"):
        print(f"cpython-tests: {name}: skipped on WASI ({report['module_skipped']})")
    else:
        write_log(out, name, report)
        print(
            f"cpython-tests: {name}: {report['run']} run, {report['failed']} failed, "
            f"{report['errors']} errors, {report['skipped']} skipped, {wall:.1f} s"
        )
    return 0


def main(argv):
    if argv[0] == "--line":
        return line(Path(argv[1]), argv[2])
    update = argv[0] == "--update"
    if update:
        argv = argv[1:]
    if argv[0] != "--scratch" or argv[1] not in ("vfs", "host"):
        raise SystemExit("report.py: --scratch vfs|host is required")
    scratch, out, names = argv[1], Path(argv[2]), argv[3:]
    total = dict(run=0, failed=0, errors=0, skipped=0, seconds=0.0)
    broken, reports = [], {}
    print("| module | run | failed | errors | skipped | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        report, rc, wall, why = load(out, name)
        total["seconds"] += wall
        if report is None:
            broken.append(name)
            print(f"| {name} | BROKE: {why} | | | | {wall:.1f} |")
            continue
        reports[name] = report
        if report.get("module_skipped"):
            print(f"| {name} | module skipped on WASI: {report['module_skipped']} | | | | {wall:.1f} |")
            continue
        for key in ("run", "failed", "errors", "skipped"):
            total[key] += report[key]
        print(
            f"| {name} | {report['run']} | {report['failed']} | {report['errors']} "
            f"| {report['skipped']} | {wall:.1f} |"
        )
    ran = total["run"] - total["skipped"]
    passed = ran - total["failed"] - total["errors"]
    print(
        f"| **total: {len(reports)} modules reported** | {total['run']} | {total['failed']} "
        f"| {total['errors']} | {total['skipped']} | {total['seconds']:.0f} |"
    )
    print()
    print(f"{passed} of {ran} non-skipped tests passed; {len(broken)} modules broke the sandbox")
    expected = read_expected()
    if update:
        for name, report in reports.items():
            expected[name, scratch] = outcome(report)
        write_expected(expected)
        print(f"recorded {len(reports)} modules (/tmp {scratch}) in {EXPECTED}")
    problems = gate(reports, broken, expected, scratch)
    for p in problems:
        print(f"  GATE: {p}")
    print("gate: " + ("FAILED" if problems else "passed (every outcome as committed)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
