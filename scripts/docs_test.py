"""The docs test: run the fenced blocks of README.md and docs/*.md that are
marked as tested, and compare their output with the output the page shows.

Convention (a block's info string):
  ```bash tested          run with `bash -euo pipefail` in the repository root
  ```python tested        run in the sandbox: `target/release/eryx -` (code on stdin)
  ```python tested host   run on the host by the Python that has the eryx wheel
                          (target/python-test-venv, made by scripts/test-python.sh)
  ```python tested host kernel   the same, by the Python that also has the
                          Jupyter kernel's and agent frameworks' pins
                          (target/kernel-test-venv, made by scripts/test-kernel.sh)
  ```text output          right after a tested block: its expected stdout; in a
                          line, `...` matches any text

A bash block runs in its own process group, which is killed when it ends, so
servers it starts in the background never outlive it. Exit status 0 when every
block passed; otherwise each failure is reported with page, line and output.

Usage: python3 scripts/docs_test.py [PAGE.md ...]   (default: README.md docs/*.md)
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\S*)(.*)$")
# A block gets this long (a server walk-through starts processes and waits).
BLOCK_TIMEOUT_S = 120


def blocks(path):
    """(line, lang, flags, text) of each fenced block of a page."""
    lines = path.read_text(encoding="utf-8").split("\n")
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang, flags = i + 1, m.group(1), m.group(2).split()
        j = i + 1
        while j < len(lines) and lines[j] != "```":
            j += 1
        if j == len(lines):
            raise SystemExit(f"{path}:{start}: unclosed fenced block")
        out.append((start, lang, flags, "\n".join(lines[i + 1 : j]) + "\n"))
        i = j + 1
    return out


def host_python(flags=()):
    venv, script = "python-test-venv", "test-python.sh"
    if "kernel" in flags:
        venv, script = "kernel-test-venv", "test-kernel.sh"
    py = ROOT / "target" / venv / "bin" / "python"
    if not py.exists():
        raise SystemExit(
            f"docs test: {py} is missing (run scripts/{script} first: "
            "it makes the venv with the eryx wheel)"
        )
    return str(py)


def run(lang, flags, code):
    """Run one block; (exit status, stdout, stderr)."""
    if lang == "bash":
        argv, stdin = ["bash", "-euo", "pipefail", "-c", code], None
    elif lang == "python" and "host" in flags:
        argv, stdin = [host_python(flags), "-c", code], None
    elif lang == "python":
        argv, stdin = [str(ROOT / "target" / "release" / "eryx"), "-"], code
    else:
        raise SystemExit(f"docs test: no runner for a tested `{lang}` block")
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=BLOCK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err + f"\n(timed out after {BLOCK_TIMEOUT_S} s)"
    finally:
        # Whatever the block left running in the background.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    return proc.returncode, out, err


def matches(expected, actual):
    """Line by line; `...` in an expected line matches any text."""
    exp = expected.rstrip("\n").split("\n")
    act = actual.rstrip("\n").split("\n")
    if len(exp) != len(act):
        return False
    for e, a in zip(exp, act):
        pattern = ".*".join(re.escape(part) for part in e.split("..."))
        if not re.fullmatch(pattern, a.rstrip()):
            return False
    return True


def check_page(path):
    """Failures (strings) of one page; prints one line per tested block."""
    failures = []
    found = blocks(path)
    for k, (line, lang, flags, code) in enumerate(found):
        if "tested" not in flags:
            continue
        where = f"{path.relative_to(ROOT)}:{line}"
        t0 = time.monotonic()
        status, out, err = run(lang, flags, code)
        took = time.monotonic() - t0
        before = len(failures)
        expected = None
        if k + 1 < len(found) and "output" in found[k + 1][2]:
            expected = found[k + 1][3]
        if status != 0:
            failures.append(f"{where}: exit status {status}\n--- stdout\n{out}--- stderr\n{err}")
        elif expected is not None and not matches(expected, out):
            failures.append(
                f"{where}: output differs\n--- the page shows\n{expected}--- the block printed\n{out}"
                f"--- stderr\n{err}"
            )
        verdict = "ok" if len(failures) == before else "FAILED"
        print(f"docs test: {where} ({lang}) {verdict} {took:.1f} s", flush=True)
    return failures


def main():
    pages = [Path(p).resolve() for p in sys.argv[1:]] or [ROOT / "README.md"] + sorted(
        (ROOT / "docs").glob("*.md")
    )
    failures, tested = [], 0
    for page in pages:
        tested += sum(1 for b in blocks(page) if "tested" in b[2])
        failures += check_page(page)
    for f in failures:
        print(f"\nFAILED {f}", file=sys.stderr)
    print(f"docs test: {tested - len(failures)} of {tested} tested blocks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
