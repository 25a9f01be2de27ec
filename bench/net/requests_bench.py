"""HTTPS with `requests`, run the same way by the sandbox and by native
python3 (host/examples/net_bench.rs): argv = [BASE_URL, N, CA_FILE or ""].
Prints one JSON line: total seconds for N sequential GETs of a small and of
a 1 MiB response on one keep-alive Session, N GETs each on a new
connection, and the median time to the first byte of a new TLS connection."""

import json
import socket
import ssl
import statistics
import sys
import time
from urllib.parse import urlsplit

import requests

base, n, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3] or None
verify = ca or True


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def gets(path, session):
    for _ in range(n):
        r = session.get(base + path, verify=verify, timeout=30)
        assert r.status_code == 200 and r.content


with requests.Session() as s:
    gets("/bytes/64", s)  # warm-up (imports, first connection)
    small = timed(lambda: gets("/bytes/64", s))
    large = timed(lambda: gets("/bytes/1048576", s))


def fresh():
    for _ in range(n):
        r = requests.get(base + "/bytes/64", verify=verify, timeout=30)
        assert r.status_code == 200


small_new = timed(fresh)

u = urlsplit(base)
ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
ttfb = []
for _ in range(20):
    t = time.perf_counter()
    with socket.create_connection((u.hostname, u.port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname=u.hostname) as tls:
            tls.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert tls.recv(1)
            ttfb.append(time.perf_counter() - t)

print(json.dumps({"small": small, "large": large, "small_new_conn": small_new,
                  "ttfb": statistics.median(ttfb)}))
