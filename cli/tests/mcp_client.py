"""`eryx mcp` driven by a real MCP client: the official Python SDK (`mcp`,
pinned in scripts/requirements-mcp.txt), which spawns `target/release/eryx
mcp` over stdio (and connects over streamable HTTP for `--listen`). Bad
input the SDK cannot produce (non-JSON lines, invalid messages, a client
vanishing mid-run) is written to the server's stdin by hand.

    scripts/test-mcp.sh               # creates the venv, runs this
    python cli/tests/mcp_client.py [--bench] [TEST_NAME...]

`--bench` measures, with the SDK, the time from spawning the server to the
first tool result and the per-call latency of `print(1+1)`.
"""

import asyncio
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from mcp import Client, MCPError, StdioServerParameters

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ERYX = os.environ.get("ERYX", os.path.join(ROOT, "target", "release", "eryx"))
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def server(*args):
    return StdioServerParameters(command=ERYX, args=["mcp", *args])


def client(*args, mode="auto", **kw):
    return Client(server(*args), mode=mode, **kw)


async def run(c, code, **kw):
    return await c.call_tool("run_python", {"code": code, **kw})


def text(result):
    return "".join(b.text for b in result.content if b.type == "text")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# --- the SDK as client -------------------------------------------------------


@test
async def tools_are_listed_with_schemas_and_model_facing_descriptions():
    async with client() as c:
        check(c.server_info.name == "eryx", c.server_info)
        tools = {t.name: t for t in (await c.list_tools()).tools}
        check(set(tools) == {"run_python", "reset_session", "upload_file", "download_file"}, tools)
        run_tool = tools["run_python"]
        check(run_tool.input_schema["required"] == ["code"], run_tool.input_schema)
        check("timeout_seconds" in run_tool.input_schema["properties"], run_tool.input_schema)
        check("stdout" in run_tool.output_schema["properties"], run_tool.output_schema)
        d = run_tool.description
        for phrase in ["CPython 3.14", "State persists", "reset_session", "No network access",
                       "scratch filesystem", "/tmp", "30 s", "65536 bytes", "standard library"]:
            check(phrase in d, f"{phrase!r} not in description: {d}")
        check(tools["reset_session"].annotations.destructive_hint is True, tools["reset_session"])


@test
async def the_description_states_the_network_policy():
    async with client() as c:
        d = {t.name: t for t in (await c.list_tools()).tools}["run_python"].description
        check("No network access" in d and "Secret" not in d, d)
        r = await run(c, "import socket\nsocket.create_connection(('example.com', 80))")
        e = r.structured_content["error"]
        check(r.is_error and e["type"] == "PermissionError" and "network access is off" in e["message"], r)
        check("PermissionError" in text(r), text(r))
    args = ["--allow-host", "api.example.com", "--allow-host", "127.0.0.1:8080",
            "--secret", "API_TOKEN=tok-value-not-shown@api.example.com"]
    async with client(*args) as c:
        d = {t.name: t for t in (await c.list_tools()).tools}["run_python"].description
        check("No network" not in d, d)
        check("only to api.example.com (ports 80 and 443), 127.0.0.1 (port 8080)" in d, d)
        check('os.environ["API_TOKEN"] is a placeholder' in d, d)
        check("sent to api.example.com" in d and "tok-value-not-shown" not in d, d)
        r = await run(c, "import os\nprint(os.environ['API_TOKEN'] != 'tok-value-not-shown')")
        check(r.structured_content["stdout"] == "True\n", r)


@test
async def output_comes_back_as_text_and_structured_content():
    async with client() as c:
        r = await run(c, "print(1+1)")
        check(not r.is_error, r)
        check(r.structured_content["stdout"] == "2\n", r.structured_content)
        check(r.structured_content["error"] is None and r.structured_content["exit_code"] == 0, r)
        check(text(r) == "2\n", text(r))
        r = await run(c, "import sys\nprint('out')\nprint('warn', file=sys.stderr)")
        s = r.structured_content
        check((s["stdout"], s["stderr"]) == ("out\n", "warn\n"), s)
        check(text(r) == "out\n[stderr]\nwarn\n", text(r))
        r = await run(c, "x = 1")
        check("no output" in text(r) and r.structured_content["stdout"] == "", r)
        r = await run(c, "import asyncio\nawait asyncio.sleep(0.01)\nprint('awaited')")
        check(r.structured_content["stdout"] == "awaited\n", r)


PNGMAKER = os.path.join(ROOT, "host", "tests", "fixtures", "display", "pngmaker.py")
sys.path.insert(0, os.path.dirname(PNGMAKER))
from pngread import png_size  # noqa: E402


@test
async def displays_come_back_as_images_and_resources_and_the_last_value_as_text():
    import base64

    fixtures = os.path.dirname(PNGMAKER)
    async with client("--mount", f"{fixtures}:/fixtures:ro") as c:
        d = {t.name: t for t in (await c.list_tools()).tools}["run_python"].description
        check("only printed output" not in d and "last expression" in d and "PNG" in d, d)
        await run(c, "import sys\nsys.path.insert(0, '/fixtures')\nfrom pngmaker import png")
        r = await run(c, "from IPython.display import display, Image, HTML\n"
                         "display(Image(png(40, 30)))\ndisplay(HTML('<b>hi</b>'))\n1 + 1")
        check(not r.is_error, text(r))
        images = [b for b in r.content if b.type == "image"]
        check(len(images) == 1 and images[0].mime_type == "image/png", r.content)
        check(png_size(base64.b64decode(images[0].data)) == (40, 30), images[0].data[:40])
        docs = [b.resource for b in r.content if b.type == "resource"]
        check([(x.mime_type, x.text) for x in docs] == [("text/html", "<b>hi</b>")], docs)
        check("[last expression]\n2\n" in text(r), text(r))
        outputs = r.structured_content["outputs"]
        check([o["type"] for o in outputs] == ["display", "display", "result"], outputs)
        r = await run(c, "from eryx import display\ndisplay({'image/png': bytes(20 << 20)}, raw=True)")
        check(not any(b.type == "image" for b in r.content), r.content)
        check("[eryx: display cut: image/png (20971520 bytes)" in text(r), text(r))


@test
async def exceptions_give_type_message_and_traceback():
    async with client() as c:
        r = await run(c, "def f():\n    return 1/0\nf()")
        check(r.is_error, r)
        e = r.structured_content["error"]
        check((e["type"], e["kind"], e["message"]) == ("ZeroDivisionError", "python", "division by zero"), e)
        check("Traceback" in e["traceback"] and "in f" in e["traceback"], e)
        check(r.structured_content["exit_code"] == 1, r.structured_content)
        check("ZeroDivisionError: division by zero" in text(r), text(r))
        r = await run(c, "def broken(:\n  pass")
        check(r.is_error and r.structured_content["error"]["type"] == "SyntaxError", r)
        r = await run(c, "raise SystemExit(3)")
        check(r.is_error and r.structured_content["exit_code"] == 3, r)
        r = await run(c, "import socket\nsocket.create_connection(('127.0.0.1', 9))")
        e = r.structured_content["error"]  # no network
        check(r.is_error and e["type"] == "PermissionError" and "network access is off" in e["message"], r)


async def state_and_reset(mode):
    async with client(mode=mode) as c:
        await run(c, "x = 41\ndef inc(v):\n    return v + 1\nclass P:\n    n = 7\nimport json")
        r = await run(c, "x = inc(x)\nprint(x, P.n, json.dumps([1]))")
        check(r.structured_content["stdout"] == "42 7 [1]\n", r)
        r = await c.call_tool("reset_session", {})
        check(not r.is_error and "reset" in text(r), r)
        r = await run(c, "print(x)")
        check(r.is_error and r.structured_content["error"]["type"] == "NameError", r)


@test
async def state_persists_across_calls_until_reset():
    await state_and_reset("auto")


@test
async def state_persists_on_the_handshake_protocol_too():
    await state_and_reset("legacy")


@test
async def timeouts_stop_the_code_and_keep_the_session():
    async with client("--timeout", "3") as c:
        await run(c, "kept = 'yes'")
        t = time.monotonic()
        r = await run(c, "while True: pass", timeout_seconds=0.5)
        took = time.monotonic() - t
        e = r.structured_content["error"]
        check(r.is_error and (e["type"], e["kind"]) == ("TimeoutError", "timeout"), r)
        check(took < 2.5, f"busy loop took {took:.2f} s")
        check("0.5 s" in text(r), text(r))
        r = await run(c, "import time\ntime.sleep(30)", timeout_seconds=0.5)
        check(r.is_error and r.structured_content["error"]["kind"] == "timeout", r)
        # Asking for more than --timeout gets --timeout, and says so.
        t = time.monotonic()
        r = await run(c, "while True: pass", timeout_seconds=100)
        took = time.monotonic() - t
        check(r.is_error and r.structured_content["error"]["kind"] == "timeout", r)
        check(2.5 < took < 6, f"took {took:.2f} s")
        check("above this server's limit" in text(r), text(r))
        r = await run(c, "print(kept)")
        check(r.structured_content["stdout"] == "yes\n", r)


@test
async def huge_output_is_truncated_with_a_marker():
    async with client("--max-output-bytes", "1000") as c:
        r = await run(c, "print('a' * 5000)")
        s = r.structured_content
        check(s["stdout"] == "a" * 1000, len(s["stdout"]))
        check(s["truncated"] and s["truncated_bytes"] == 4001, s)
        check("4001 bytes cut" in text(r) and text(r).startswith("a" * 1000), text(r)[-200:])
        r = await run(c, "import sys\nfor i in range(100000): sys.stderr.write('e' * 100)")
        s = r.structured_content
        check(len(s["stderr"]) == 1000 and s["truncated_bytes"] == 100 * 100000 - 1000, s["truncated_bytes"])
        check("[stderr]" in text(r) and "9999000 bytes cut" in text(r), text(r)[-300:])
        r = await run(c, "print('small')")
        check(not r.structured_content["truncated"] and "cut" not in text(r), r)


@test
async def bad_arguments_and_unknown_tools_are_errors_not_crashes():
    async with client() as c:
        for args, needle in [
            ({"code": 5}, "must be a string"),
            ({}, "missing required argument"),
            ({"code": "1", "timeout_seconds": "soon"}, "must be a number"),
            ({"code": "1", "timeout_seconds": -2}, "positive"),
            ({"code": "1", "language": "js"}, "unknown argument"),
        ]:
            r = await c.call_tool("run_python", args)
            check(r.is_error and needle in text(r), (args, text(r)))
        r = await c.call_tool("reset_session", {"hard": True})
        check(r.is_error and "no arguments" in text(r), text(r))
        try:
            await c.call_tool("run_javascript", {"code": "1"})
            raise AssertionError("unknown tool accepted")
        except MCPError as e:
            check(e.code == -32602 and "unknown tool" in str(e), e)
        r = await run(c, "print('still fine')")
        check(r.structured_content["stdout"] == "still fine\n", r)


@test
async def stateless_mode_forgets_everything_between_calls():
    async with client("--stateless") as c:
        d = {t.name: t for t in (await c.list_tools()).tools}["run_python"].description
        check("fresh interpreter" in d, d)
        await run(c, "y = 1\nimport json\njson.marker = 5")
        r = await run(c, "print(y)")
        check(r.is_error and r.structured_content["error"]["type"] == "NameError", r)
        r = await run(c, "import json\nprint(hasattr(json, 'marker'))")
        check(r.structured_content["stdout"] == "False\n", r)
        r = await c.call_tool("reset_session", {})
        check(not r.is_error and "Nothing to reset" in text(r), r)


@test
async def cancelled_request_interrupts_the_running_code():
    async with client("--timeout", "60") as c:
        await run(c, "z = 3")
        t = time.monotonic()
        try:
            await c.call_tool("run_python", {"code": "while True: pass"}, read_timeout_seconds=1)
            raise AssertionError("the busy loop returned")
        except (MCPError, TimeoutError):
            pass
        # The SDK sent notifications/cancelled: the loop is interrupted, so
        # this call is answered at once instead of after the 60 s limit.
        r = await run(c, "print(z)")
        took = time.monotonic() - t
        check(r.structured_content["stdout"] == "3\n", r)
        check(took < 10, f"next call answered after {took:.1f} s")


@test
async def writable_mounts_and_callbacks_are_described_and_work():
    with tempfile.TemporaryDirectory() as d:
        async with client("--mount", f"{d}:/data", "--callback", "shout=tr a-z A-Z") as c:
            desc = {t.name: t for t in (await c.list_tools()).tools}["run_python"].description
            check("shared with the user (real files): /data" in desc and "await shout(" in desc, desc)
            r = await run(c, "open('/data/out.txt', 'w').write('hi')\nprint(await shout(word='x'))")
            check(not r.is_error, text(r))
            check(open(os.path.join(d, "out.txt")).read() == "hi", os.listdir(d))
            # Elsewhere is the in-memory scratch tree: nothing reaches the host.
            r = await run(c, "open('/tmp/scratch.txt', 'w').write('s')\nprint(open('/tmp/scratch.txt').read())")
            check(not r.is_error and r.structured_content["stdout"] == "s\n", r)
            check(sorted(os.listdir(d)) == ["out.txt"], os.listdir(d))
            r = await run(c, "open('/lib/python3.14/x.txt', 'w')")
            check(r.is_error and r.structured_content["error"]["type"] == "PermissionError", r)


@test
async def streamable_http_keeps_one_session_per_client():
    proc = subprocess.Popen([ERYX, "mcp", "--listen", "127.0.0.1:0"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = await asyncio.to_thread(proc.stderr.readline)
            m = re.search(r"(http://\S+/mcp)", line)
            url = m.group(1) if m else None
            check(line or url, "server exited before listening")
        # The SDK logs a session DELETE answered other than it expects
        # ("Session termination failed: 202" against rmcp's own answer).
        records = []
        catcher = logging.Handler()
        catcher.emit = records.append
        logging.getLogger().addHandler(catcher)
        try:
            async with Client(url, mode="legacy") as a, Client(url, mode="legacy") as b:
                await run(a, "who = 'a'")
                await run(b, "who = 'b'")
                ra, rb = await run(a, "print(who)"), await run(b, "print(who)")
                check((ra.structured_content["stdout"], rb.structured_content["stdout"]) == ("a\n", "b\n"),
                      (ra, rb))
        finally:
            logging.getLogger().removeHandler(catcher)
        failed = [r.getMessage() for r in records if "termination" in r.getMessage().lower()]
        check(not failed, failed)
        async with Client(url) as c:  # the session-less 2026-07-28 revision
            r = await run(c, "print(6 * 7)")
            check(r.structured_content["stdout"] == "42\n", r)
    finally:
        proc.terminate()
        proc.wait(10)


# --- raw bytes on stdin -------------------------------------------------------


class Raw:
    """`eryx mcp` with a hand-driven stdin/stdout."""

    def __init__(self, *args):
        self.p = subprocess.Popen([ERYX, "mcp", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)

    def send(self, data):
        self.p.stdin.write(data if isinstance(data, bytes) else json.dumps(data).encode())
        self.p.stdin.write(b"\n")
        self.p.stdin.flush()

    def recv(self):
        line = self.p.stdout.readline()
        if not line:
            raise AssertionError(f"server closed stdout; stderr: {self.p.stderr.read().decode()[-2000:]}")
        return json.loads(line)

    def initialize(self):
        self.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}})
        r = self.recv()
        check(r.get("result", {}).get("serverInfo", {}).get("name") == "eryx", r)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


@test
async def malformed_json_rpc_gets_protocol_errors():
    def body():
        s = Raw()
        try:
            s.send(b"this is not json")
            r = s.recv()
            check(r["id"] is None and r["error"]["code"] == -32700, r)
            s.send(b"\xff\xfe\x00garbage")
            check(s.recv()["error"]["code"] == -32700, "binary garbage")
            s.initialize()
            s.send({"jsonrpc": "2.0", "foo": 1})
            r = s.recv()
            check(r["id"] is None and r["error"]["code"] == -32600, r)
            s.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": 5})
            r = s.recv()
            check(r["id"] == 7 and r["error"]["code"] == -32600, r)
            s.send({"jsonrpc": "2.0", "id": 8, "method": "no/such/method"})
            r = s.recv()
            check(r["id"] == 8 and r["error"]["code"] == -32601, r)
            s.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                    "params": {"name": "run_python", "arguments": {"code": "print('alive')"}}})
            r = s.recv()
            check(r["id"] == 9 and r["result"]["structuredContent"]["stdout"] == "alive\n", r)
        finally:
            s.close()

    await asyncio.to_thread(body)


@test
async def client_disconnecting_mid_run_interrupts_the_code():
    def body(code):
        s = Raw("--timeout", "60")
        try:
            s.initialize()
            s.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": {"name": "run_python", "arguments": {"code": code}}})
            time.sleep(0.5)
            t = time.monotonic()
            s.p.stdin.close()  # the client is gone
            status = s.p.wait(30)
            took = time.monotonic() - t
            err = s.p.stderr.read().decode()
            # Without the interrupt the code would hold the process for
            # rmcp's 5 s drain (and run for up to 60 s).
            check(took < 3, f"{code!r}: server took {took:.1f} s to stop")
            check(status == 0 and "panic" not in err, (status, err))
        finally:
            s.close()

    for code in ["while True: pass", "import time\ntime.sleep(60)"]:
        await asyncio.to_thread(body, code)


# --- measurement --------------------------------------------------------------


def raw_first_result():
    """Spawn to first result with hand-written JSON-RPC (no SDK overhead)."""
    t = time.perf_counter()
    s = Raw()
    try:
        s.initialize()
        s.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "run_python", "arguments": {"code": "print(1+1)"}}})
        r = s.recv()
        took = time.perf_counter() - t
        check(r["result"]["structuredContent"]["stdout"] == "2\n", r)
        return took
    finally:
        s.close()


async def bench(spawns=10, calls=200):
    ms = lambda v: f"{v * 1000:.1f} ms"  # noqa: E731
    for mode in ["auto", "legacy"]:
        first = []
        for _ in range(spawns):
            t = time.perf_counter()
            async with client(mode=mode) as c:
                r = await run(c, "print(1+1)")
                first.append(time.perf_counter() - t)
                check(r.structured_content["stdout"] == "2\n", r)
                protocol = c.protocol_version
        print(f"SDK (mode={mode}, protocol {protocol}) spawn -> first tool result: "
              f"median {ms(statistics.median(first))}, min {ms(min(first))}, max {ms(max(first))} "
              f"({spawns} spawns)")
    raw = [await asyncio.to_thread(raw_first_result) for _ in range(spawns)]
    print(f"raw JSON-RPC over pipes, spawn -> initialize -> first tool result: "
          f"median {ms(statistics.median(raw))}, min {ms(min(raw))} ({spawns} spawns)")
    per_call = []
    async with client() as c:
        for _ in range(20):
            await run(c, "print(1+1)")
        for _ in range(calls):
            t = time.perf_counter()
            await run(c, "print(1+1)")
            per_call.append(time.perf_counter() - t)
    q = statistics.quantiles(per_call, n=10)
    print(f"SDK run_python print(1+1) per call: median {ms(statistics.median(per_call))}, "
          f"p90 {ms(q[-1])}, min {ms(min(per_call))} ({calls} calls, one session)")


def leaves(e):
    """The exceptions inside `e` (the SDK's task groups wrap a failed check)."""
    if isinstance(e, BaseExceptionGroup):
        for sub in e.exceptions:
            yield from leaves(sub)
    else:
        yield e


async def main(argv):
    if "--bench" in argv:
        await bench()
        return 0
    chosen = [t for t in TESTS if not argv or t.__name__ in argv]
    passed = failed = 0
    for t in chosen:
        start = time.monotonic()
        try:
            await asyncio.wait_for(t(), 180)
            passed += 1
            print(f"ok   {t.__name__} ({time.monotonic() - start:.1f} s)", flush=True)
        except BaseException as e:  # noqa: BLE001 - report every failure
            failed += 1
            why = "; ".join(f"{type(x).__name__}: {str(x)[:500]}" for x in leaves(e))
            print(f"FAIL {t.__name__}: {why}", flush=True)
    print(f"mcp: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    # The file tools' tests (cli/tests/mcp_files.py) register on this
    # module's TESTS under its import name.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import mcp_client
    import mcp_files  # noqa: F401

    sys.exit(asyncio.run(mcp_client.main(sys.argv[1:])))
