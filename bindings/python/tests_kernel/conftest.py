"""Shared fixtures of the kernel and executor tests (scripts/test-kernel.sh):
the eryx kernelspec installed into a temporary Jupyter data directory (put
first on JUPYTER_PATH, so jupyter_client and the `jupyter` command find it),
a running kernel driven by jupyter_client, and helpers to collect a cell's
messages."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
JUPYTER = str(Path(sys.executable).with_name("jupyter"))


@pytest.fixture(scope="session")
def kernel_env(tmp_path_factory):
    """os.environ with the eryx kernelspec (limits: 5 s per cell) on
    JUPYTER_PATH; also applied to this process."""
    prefix = tmp_path_factory.mktemp("jupyter-prefix")
    subprocess.run(
        [sys.executable, "-m", "eryx.kernel", "install", "--prefix", str(prefix), "--timeout", "5"],
        check=True,
        capture_output=True,
    )
    path = str(prefix / "share" / "jupyter")
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = path + (os.pathsep + old if old else "")
    yield dict(os.environ)
    if old is None:
        del os.environ["JUPYTER_PATH"]
    else:
        os.environ["JUPYTER_PATH"] = old


@pytest.fixture(scope="module")
def kernel(kernel_env):
    """(KernelManager, BlockingKernelClient) of one eryx kernel per module."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="eryx", startup_timeout=60)
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


class Cell:
    """What one execute_request gave: its reply and its IOPub messages."""

    def __init__(self, reply, messages):
        self.reply = reply["content"]
        self.messages = messages

    def of(self, msg_type):
        return [m["content"] for m in self.messages if m["msg_type"] == msg_type]

    @property
    def stdout(self):
        return "".join(c["text"] for c in self.of("stream") if c["name"] == "stdout")


def run_cell(kc, code, timeout=30):
    """Execute ``code``; its IOPub messages up to "idle", then its reply."""
    msg_id = kc.execute(code)
    deadline = time.monotonic() + timeout
    messages = []
    while True:
        msg = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    while True:
        reply = kc.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if reply["parent_header"].get("msg_id") == msg_id:
            return Cell(reply, messages)
