"""Kernel timings through the real jupyter_client, the eryx kernel and
ipykernel's own (python3) side by side in one run:

- start: ``KernelManager.start_kernel()`` until the first
  ``execute_reply`` (of ``print(1)``), one start each;
- round trip: ``execute("print(1)")`` until its ``execute_reply`` and the
  kernel's "idle" on IOPub, N cells each (median, p90, min).

Run in the kernel test venv (scripts/test-kernel.sh makes it):
    target/kernel-test-venv/bin/python bindings/python/bench/kernel_bench.py [N]
The eryx kernelspec is installed into a temporary directory for the run.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time


def first_reply(kc, code, idle=True):
    msg_id = kc.execute(code)
    while True:
        reply = kc.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    while idle:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" and (
            msg["content"]["execution_state"] == "idle"
        ):
            return reply


def measure(name, cells):
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    # The shell socket queues the request until the kernel is up; IOPub
    # may miss the first cell's messages (ZeroMQ's slow joiner).
    first_reply(kc, "print(1)", idle=False)
    start = time.perf_counter() - t0
    kc.wait_for_ready(timeout=60)
    trips = []
    for _ in range(cells):
        t = time.perf_counter()
        first_reply(kc, "print(1)")
        trips.append(time.perf_counter() - t)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    trips.sort()
    return start, statistics.median(trips), trips[int(len(trips) * 0.9)], trips[0]


def main():
    cells = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as prefix:
        subprocess.run([sys.executable, "-m", "eryx.kernel", "install", "--prefix", prefix],
                       check=True, capture_output=True)
        os.environ["JUPYTER_PATH"] = os.path.join(prefix, "share", "jupyter")
        rows = [(label, measure(name, cells)) for label, name in
                (("eryx kernel", "eryx"), ("ipykernel (python3, native 3.11)", "python3"))]
    print("| kernel | start to first execute_reply ms | `print(1)` round trip, %d cells: median ms | p90 ms | min ms |"
          % cells)
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, (start, med, p90, low) in rows:
        print("| %s | %.0f | %.2f | %.2f | %.2f |" % (label, start * 1e3, med * 1e3, p90 * 1e3, low * 1e3))


if __name__ == "__main__":
    main()
