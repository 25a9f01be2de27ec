"""Host side of scripts/cpython-tests.sh: turn each module's output
(target/cpython-tests/<module>.out/.err/.rc) into the table and verdict.

  report.py --line DIR MODULE     one progress line (stderr)
  report.py DIR MODULE...         the table, failures and total; exit 1 if a
                                  module broke or < 99 % of run tests passed
"""

import json
import sys
from pathlib import Path


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


def main(argv):
    if argv[0] == "--line":
        out, name = Path(argv[1]), argv[2]
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
    out, names = Path(argv[0]), argv[1:]
    total = dict(run=0, failed=0, errors=0, skipped=0, seconds=0.0)
    broken = []
    skipped_modules = []
    print("| module | run | failed | errors | skipped | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    failures = []
    for name in names:
        report, rc, wall, why = load(out, name)
        if report is None:
            broken.append(name)
            print(f"| {name} | BROKE: {why} | | | | {wall:.1f} |")
            total["seconds"] += wall
            continue
        if report.get("module_skipped"):
            skipped_modules.append(name)
            print(f"| {name} | module skipped on WASI: {report['module_skipped']} | | | | {wall:.1f} |")
            total["seconds"] += wall
            continue
        for key in ("run", "failed", "errors", "skipped"):
            total[key] += report[key]
        total["seconds"] += wall
        failures += [(name, f) for f in report["failures"]]
        print(
            f"| {name} | {report['run']} | {report['failed']} | {report['errors']} "
            f"| {report['skipped']} | {wall:.1f} |"
        )
    ran = total["run"] - total["skipped"]
    passed = ran - total["failed"] - total["errors"]
    rate = 100.0 * passed / ran if ran else 100.0
    print(
        f"| **total: {len(names) - len(broken) - len(skipped_modules)} modules ran** | {total['run']} | {total['failed']} "
        f"| {total['errors']} | {total['skipped']} | {total['seconds']:.0f} |"
    )
    print()
    print(
        f"{passed} of {ran} non-skipped tests passed ({rate:.2f} %); "
        f"{len(broken)} modules broke the sandbox{': ' + ', '.join(broken) if broken else ''}; "
        f"{len(skipped_modules)} skipped as a whole on WASI"
    )
    for name, f in failures:
        print(f"  {f['kind']}: {f['id']}: {f['summary'][:160]}")
    return 1 if broken or rate < 99.0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
