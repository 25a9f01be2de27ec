"""Ctrl-C: a SIGINT to the process while `execute` runs raises
KeyboardInterrupt promptly, and the sandbox keeps its session."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import eryx

BUSY = "while True:\n    pass"


@pytest.mark.parametrize(
    "program",
    [BUSY, "import time\ntime.sleep(30)"],
    ids=["busy_loop", "guest_sleep"],
)
def test_sigint_interrupts_a_running_execute(program):
    with eryx.Sandbox(timeout=60) as sb:
        sb.execute("mark = 'kept'")
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        t = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                sb.execute(program)
        finally:
            timer.cancel()
        assert time.monotonic() - t < 5
        assert sb.execute("print(mark)").stdout == "kept\n"


# How a child process runs BUSY: `run()` prints 'ready', then blocks in it.
_BLOCKING_CALLS = {
    "execute": """
        def run():
            print('ready', flush=True)
            sb.execute(BUSY)
        """,
    "execute_async_under_asyncio_run": """
        async def main():
            print('ready', flush=True)
            await sb.execute_async(BUSY)

        def run():
            asyncio.run(main())
        """,
}


@pytest.mark.parametrize("call", list(_BLOCKING_CALLS))
def test_ctrl_c_in_a_child_process(call):
    """A real Ctrl-C (SIGINT to a child process) ends the call with
    KeyboardInterrupt and the session still runs code."""
    child = "\n".join(
        [
            "import asyncio, eryx, sys",
            f"BUSY = {BUSY!r}",
            "sb = eryx.Sandbox(timeout=60)",
            "sb.execute('kept = 7')",
            textwrap.dedent(_BLOCKING_CALLS[call]),
            "try:",
            "    run()",
            "except KeyboardInterrupt:",
            "    print(sb.execute('print(kept * 6)').stdout, end='', flush=True)",
            "    sys.exit(0)",
            "sys.exit(1)",
        ]
    )
    p = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline() == "ready\n"
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0
    assert out == "42\n"


def test_uninterruptible_sandboxes_need_no_timeout_and_keep_other_limits():
    """`interruptible=False` refuses a timeout, runs code with its session,
    still enforces the memory limit, and `interrupt()` still stops a call
    blocked in a host call (a guest sleep)."""
    with pytest.raises(ValueError, match="timeout=None"):
        eryx.Sandbox(interruptible=False)
    with eryx.Sandbox(interruptible=False, timeout=None, max_memory=64 * 2**20) as sb:
        sb.execute("n = sum(i * i for i in range(10_000))")
        assert sb.execute("print(n)").stdout == "333283335000\n"
        with pytest.raises(eryx.MemoryLimitError):
            sb.execute("x = bytearray(2**30)")
        assert sb.execute("print(n)").stdout == "333283335000\n"
        timer = threading.Timer(0.3, sb.interrupt)
        timer.start()
        t = time.monotonic()
        try:
            with pytest.raises(eryx.InterruptError):
                sb.execute("import time\ntime.sleep(30)")
        finally:
            timer.cancel()
        assert time.monotonic() - t < 5
        assert sb.execute("print(n)").stdout == "333283335000\n"
