"""Timings of the Python package, run with the interpreter it is installed
in (scripts/bench-python.sh): `import eryx` in a new process, the first
sandbox of a new process, and warm `execute("print(1+1)")` from Python vs
the same call driven from Rust through the eryx library in this very
process (interleaved rounds, so the ratio holds on a noisy machine).
Prints a Markdown table."""

import statistics
import subprocess
import sys
import time

PROCS = 10
ROUNDS = 5
CALLS = 400
CODE = "print(1+1)"

IMPORT = "import time; t = time.perf_counter(); import eryx; print(time.perf_counter() - t)"
FIRST = (
    "import time; t0 = time.perf_counter(); import eryx; t1 = time.perf_counter()\n"
    "sb = eryx.Sandbox(); t2 = time.perf_counter()\n"
    "sb.execute('print(1+1)'); t3 = time.perf_counter()\n"
    "print(t1 - t0, t2 - t1, t3 - t2, t3 - t0)"
)


def child(code):
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - start, [float(x) for x in out.split()]


def ms(seconds):
    return "%.3f ms" % (seconds * 1e3)


def main():
    import eryx

    eryx.prepare()  # the image is built and cached before anything is timed
    child(FIRST)  # and the page cache is warm
    imports = [child(IMPORT)[1][0] for _ in range(PROCS)]
    firsts = [child(FIRST) for _ in range(PROCS)]

    sb = eryx.Sandbox()
    sb.execute(CODE)
    py, rust = [], []
    for _ in range(ROUNDS):
        for _ in range(CALLS):
            t = time.perf_counter()
            sb.execute(CODE)
            py.append(time.perf_counter() - t)
        rust.extend(eryx._eryx._rust_warm_execute(CODE, CALLS))
    py_med, rust_med = statistics.median(py), statistics.median(rust)

    med = statistics.median
    print("| what (medians) | time |")
    print("|---|---|")
    print("| `import eryx` in a new process (%d processes) | %s |" % (PROCS, ms(med(imports))))
    print("| new process: `eryx.Sandbox()` | %s |" % ms(med(f[1][1] for f in firsts)))
    print("| new process: first `execute(\"print(1+1)\")` | %s |" % ms(med(f[1][2] for f in firsts)))
    print("| new process: import + sandbox + first execute | %s |" % ms(med(f[1][3] for f in firsts)))
    print("| new process: `python -c` spawn to exit, all of the above | %s |" % ms(med(f[0] for f in firsts)))
    print("| warm `execute(\"print(1+1)\")` from Python (%d calls) | %s |" % (len(py), ms(py_med)))
    print("| warm `Sandbox::run(\"print(1+1)\")` from Rust, same process (%d calls) | %s |" % (len(rust), ms(rust_med)))
    print("| binding overhead: Python / Rust | %.3f× (+%.1f µs) |" % (py_med / rust_med, (py_med - rust_med) * 1e6))


if __name__ == "__main__":
    main()
