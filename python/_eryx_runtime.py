"""Guest-side helpers of the eryx runtime.

Loaded once at start-up by the Rust runtime (src/python.rs) from this file's
source and called through the C API. It owns what is easier to say in
Python than in C: compiling user code (top-level await allowed), capturing
its output, running coroutines, and formatting tracebacks.

User code never sees this module: it runs in its own namespace.
"""

import sys

_TOP_LEVEL_AWAIT = 0x2000  # ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
_CO_COROUTINE = 0x0080
_FILENAME = "<string>"
_loop = None


class _Capture:
    """A minimal text stream that accumulates what is written to it."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self):
        self._parts = []

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        self._parts.append(text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def getvalue(self):
        return "".join(self._parts)


def _run_coroutine(coro):
    global _loop
    import asyncio

    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coro)


def execute(code, namespace):
    """Run `code` in `namespace`.

    Returns (stdout, stderr, exception-or-None); never raises for user errors.
    """
    out, err = _Capture(), _Capture()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    exc = None
    try:
        compiled = compile(code, _FILENAME, "exec", flags=_TOP_LEVEL_AWAIT, dont_inherit=True)
        result = eval(compiled, namespace)
        if compiled.co_flags & _CO_COROUTINE:
            _run_coroutine(result)
    except BaseException as e:  # noqa: BLE001 - everything goes back to the host
        exc = e
    finally:
        sys.stdout, sys.stderr = saved
    return out.getvalue(), err.getvalue(), exc


def format_exception(exc, code):
    """Format `exc` like CPython does, hiding this module's own frames."""
    import linecache
    import traceback

    linecache.cache[_FILENAME] = (len(code), None, code.splitlines(True), _FILENAME)
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def exit_code(exc):
    """The process exit status a SystemExit stands for (like CPython)."""
    code = exc.code
    if code is None:
        return 0, ""
    if isinstance(code, int):
        return code, ""
    return 1, str(code) + "\n"
