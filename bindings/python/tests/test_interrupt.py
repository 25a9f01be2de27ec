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


def _sigint_after(seconds):
    t = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    t.start()
    return t


def test_sigint_interrupts_a_running_execute():
    with eryx.Sandbox(timeout=60) as sb:
        sb.execute("mark = 'kept'")
        timer = _sigint_after(0.3)
        t = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                sb.execute("while True:\n    pass")
        finally:
            timer.cancel()
        assert time.monotonic() - t < 5
        assert sb.execute("print(mark)").stdout == "kept\n"


def test_sigint_interrupts_a_guest_sleep():
    with eryx.Sandbox(timeout=60) as sb:
        timer = _sigint_after(0.3)
        t = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                sb.execute("import time\ntime.sleep(30)")
        finally:
            timer.cancel()
        assert time.monotonic() - t < 5
        assert sb.execute("print('after')").stdout == "after\n"


def test_ctrl_c_in_a_child_process():
    child = textwrap.dedent(
        """
        import eryx, sys
        sb = eryx.Sandbox(timeout=60)
        print('ready', flush=True)
        try:
            sb.execute('while True:\\n    pass')
        except KeyboardInterrupt:
            print(sb.execute('print(40 + 2)').stdout, end='', flush=True)
            sys.exit(0)
        sys.exit(1)
        """
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


def test_ctrl_c_under_asyncio_run_interrupts_execute_async():
    child = textwrap.dedent(
        """
        import asyncio, eryx, sys
        sb = eryx.Sandbox(timeout=60)
        sb.execute('kept = 7')

        async def main():
            print('ready', flush=True)
            await sb.execute_async('while True:\\n    pass')

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            print(sb.execute('print(kept * 6)').stdout, end='', flush=True)
            sys.exit(0)
        sys.exit(1)
        """
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
