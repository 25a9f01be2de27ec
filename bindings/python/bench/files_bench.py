"""Round trip of a 10 MiB file: written into a sandbox and read back out,
through the Python API (``sb.files.write`` + ``sb.files.read``) and through
the server API (``PUT`` + ``GET /v1/sessions/{id}/files/...`` on a real
``target/release/eryx-server`` on 127.0.0.1, stdlib HTTP client), plus the
guest reading the uploaded file once (a check, not timed). Run by
`scripts/bench-python.sh files_bench` (after cargo +1.95.0 build --release
-p eryx-server); prints a Markdown table (median and min of ROUNDS).
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import time

SIZE = 10 << 20
ROUNDS = 20
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SERVER = os.path.join(ROOT, "target", "release", "eryx-server")


def timed(fn):
    times = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def python_api(data):
    import eryx

    with eryx.Sandbox() as sb:
        def once():
            sb.files.write("/tmp/blob.bin", data)
            if sb.files.read("/tmp/blob.bin") != data:
                raise AssertionError("bytes differ")

        once()
        check = sb.execute("print(len(open('/tmp/blob.bin', 'rb').read()))").stdout
        if check != "%d\n" % SIZE:
            raise AssertionError(check)
        return timed(once)


def server_api(data):
    proc = subprocess.Popen(
        [SERVER, "--listen", "127.0.0.1:0", "--max-file-bytes", str(SIZE + 1024)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        addr = line.strip().rsplit(" ", 1)[-1].replace("http://", "")
        host, port = addr.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        for _ in range(600):
            conn.request("GET", "/readyz")
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                break
            time.sleep(0.1)
        conn.request("POST", "/v1/sessions", body="{}", headers={"Content-Type": "application/json"})
        sid = json.loads(conn.getresponse().read())["id"]
        path = "/v1/sessions/%s/files/tmp/blob.bin" % sid

        def once():
            conn.request("PUT", path, body=data, headers={"Content-Type": "application/octet-stream"})
            r = conn.getresponse()
            r.read()
            if r.status != 204:
                raise AssertionError(r.status)
            conn.request("GET", path)
            r = conn.getresponse()
            if r.read() != data:
                raise AssertionError("bytes differ")

        once()
        return timed(once)
    finally:
        proc.terminate()
        proc.wait()


def ms(s):
    return "%.1f ms" % (s * 1e3)


def main():
    data = os.urandom(SIZE)
    rows = [("Python API (`sb.files.write` + `read`)", python_api(data))]
    if os.path.exists(SERVER):
        rows.append(("server API (`PUT` + `GET .../files/...`)", server_api(data)))
    else:
        print("(no %s: server row skipped; build it with cargo build --release -p eryx-server)" % SERVER,
              file=sys.stderr)
    print("| 10 MiB round trip | median | min | MiB/s (median) |")
    print("|---|---|---|---|")
    for name, (med, lo) in rows:
        print("| %s | %s | %s | %.0f |" % (name, ms(med), ms(lo), 2 * SIZE / (1 << 20) / med))


if __name__ == "__main__":
    main()
