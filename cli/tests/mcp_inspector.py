"""`eryx mcp` driven by the MCP Inspector's CLI (@modelcontextprotocol/
inspector-cli, pinned in scripts/mcp-inspector/): a second, independent
client (TypeScript SDK) beside mcp_client.py's Python SDK. Each Inspector
run is one request on a fresh server, so these are one-call checks: the
tool list, a display image and the last value, a file tool's error.

    scripts/test-mcp-inspector.sh     # installs the Inspector, runs this
"""

import base64
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "host", "tests",
                                "fixtures", "display"))
from pngread import png_size  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ERYX = os.environ.get("ERYX", os.path.join(ROOT, "target", "release", "eryx"))
INSPECTOR = os.environ["INSPECTOR_DIR"]
FIXTURES = os.path.join(ROOT, "host", "tests", "fixtures", "display")


def inspector(*args, server_args=()):
    """The JSON the Inspector prints for one request (it exits 1 on a
    protocol failure, which fails the check)."""
    # inspector-cli 1.0.3 finds its own package.json relative to the
    # working directory (../package.json), so it runs from its build/.
    cwd = os.path.join(INSPECTOR, "node_modules", "@modelcontextprotocol", "inspector-cli", "build")
    cmd = ["node", "cli.js", "--cli", ERYX, "mcp", *server_args, *args]
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"inspector exited {p.returncode}: {p.stdout}{p.stderr}")
    return json.loads(p.stdout[p.stdout.index("{"):])


def call(tool, *args, server_args=()):
    flat = [a for arg in args for a in ("--tool-arg", arg)]
    return inspector("--method", "tools/call", "--tool-name", tool, *flat, server_args=server_args)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def tools_are_listed():
    tools = {t["name"]: t for t in inspector("--method", "tools/list")["tools"]}
    check(set(tools) == {"run_python", "reset_session", "upload_file", "download_file"}, list(tools))
    check(tools["upload_file"]["inputSchema"]["required"] == ["path", "content"], tools["upload_file"])
    check("PNG" in tools["run_python"]["description"], tools["run_python"]["description"])


def a_display_is_an_image_and_the_last_value_is_text():
    code = ("import sys\nsys.path.insert(0, '/fixtures')\nfrom pngmaker import png\n"
            "from IPython.display import display, Image\ndisplay(Image(png(12, 7)))\nprint(6 * 7)\n1 + 1")
    r = call("run_python", "code=" + code, server_args=("--mount", f"{FIXTURES}:/fixtures:ro"))
    check(r["isError"] is False, r)
    images = [b for b in r["content"] if b["type"] == "image"]
    check(len(images) == 1 and images[0]["mimeType"] == "image/png", r["content"])
    check(png_size(base64.b64decode(images[0]["data"])) == (12, 7), images[0]["data"][:40])
    texts = "".join(b["text"] for b in r["content"] if b["type"] == "text")
    check("42\n" in texts and "[last expression]\n2\n" in texts, texts)
    check([o["type"] for o in r["structuredContent"]["outputs"]] == ["display", "result"], r)


def a_hostile_upload_is_a_tool_error():
    r = call("upload_file", "path=../../etc/passwd", "content=x")
    check(r["isError"] is True, r)
    check("`..`" in r["content"][0]["text"], r["content"])


def main():
    failed = 0
    for fn in (tools_are_listed, a_display_is_an_image_and_the_last_value_is_text, a_hostile_upload_is_a_tool_error):
        try:
            fn()
            print(f"ok   {fn.__name__}")
        except Exception as e:  # noqa: BLE001 - reported per check
            failed += 1
            print(f"FAIL {fn.__name__}: {e}")
    print(f"mcp-inspector: {3 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
