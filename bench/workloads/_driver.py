"""Benchmark driver appended after a workload: one untimed warm-up run, then
`_bench(reps)` times `run()` with time.perf_counter (so process start and
setup are excluded) and prints the seconds of each rep on one line."""

import time as _time


def _bench(reps):
    run()
    times = []
    for _ in range(reps):
        t0 = _time.perf_counter()
        run()
        times.append(_time.perf_counter() - t0)
    print(" ".join(repr(t) for t in times))
