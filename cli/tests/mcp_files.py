"""The MCP file tools (upload_file, download_file) with the official SDK:
a CSV in, code that reads it and writes /tmp/out.csv, the result out with
equal bytes; binary files as base64; hostile paths and sizes as tool
errors. Run by mcp_client.py (its TESTS take these too)."""

import base64
import os
import tempfile
from pathlib import Path

from mcp_client import ROOT, check, client, run, test, text

# The shared fixtures (tests/files): the upload, the program that reads it
# and writes /tmp/out.csv, and what it writes.
FIXTURES = Path(ROOT) / "tests" / "files"
CSV = (FIXTURES / "in.csv").read_text()
DOUBLED = (FIXTURES / "out.csv").read_text()
DOUBLE = (FIXTURES / "double.py").read_text()


@test
async def files_go_in_and_come_out_through_the_file_tools():
    async with client() as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        check("8 MiB" in tools["upload_file"].description, tools["upload_file"].description)
        check("1024 KiB" in tools["download_file"].description, tools["download_file"].description)
        check(tools["download_file"].annotations.read_only_hint is True, tools["download_file"])
        r = await c.call_tool("upload_file", {"path": "/tmp/in.csv", "content": CSV})
        check(not r.is_error and "Wrote 22 bytes" in text(r), text(r))
        r = await run(c, DOUBLE)
        check(r.structured_content["stdout"] == "2\n", r)
        r = await c.call_tool("download_file", {"path": "/tmp/out.csv"})
        check(not r.is_error and r.content[0].text == DOUBLED, text(r))
        check("as text" in r.content[1].text, r.content[1].text)
        blob = bytes(range(256))
        r = await c.call_tool("upload_file", {"path": "bin/x.bin", "content": base64.b64encode(blob).decode(),
                                              "encoding": "base64"})
        check(not r.is_error, text(r))
        r = await run(c, "print(open('/home/user/bin/x.bin', 'rb').read() == bytes(range(256)))")
        check(r.structured_content["stdout"] == "True\n", r)
        r = await c.call_tool("download_file", {"path": "bin/x.bin"})
        check(base64.b64decode(r.content[0].text) == blob and "as base64" in r.content[1].text, text(r))


@test
async def hostile_file_tool_calls_are_tool_errors():
    # Outside /tmp: a host path there would name the sandbox's own /tmp.
    with tempfile.TemporaryDirectory(dir=os.path.join(ROOT, "target")) as d:
        with open(os.path.join(d, "keep.txt"), "w") as f:
            f.write("host")
        async with client("--mount", f"{d}:/data:ro") as c:
            for args, needle in [
                ({"path": "../../etc/passwd", "content": "x"}, "`..`"),
                ({"path": "/etc/passwd", "content": "x"}, "does not exist in the sandbox"),
                ({"path": os.path.join(d, "keep.txt"), "content": "x"}, "does not exist in the sandbox"),
                ({"path": "/data/keep.txt", "content": "x"}, "host mount"),
                ({"path": "/tmp/big", "content": "x" * ((8 << 20) + 1)}, "8 MiB limit"),
                ({"path": "/tmp/x", "content": "%%%", "encoding": "base64"}, "base64"),
                ({"path": "/tmp/x"}, "missing required argument"),
                ({"path": "/tmp/x", "content": "x", "mode": 1}, "unknown argument"),
            ]:
                r = await c.call_tool("upload_file", args)
                check(r.is_error and needle in text(r), (args["path"][:40], text(r)))
            r = await c.call_tool("download_file", {"path": "/data/keep.txt"})
            check(r.is_error and "host mount" in text(r), text(r))
            r = await c.call_tool("download_file", {"path": "/tmp/none"})
            check(r.is_error and "no such file" in text(r), text(r))
            await run(c, "open('/tmp/huge', 'wb').write(bytes(2 << 20))")
            r = await c.call_tool("download_file", {"path": "/tmp/huge"})
            check(r.is_error and "KiB limit" in text(r), text(r))
            check(os.listdir(d) == ["keep.txt"] and open(os.path.join(d, "keep.txt")).read() == "host",
                  os.listdir(d))
            r = await run(c, "import os; print(sorted(os.listdir('/tmp')))")
            check(r.structured_content["stdout"] == "['huge']\n", r)
    async with client("--stateless") as c:
        names = {t.name for t in (await c.list_tools()).tools}
        check(names == {"run_python", "reset_session"}, names)
