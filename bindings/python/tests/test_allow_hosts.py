"""Network policy through the Python package: ``Sandbox(allow_hosts=[...])``
lets guest code reach an allowed host (a real HTTP server on 127.0.0.1,
allowed literally: loopback is refused otherwise) with the stdlib's
urllib; without a rule the network is off; bad patterns and a lone string
are refused when the sandbox is made."""

import http.server
import threading

import pytest

import eryx


@pytest.fixture(scope="module")
def server():
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"hello from the host"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield "127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()


def fetch(address):
    return "import urllib.request\nprint(urllib.request.urlopen('http://%s/').read().decode())" % address


def test_an_allowed_host_is_reached(server):
    with eryx.Sandbox(allow_hosts=[server]) as sb:
        assert sb.execute(fetch(server)).stdout == "hello from the host\n"


def test_without_rules_the_network_is_off(server):
    with eryx.Sandbox() as sb, pytest.raises(eryx.PythonError) as e:
        sb.execute(fetch(server))
    assert "network access is off" in str(e.value)


def test_another_port_is_not_allowed(server):
    host, port = server.split(":")
    with eryx.Sandbox(allow_hosts=["%s:%d" % (host, int(port) + 1)]) as sb, pytest.raises(eryx.PythonError):
        sb.execute(fetch(server))


def test_bad_patterns_are_refused():
    with pytest.raises(eryx.SetupError, match="invalid host pattern"):
        eryx.Sandbox(allow_hosts=["exa mple.com"])
    with pytest.raises(TypeError, match="allow_hosts must be a list"):
        eryx.Sandbox(allow_hosts="example.com")
    with pytest.raises(TypeError, match=r"allow_hosts\[0\]"):
        eryx.Sandbox(allow_hosts=[443])
