"""The host program exits cleanly while eryx's worker threads are in Python.

Each test runs a small program in a fresh interpreter and checks its exit
status: before the exit barrier (src/attach.rs) CPython <= 3.13 ended a worker
waiting for the GIL during finalization with pthread_exit, and the process
aborted (SIGABRT) after printing everything it should.
"""

import subprocess
import sys

import pytest

# A daemon thread is inside a sync callback (GIL released in time.sleep) when
# the main thread exits, and finalization's garbage collection takes a second
# (a cycle whose __del__ sleeps): the worker running the callback must get the
# GIL back before the interpreter finalizes, not during it.
CALLBACK_AT_EXIT = """
import threading, time, eryx

entered = threading.Event()

@eryx.callback
def slow():
    entered.set()
    time.sleep(0.5)
    return 1

sb = eryx.Sandbox(timeout=None, callbacks=[slow])
sb.execute("pass")
threading.Thread(target=sb.execute, args=("await slow()\\nimport time\\ntime.sleep(30)",), daemon=True).start()
entered.wait(10)

class SlowToCollect:
    def __del__(self, sleep=time.sleep):
        sleep(1)

c = SlowToCollect()
c.cycle = c
del c
print("exiting")
"""

# The docs' asyncio example (docs/python.md), the race CI hit: the worker that
# resolved the future is still in call_soon_threadsafe when asyncio.run returns.
ASYNC_THEN_EXIT = """
import asyncio, eryx

@eryx.callback
async def fetch(url):
    return {"url": url, "status": 200}

with eryx.Sandbox(callbacks=[fetch]) as sb:
    sb.execute("r = await fetch(url='x')")
    print(asyncio.run(sb.execute_async("print(r['status'])")).stdout, end="")
"""


def run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_exit_while_a_callback_runs_is_clean():
    p = run(CALLBACK_AT_EXIT)
    assert (p.returncode, p.stdout) == (0, "exiting\n"), p.stderr


@pytest.mark.parametrize("attempt", range(12))
def test_exit_right_after_execute_async_is_clean(attempt):
    p = run(ASYNC_THEN_EXIT)
    assert (p.returncode, p.stdout) == (0, "200\n"), p.stderr
