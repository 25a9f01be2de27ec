"""Benchmark driver appended after a workload: `_warm()` runs `run()` once,
untimed; `_bench(reps)` times `reps` runs of `run()` with
time.perf_counter (so process start and setup are excluded) and prints the
seconds of each on one line."""

import time as _time


def _warm():
    run()


def _bench(reps):
    times = []
    for _ in range(reps):
        t0 = _time.perf_counter()
        run()
        times.append(_time.perf_counter() - t0)
    print(" ".join(repr(t) for t in times))
