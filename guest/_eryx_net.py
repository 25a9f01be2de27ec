"""Sockets over host connections (the guest half of the network).

The host owns every connection (``eryx._net_*`` calls the world's ``net-*``
imports: the host resolves names, checks its network policy against the
address it connects to, and terminates TLS). This module makes unmodified
client code use them: ``socket.socket`` becomes :class:`socket` (TCP
clients), ``socket.getaddrinfo`` hands the name on unresolved (the host
resolves it), and ``select.select`` / ``select.poll`` understand these
sockets. ``ssl`` is served by ``_eryx_ssl``. Loaded with the helpers, so the
patches are part of the pre-initialised image.
"""

import errno
import io
import select as _select
import socket as _std
import time

import eryx

_StdSocket = _std.socket

# "no timeout from the guest": the host's own limits apply.
_DEFAULT = 0xFFFFFFFF
_CHUNK = 1 << 20

_KINDS = {
    "denied": (PermissionError, errno.EACCES),
    "limit": (PermissionError, errno.EACCES),
    "timeout": (TimeoutError, errno.ETIMEDOUT),
    "refused": (ConnectionRefusedError, errno.ECONNREFUSED),
    "reset": (ConnectionResetError, errno.ECONNRESET),
    "closed": (OSError, errno.EBADF),
}


def error_from(exc):
    """The Python exception for a failed ``eryx._net_*`` call (its text is
    ``KIND: message``)."""
    text = str(exc)
    kind, _, message = text.partition(": ")
    if kind == "dns":
        return _std.gaierror(_std.EAI_NONAME, message)
    if kind == "tls":
        import ssl

        return ssl._error_for(message)
    cls, code = _KINDS.get(kind, (OSError, errno.EIO))
    if kind not in _KINDS and kind != "error":
        message = text
    return cls(code, message)


def call(fn, *args):
    try:
        return fn(*args)
    except OSError as e:
        raise error_from(e) from None


def _ms(timeout):
    if timeout is None:
        return _DEFAULT
    return max(0, min(int(timeout * 1000), _DEFAULT - 1))


class socket:
    """A TCP client socket whose connection lives on the host."""

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is not None:
            raise OSError(errno.EBADF, "sockets from file descriptors are not supported in the sandbox")
        family = _std.AF_INET if family == -1 else family
        type = _std.SOCK_STREAM if type == -1 else type
        if family not in (_std.AF_INET, _std.AF_INET6) or type != _std.SOCK_STREAM:
            raise OSError(
                errno.EPROTONOSUPPORT,
                "only TCP client sockets (AF_INET/AF_INET6, SOCK_STREAM) are supported in the sandbox",
            )
        self.family = family
        self.type = type
        self.proto = 0 if proto == -1 else proto
        self._conn = None
        self._peer = None
        self._timeout = _std.getdefaulttimeout()
        self._rbuf = b""
        self._eof = False
        self._closed = False
        self._io_refs = 0

    def __repr__(self):
        state = "closed" if self._closed else ("connected to %r" % (self._peer,) if self._conn else "unconnected")
        return "<eryx socket %s>" % state

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        raise TypeError("cannot pickle a socket (its connection lives on the host)")

    # --- connection ---

    def _check(self):
        # A closed socket whose makefile() streams are still open keeps
        # its connection until they close (as CPython's sockets do).
        if self._conn is None:
            if self._closed:
                raise OSError(errno.EBADF, "Bad file descriptor")
            raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")
        return self._conn

    def connect(self, address):
        if self._closed:
            raise OSError(errno.EBADF, "Bad file descriptor")
        if self._conn is not None:
            raise OSError(errno.EISCONN, "Transport endpoint is already connected")
        host, port = address[0], address[1]
        if not isinstance(host, str):
            host = host.decode("idna") if isinstance(host, (bytes, bytearray)) else str(host)
        timeout = None if self._timeout == 0 else self._timeout
        self._conn = call(eryx._net_connect, host, int(port), _ms(timeout))
        self._peer = (host, int(port))

    def connect_ex(self, address):
        try:
            self.connect(address)
        except OSError as e:
            return e.errno or errno.EIO
        return 0

    def bind(self, address):
        raise OSError(errno.EADDRNOTAVAIL, "binding is not supported in the sandbox (outbound TCP only)")

    def listen(self, backlog=0):
        raise OSError(errno.EOPNOTSUPP, "listening is not supported in the sandbox (outbound TCP only)")

    def accept(self):
        raise OSError(errno.EOPNOTSUPP, "accepting is not supported in the sandbox (outbound TCP only)")

    # --- data ---

    def _recv_host(self, n, timeout_ms):
        data = call(eryx._net_recv, self._check(), n, timeout_ms)
        if not data:
            self._eof = True
        return data

    def recv(self, bufsize, flags=0):
        if flags:
            raise OSError(errno.EOPNOTSUPP, "recv flags are not supported in the sandbox")
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        self._check()
        if self._rbuf:
            data, self._rbuf = self._rbuf[:bufsize], self._rbuf[bufsize:]
            return data
        if self._eof or bufsize == 0:
            return b""
        if self._timeout == 0:
            try:
                return self._recv_host(min(bufsize, _CHUNK), 0)
            except TimeoutError:
                raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable") from None
        return self._recv_host(min(bufsize, _CHUNK), _ms(self._timeout))

    def recv_into(self, buffer, nbytes=0, flags=0):
        view = memoryview(buffer).cast("B")
        n = nbytes or len(view)
        data = self.recv(n, flags)
        view[: len(data)] = data
        return len(data)

    def recvfrom(self, bufsize, flags=0):
        return self.recv(bufsize, flags), self._peer

    def send(self, data, flags=0):
        if flags:
            raise OSError(errno.EOPNOTSUPP, "send flags are not supported in the sandbox")
        view = memoryview(data).cast("B")[:_CHUNK]
        return call(eryx._net_send, self._check(), view, _ms(self._timeout or None))

    def sendall(self, data, flags=0):
        view = memoryview(data).cast("B")
        sent = 0
        while sent < len(view):
            sent += self.send(view[sent:], flags)

    write = sendall

    def makefile(self, mode="r", buffering=None, *, encoding=None, errors=None, newline=None):
        return _StdSocket.makefile(self, mode, buffering, encoding=encoding, errors=errors, newline=newline)

    def _decref_socketios(self):
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed:
            self.close()

    def _poll(self, timeout_ms):
        """True when a read would not block (data, end of stream or error)."""
        if self._rbuf or self._eof or self._closed or self._conn is None:
            return True
        try:
            self._rbuf = self._recv_host(_CHUNK, timeout_ms)
        except TimeoutError:
            return False
        except OSError:
            return True
        return True

    def pending(self):
        return len(self._rbuf)

    # --- options and state ---

    def settimeout(self, value):
        if value is not None:
            value = float(value)
            if value < 0:
                raise ValueError("Timeout value out of range")
        self._timeout = value

    def gettimeout(self):
        return self._timeout

    @property
    def timeout(self):
        return self._timeout

    def setblocking(self, flag):
        self._timeout = None if flag else 0.0

    def getblocking(self):
        return self._timeout != 0.0

    def setsockopt(self, *args):
        pass

    def getsockopt(self, level, option, buflen=None):
        return b"\0" * buflen if buflen else 0

    def fileno(self):
        if self._conn is None:
            return -1
        return 0x40000000 + self._conn

    def getpeername(self):
        self._check()
        return self._peer

    def getsockname(self):
        return ("0.0.0.0", 0) if self.family == _std.AF_INET else ("::", 0, 0, 0)

    def shutdown(self, how):
        self._check()
        if how == _std.SHUT_RDWR:
            eryx._net_close(self._conn)
            self._eof = True

    def close(self):
        self._closed = True
        if self._io_refs <= 0 and self._conn is not None:
            eryx._net_close(self._conn)
            self._conn = None

    def detach(self):
        raise OSError(errno.EOPNOTSUPP, "detach is not supported in the sandbox")

    def dup(self):
        raise OSError(errno.EOPNOTSUPP, "dup is not supported in the sandbox")

    def __del__(self):
        try:
            if self._conn is not None and self._io_refs <= 0:
                eryx._net_close(self._conn)
                self._conn = None
        except Exception:
            pass


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """One entry with the name unresolved: the host resolves (and checks)
    it when connecting."""
    if host is None:
        raise _std.gaierror(_std.EAI_NONAME, "Name or service not known")
    if isinstance(host, (bytes, bytearray)):
        host = host.decode("idna")
    if isinstance(port, str):
        port = {"http": 80, "https": 443}.get(port) or int(port)
    port = 0 if port is None else int(port)
    if family == _std.AF_INET6 or (family == 0 and ":" in host):
        return [(_std.AF_INET6, _std.SOCK_STREAM, _std.IPPROTO_TCP, "", (host, port, 0, 0))]
    return [(_std.AF_INET, _std.SOCK_STREAM, _std.IPPROTO_TCP, "", (host, port))]


_real_select = _select.select
_real_poll = getattr(_select, "poll", None)


def _wait(ours, others_check, timeout):
    """Wait until some of `ours` (eryx sockets) is readable or
    `others_check(0)` reports something; returns the readable ones."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        ready = [s for s in ours if s._poll(0)]
        other = others_check(0) if others_check else None
        if ready or other:
            return ready, other
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return [], other
        if len(ours) == 1 and not others_check:
            step = _DEFAULT if left is None else int(left * 1000) + 1
            if ours[0]._poll(min(step, _DEFAULT)):
                return ours, None
            if left is None:
                continue
        else:
            time.sleep(0.01 if left is None else min(0.01, left))


def select(rlist, wlist, xlist, timeout=None):
    """``select.select`` that also waits on eryx sockets (always writable)."""
    mine = lambda seq: [s for s in seq if isinstance(s, socket)]
    ours_r, ours_w = mine(rlist), mine(wlist)
    if not ours_r and not ours_w and not mine(xlist):
        return _real_select(rlist, wlist, xlist, timeout)
    rest = ([s for s in rlist if not isinstance(s, socket)], [s for s in wlist if not isinstance(s, socket)],
            [s for s in xlist if not isinstance(s, socket)])

    def check(t):
        r = _real_select(*rest, t)
        return r if any(r) else None

    check = check if any(rest) else None
    if ours_w:
        r = [s for s in ours_r if s._poll(0)]
        other = (check(0) if check else None) or ([], [], [])
        return r + list(other[0]), ours_w + list(other[1]), list(other[2])
    ready, other = _wait(ours_r, check, timeout)
    other = other or ([], [], [])
    return ready + list(other[0]), list(other[1]), list(other[2])


class _Poll:
    """``select.poll()`` that also understands eryx sockets."""

    def __init__(self):
        self._ours = {}
        self._real = _real_poll() if _real_poll else None

    def register(self, fd, eventmask=_select.POLLIN | _select.POLLPRI | _select.POLLOUT):
        if isinstance(fd, socket):
            self._ours[fd] = eventmask
        else:
            self._real.register(fd, eventmask)

    def modify(self, fd, eventmask):
        if isinstance(fd, socket):
            if fd not in self._ours:
                raise FileNotFoundError(errno.ENOENT, "not registered")
            self._ours[fd] = eventmask
        else:
            self._real.modify(fd, eventmask)

    def unregister(self, fd):
        if isinstance(fd, socket):
            del self._ours[fd]
        else:
            self._real.unregister(fd)

    def poll(self, timeout=None):
        if not self._ours:
            return self._real.poll(timeout)
        if timeout is not None and timeout < 0:
            timeout = None
        seconds = None if timeout is None else timeout / 1000
        writers = [(s.fileno(), _select.POLLOUT) for s, m in self._ours.items() if m & _select.POLLOUT]
        readers = [s for s, m in self._ours.items() if m & (_select.POLLIN | _select.POLLPRI)]
        if writers:
            return [(s.fileno(), _select.POLLIN) for s in readers if s._poll(0)] + writers
        ready, _ = _wait(readers, None, seconds)
        return [(s.fileno(), _select.POLLIN) for s in ready]


def install():
    """Route ``socket`` and ``select`` through the host connections."""
    _std.socket = socket
    _std.SocketType = socket
    _std.getaddrinfo = getaddrinfo
    _select.select = select
    if _real_poll is not None:
        _select.poll = _Poll


install()
