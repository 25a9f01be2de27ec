"""The eryx kernel driven by the real jupyter_client (KernelManager and a
blocking client over ZeroMQ): execute, live streams, a PNG display, the
execute_result, errors (Python, timeout, bad code, huge output) that keep
the session, interrupt of a busy loop within 1 s, restart, complete,
inspect, is_complete and kernel_info."""

import base64
import threading
import time

from conftest import run_cell


def test_execute_stream_and_result(kernel):
    _, kc = kernel
    cell = run_cell(kc, "x = 41\nx += 1\nprint('x is', x)\nx * 2")
    assert cell.reply["status"] == "ok"
    assert cell.stdout == "x is 42\n"
    (result,) = cell.of("execute_result")
    assert result["data"]["text/plain"] == "84"
    assert result["execution_count"] == cell.reply["execution_count"]
    assert [m["msg_type"] for m in cell.messages][:2] == ["status", "execute_input"]


def test_stderr_is_its_own_stream(kernel):
    _, kc = kernel
    cell = run_cell(kc, "import sys\nprint('oops', file=sys.stderr)")
    assert [c for c in cell.of("stream") if c["name"] == "stderr"][0]["text"] == "oops\n"


def test_streams_arrive_while_the_cell_runs(kernel):
    _, kc = kernel
    code = "import time\nprint('early')\nt = time.monotonic()\nwhile time.monotonic() - t < 1.0: pass\nprint('late')"
    msg_id = kc.execute(code)
    start = time.monotonic()
    while True:
        msg = kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            break
    assert msg["content"]["text"] == "early\n"
    assert time.monotonic() - start < 0.8, "the first stream waited for the cell to end"
    kc.get_shell_msg(timeout=10)


def test_png_display(kernel):
    _, kc = kernel
    code = (
        "import struct, zlib\n"
        "def chunk(k, d):\n"
        "    return struct.pack('>I', len(d)) + k + d + struct.pack('>I', zlib.crc32(k + d))\n"
        "raw = b''.join(b'\\x00' + b'\\xff\\x00\\x00' * 7 for _ in range(5))\n"
        "png = (b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 7, 5, 8, 2, 0, 0, 0))\n"
        "       + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))\n"
        "from IPython.display import display, Image\n"
        "display(Image(png))"
    )
    cell = run_cell(kc, code)
    assert cell.reply["status"] == "ok", cell.reply
    (shown,) = cell.of("display_data")
    data = base64.b64decode(shown["data"]["image/png"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (7, 5)
    assert cell.of("execute_result") == []


def test_displays_come_in_order_with_prints(kernel):
    _, kc = kernel
    code = (
        "from IPython.display import display, HTML\n"
        "print('before')\ndisplay(HTML('<b>one</b>'))\nprint('between')\ndisplay({'text/csv': 'a,b'}, raw=True)\n"
        "print('after')\n'last'"
    )
    cell = run_cell(kc, code)
    order = [(m["msg_type"], m["content"].get("text") or m["content"].get("data"))
             for m in cell.messages if m["msg_type"] in ("stream", "display_data", "execute_result")]
    assert order == [
        ("stream", "before\n"),
        ("display_data", {"text/html": "<b>one</b>", "text/plain": "<IPython.core.display.HTML object>"}),
        ("stream", "between\n"),
        ("display_data", {"text/csv": "a,b"}),
        ("stream", "after\n"),
        ("execute_result", {"text/plain": "'last'"}),
    ]


def test_displays_before_an_error_are_kept(kernel):
    _, kc = kernel
    cell = run_cell(kc, "from eryx import display\ndisplay({'text/plain': 'shown'}, raw=True)\nraise ValueError('after')")
    assert [c["data"] for c in cell.of("display_data")] == [{"text/plain": "shown"}]
    assert cell.reply["ename"] == "ValueError"


def test_python_error_keeps_the_session(kernel):
    _, kc = kernel
    run_cell(kc, "kept = 'yes'")
    cell = run_cell(kc, "def f():\n    return 1 / 0\nf()")
    assert cell.reply["status"] == "error"
    assert cell.reply["ename"] == "ZeroDivisionError"
    assert cell.reply["evalue"] == "division by zero"
    (err,) = cell.of("error")
    assert err["ename"] == "ZeroDivisionError"
    assert any("return 1 / 0" in line for line in err["traceback"])
    assert run_cell(kc, "print(kept)").stdout == "yes\n"


def test_invalid_code_is_a_syntax_error(kernel):
    _, kc = kernel
    cell = run_cell(kc, "def f(:\n    pass")
    assert cell.reply["status"] == "error"
    assert cell.reply["ename"] == "SyntaxError"
    assert run_cell(kc, "print(kept)").stdout == "yes\n"


def test_timeout_says_so_and_keeps_the_session(kernel):
    _, kc = kernel
    run_cell(kc, "before_timeout = 7")
    start = time.monotonic()
    cell = run_cell(kc, "while True: pass", timeout=30)
    assert 4 < time.monotonic() - start < 15  # the kernelspec says --timeout 5
    assert cell.reply["ename"] == "TimeoutError"
    assert "time limit of 5 s" in cell.reply["evalue"]
    assert "session keeps its state" in cell.reply["evalue"]
    assert run_cell(kc, "print(before_timeout)").stdout == "7\n"


def test_memory_limit_says_so_and_keeps_the_session(kernel):
    _, kc = kernel
    cell = run_cell(kc, "hog = bytearray(300 << 20)")
    assert cell.reply["ename"] == "MemoryError"
    assert "256 MiB of memory" in cell.reply["evalue"]
    assert run_cell(kc, "print(kept)").stdout == "yes\n"


def test_hostile_cells_never_kill_the_kernel(kernel):
    _, kc = kernel
    expected = {
        "raise SystemExit(3)": "SystemExit",
        "import os; os._exit(0)": None,
        "import signal; signal.raise_signal(signal.SIGINT)": "KeyboardInterrupt",
        "def f(): f()\nf()": "RecursionError",
        "import gc\ngc.collect()\nraise BaseException('x')": "BaseException",
    }
    for code, ename in expected.items():
        cell = run_cell(kc, code)
        assert cell.reply.get("ename") == ename, (code, cell.reply)
        assert run_cell(kc, "print(kept)").stdout == "yes\n", code


def test_huge_output_is_an_error_not_a_dead_kernel(kernel):
    _, kc = kernel
    cell = run_cell(kc, "import sys\nfor _ in range(64):\n    sys.stdout.write('x' * (1 << 20))", timeout=60)
    assert cell.reply["status"] == "error"
    assert "32 MiB of output" in cell.reply["evalue"]
    assert run_cell(kc, "print(kept)").stdout == "yes\n"


def _interrupt_busy_cell(kc, send_interrupt):
    run_cell(kc, "state = [1, 2, 3]")
    msg_id = kc.execute("n = 0\nwhile True:\n    n += 1")
    while True:  # wait until the cell is running
        msg = kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            break
    time.sleep(0.3)
    start = time.monotonic()
    threading.Thread(target=send_interrupt).start()
    reply = kc.get_shell_msg(timeout=5)
    elapsed = time.monotonic() - start
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert elapsed < 1.0, elapsed
    assert run_cell(kc, "print(sum(state))").stdout == "6\n"


def test_interrupt_a_busy_loop_within_a_second(kernel):
    """jupyter_client's interrupt_kernel: SIGINT (the kernelspec's
    interrupt_mode "signal")."""
    km, kc = kernel
    _interrupt_busy_cell(kc, km.interrupt_kernel)


def test_interrupt_request_on_the_control_channel(kernel):
    """The message form (interrupt_mode "message"): ipykernel's control
    thread answers it while the shell is busy."""
    _, kc = kernel
    _interrupt_busy_cell(kc, lambda: kc.control_channel.send(kc.session.msg("interrupt_request", {})))


def test_sigint_between_cells_does_no_harm(kernel):
    km, kc = kernel
    km.interrupt_kernel()
    time.sleep(0.2)
    assert run_cell(kc, "print('still here')").stdout == "still here\n"


def test_complete_names_in_the_session(kernel):
    _, kc = kernel
    run_cell(kc, "my_variable = 1\nclass Thing:\n    attribute_one = 1\n    def method_two(self): pass")
    reply = kc.complete("my_v", 4, reply=True, timeout=10)["content"]
    assert reply["status"] == "ok"
    assert reply["matches"] == ["my_variable"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (0, 4)
    code = "y = Thing.meth"
    reply = kc.complete(code, len(code), reply=True, timeout=10)["content"]
    assert reply["matches"] == ["Thing.method_two"]
    assert reply["cursor_start"] == 4


def test_complete_text_is_data_not_code(kernel):
    _, kc = kernel
    code = "__import__('os').system('x'); pri"
    reply = kc.complete(code, len(code), reply=True, timeout=10)["content"]
    assert "print" in reply["matches"]
    assert kc.complete("')\nraise SystemExit #", 20, reply=True, timeout=10)["content"]["status"] == "ok"
    assert run_cell(kc, "print(kept)").stdout == "yes\n"


def test_complete_after_the_cell_removed_the_helper(kernel):
    _, kc = kernel
    run_cell(kc, "import shutil\nshutil.rmtree('/tmp/.eryx-kernel')\nafter_rm = 1")
    assert kc.complete("after_r", 7, reply=True, timeout=10)["content"]["matches"] == ["after_rm"]


def test_inspect(kernel):
    _, kc = kernel
    run_cell(kc, "def greet(name: str, times: int = 2):\n    '''Say hello to name.'''\n    return name")
    reply = kc.inspect("greet(", 6, reply=True, timeout=10)["content"]
    assert reply["found"] is True
    text = reply["data"]["text/plain"]
    assert "greet(name: str, times: int = 2)" in text
    assert "Say hello to name." in text
    assert kc.inspect("no_such_name", 5, reply=True, timeout=10)["content"]["found"] is False


def test_is_complete(kernel):
    _, kc = kernel

    def ask(code):
        msg_id = kc.is_complete(code)
        while True:
            reply = kc.get_shell_msg(timeout=10)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]

    assert ask("x = 1")["status"] == "complete"
    assert ask("for i in range(3):") == {"status": "incomplete", "indent": "    "}
    assert ask("x = (1,")["status"] == "incomplete"
    assert ask("x = )")["status"] == "invalid"


def test_kernel_info_is_truthful(kernel):
    _, kc = kernel
    info = kc.kernel_info(reply=True, timeout=10)["content"]
    assert info["implementation"] == "eryx"
    assert info["language_info"]["name"] == "python"
    assert info["language_info"]["version"].startswith("3.14.")
    assert "CPython 3.14" in info["banner"] and "WASI" in info["banner"]
    assert "timeout 5 s per cell" in info["banner"]
    assert info.get("supported_features") == []


def test_restart_gives_a_fresh_session(kernel):
    km, kc = kernel
    run_cell(kc, "survivor = 1")
    km.restart_kernel(now=True)
    kc.wait_for_ready(timeout=60)
    cell = run_cell(kc, "survivor")
    assert cell.reply["status"] == "error"
    assert cell.reply["ename"] == "NameError"
    assert run_cell(kc, "print('fresh')").stdout == "fresh\n"


def test_network_policy_from_the_environment(kernel_env):
    """ERYX_KERNEL_ALLOW_HOSTS: cells reach an allowed host (a real HTTP
    server on 127.0.0.1, allowed literally), the banner says so."""
    import http.server

    from jupyter_client.manager import KernelManager

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    address = "127.0.0.1:%d" % srv.server_address[1]
    km = KernelManager(kernel_name="eryx")
    km.start_kernel(env=dict(kernel_env, ERYX_KERNEL_ALLOW_HOSTS=address))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        cell = run_cell(kc, "import urllib.request\nurllib.request.urlopen('http://%s/').read()" % address)
        assert cell.of("execute_result")[0]["data"]["text/plain"] == "b'hello'"
        assert "network: " + address in kc.kernel_info(reply=True, timeout=10)["content"]["banner"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        srv.shutdown()


def test_no_network_by_default(kernel):
    _, kc = kernel
    cell = run_cell(kc, "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9/')")
    assert cell.reply["status"] == "error"
    assert "network access is off" in cell.reply["evalue"]


def _start(kernel_env, **env):
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="eryx")
    km.start_kernel(env=dict(kernel_env, **env))
    return km


def test_packages_by_name_from_the_environment(kernel_env):
    km = _start(kernel_env, ERYX_KERNEL_WITH="tabulate")
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        cell = run_cell(kc, "import tabulate\nprint(tabulate.tabulate([[1, 2]], tablefmt='plain'))")
        assert cell.stdout == "1  2\n"
        assert "packages: tabulate" in kc.kernel_info(reply=True, timeout=10)["content"]["banner"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_bad_limit_stops_the_kernel_with_a_clear_message(kernel_env, tmp_path):
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "eryx.kernel", "-f", str(tmp_path / "conn.json"), "--allow-host", "exa mple.com"],
        capture_output=True, text=True, timeout=60, env=kernel_env,
    )
    assert run.returncode == 1
    assert 'eryx kernel: cannot make the sandbox: sandbox setup failed: invalid host pattern "exa mple.com"' in run.stderr
