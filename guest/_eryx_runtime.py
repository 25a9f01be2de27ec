"""Guest-side helpers of the eryx runtime.

Loaded at start-up by the Rust runtime (src/python.rs) and called through
the C API. Owns what is easier to say in Python: compiling user code (with
top-level ``await``), streaming and capturing its output, driving its
coroutine on the eryx event loop, reporting the last expression's value
(through _eryx_display) and formatting tracebacks.

User code never sees this module: it runs in its own namespace.
"""

import sys

import _eryx_callbacks
import _eryx_display
import _eryx_hooks
import _eryx_trace
import eryx

_TOP_LEVEL_AWAIT = 0x2000  # ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
_CO_COROUTINE = 0x0080
_FILENAME = "<string>"
_FLUSH_AT = 8192
# -u: write through at every write (ERYX_UNBUFFERED, see after_restore).
_unbuffered = False
_OWN_PREFIX = "/eryx/"
_interactive = None
# -O / -OO of the command line (compile()'s optimize level; -1: as started).
optimize = -1
# Code objects of the host's fixed one-line entry programs (_eryx_main):
# tracebacks do not show them.
entry_codes = set()
# A top-level-await coroutine started by _eryx_main, for `start` to drive.
pending_main = None

_loop = None


def _get_loop():
    """The loop top-level-await code runs on (asyncio is imported lazily:
    it is the most expensive part of start-up)."""
    global _loop
    if _loop is None:
        import _eryx_loop

        _loop = _eryx_loop.loop_class()()
        _eryx_callbacks.main_loop = _loop
    return _loop


def _install_loop(module=None):
    """Make asyncio's default loop the socket-free EryxLoop (so
    `asyncio.run()` works); run when user code first imports asyncio."""
    import _eryx_loop

    _eryx_loop.install()


if "asyncio" in sys.modules:
    _install_loop()
else:
    _eryx_hooks.on_import("asyncio", _install_loop)


def _install_exit():
    """Make ``os._exit(n)`` report ``n`` to the host before the process ends
    (the WASI adapter's ``proc_exit`` only tells success from failure)."""
    import operator
    import os

    real_exit = os._exit

    def _exit(status):
        status = operator.index(status)
        eryx._trace('{"event": "exit", "line": 0, "function": "", "status": %d}' % status)
        real_exit(status)

    _exit.__doc__ = real_exit.__doc__
    os._exit = _exit


_install_exit()


def _install_identity():
    """``os.getuid``, ``os.chown`` and kin, which WASI's CPython leaves out
    (see guest/stdlib/_eryx_users.py)."""
    import _eryx_users

    _eryx_users.install()


_install_identity()


def _install_site_builtins():
    """``exit``, ``quit`` and ``help``, which CPython's ``site`` (not run
    here) gives every program."""
    import builtins
    import _sitebuiltins

    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    builtins.help = _sitebuiltins._Helper()


_install_site_builtins()
_eryx_display.install()


class _Stream:
    """A text stream that streams to the host (line-buffered) and keeps a copy."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, fd, keep):
        self._fd = fd
        self._keep = keep
        self._pending = []
        self._size = 0
        self._buffer = None
        self.parts = []

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        if text:
            self._pending.append(text)
            self._size += len(text)
            if _unbuffered or "\n" in text or self._size >= _FLUSH_AT:
                self.flush()
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self._size = 0
            if self._keep:
                self.parts.append(text)
            eryx._output(self._fd, text)

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def fileno(self):
        return self._fd

    @property
    def closed(self):
        return False

    @property
    def buffer(self):
        """Binary writes (``sys.stdout.buffer.write(b"...")``), decoded as
        UTF-8 (undecodable bytes become U+FFFD) into the same stream."""
        if self._buffer is None:
            self._buffer = _BinaryStream(self)
        return self._buffer

    def reconfigure(self, **options):
        """Accepted for compatibility: the stream is always UTF-8 and
        written through at each newline."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.flush()


class _BinaryStream:
    """The ``buffer`` of a :class:`_Stream`."""

    def __init__(self, text):
        import codecs

        self._text = text
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def write(self, data):
        self._text.write(self._decoder.decode(bytes(data)))
        return len(data)

    def flush(self):
        self._text.flush()

    def fileno(self):
        return self._text.fileno()

    def writable(self):
        return True

    def readable(self):
        return False

    def isatty(self):
        return False


class Job:
    """One `execute`: its code, output streams, coroutine task and outcome."""

    def __init__(self, code):
        self.code = code
        self.stdout = _Stream(1, keep=True)
        self.stderr = _Stream(2, keep=False)
        self.task = None
        self.exc = None
        self._saved = None
        # How the last expression's value is captured (_eryx_display) and
        # the value the code returned.
        self.capture = None
        self.value = None

    def _enter(self):
        self._saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.stdout, self.stderr
        _eryx_trace.start()

    def _leave(self):
        _eryx_trace.stop()
        self.stdout.flush()
        self.stderr.flush()
        sys.stdout, sys.stderr = self._saved


def _compile(code):
    """Compile user code; in interactive mode (the REPL) a lone statement is
    compiled like Python's prompt does, so expression values are echoed.
    Returns (code object, how its last value is captured: see
    _eryx_display.capture_last)."""
    global _interactive
    if _interactive is None:
        import os

        _interactive = os.environ.get("ERYX_INTERACTIVE") == "1"
    if _interactive:
        try:
            single = compile(
                code, _FILENAME, "single", flags=_TOP_LEVEL_AWAIT, dont_inherit=True, optimize=optimize
            )
            return single, None
        except SyntaxError:
            pass  # several statements: run them as a block
    compiled = compile(code, _FILENAME, "exec", flags=_TOP_LEVEL_AWAIT, dont_inherit=True, optimize=optimize)
    return _eryx_display.capture_last(compiled)


def start(code, namespace):
    """Compile and run `code`; a top-level-await coroutine becomes a task."""
    global pending_main
    job = Job(code)
    job._enter()
    try:
        _eryx_callbacks.install(namespace)
        compiled, job.capture = _compile(code)
        pending_main = None
        result = eval(compiled, namespace)
        if not compiled.co_flags & _CO_COROUTINE:
            job.value = result
            result, pending_main = pending_main, None
        if result is not None:
            job.task = _get_loop().create_task(result)
        else:
            _conclude(job)
    except BaseException as e:  # noqa: BLE001 - everything goes back to the host
        job.exc = e
    finally:
        job._leave()
    return job


def drive(job, host_pending):
    """Run the job's task as far as it can go.

    Returns True when the job is finished, False when it waits for the host
    (`host_pending` is the number of host calls in flight).
    """
    if job.task is None:
        return True
    loop = _get_loop()
    job._enter()
    try:
        while not job.task.done():
            state = loop.step()
            if state == 0.0 or job.task.done():
                continue
            if state is None:
                if host_pending():
                    return False
                raise RuntimeError("top-level await can never finish: nothing left to wait for")
            if host_pending():
                return False
            _sleep(state)
        if not job.task.cancelled() and job.task.exception() is not None:
            job.exc = job.task.exception()
        else:
            if not job.task.cancelled():
                job.value = job.task.result()
            _conclude(job)
        return True
    except BaseException as e:  # noqa: BLE001
        job.exc = e
        return True
    finally:
        job._leave()


def _conclude(job):
    """The code ran to its end: report its last value and the figures it
    left open (both inside the job's streams, so in order with its output)."""
    value, job.value = job.value, None
    _eryx_display.take_last(value, job.code, job.capture)
    if _eryx_display.show_open_figures:
        _eryx_display.flush_figures()


def _sleep(seconds):
    import time

    time.sleep(seconds)


def finish(job):
    """(stdout text, exception or None) of a finished job."""
    return "".join(job.stdout.parts), job.exc


_RECURSIVE_CUTOFF = 3  # as traceback._RECURSIVE_CUTOFF


def _compress(tb, from_user):
    """Relink `tb` in place to the frames a user sees: from the user's
    first frame on (if `from_user`), without this runtime's own frames, and
    of each run of one repeated line only its first three frames (like
    CPython's ``[Previous line repeated N more times]``). Returns the new
    head and {index of a kept frame: frames left out after it}. The walk
    is one C pointer chase (eryx._tb_runs); nothing is stringified."""
    while from_user and tb is not None and tb.tb_frame.f_code.co_filename != _FILENAME:
        tb = tb.tb_next
    # The host's one-line entry program (see _eryx_main) is not the user's.
    if from_user and tb is not None and tb.tb_frame.f_code in entry_codes:
        tb = tb.tb_next
    kept, repeats = eryx._tb_runs(tb, _RECURSIVE_CUTOFF, _OWN_PREFIX)
    # Relink from the end: setting tb_next walks the new tail (loop check),
    # which is then already the short one.
    following = None
    for node in reversed(kept):
        node.tb_next = following
        following = node
    return following, repeats


def _chain(exc, seen):
    """`exc` and every exception chained to it (cause, context, group)."""
    if exc is None or id(exc) in seen:
        return
    seen.add(id(exc))
    yield exc
    yield from _chain(exc.__cause__, seen)
    yield from _chain(exc.__context__, seen)
    for sub in getattr(exc, "exceptions", None) or ():
        if isinstance(sub, BaseException):
            yield from _chain(sub, seen)


def _stack_class():
    import traceback

    class Stack(traceback.StackSummary):
        """A stack whose left-out repetitions are known (see _compress)."""

        repeats = {}

        def format(self, **kwargs):
            colorize = kwargs.get("colorize", False)
            out = []
            for i, frame in enumerate(self):
                text = self.format_frame_summary(frame, colorize=colorize)
                if text is not None:
                    out.append(text)
                n = self.repeats.get(i)
                if n:
                    out.append("  [Previous line repeated %d more time%s]\n" % (n, "s" if n > 1 else ""))
            return out

    return Stack


def _attach(te, exc, repeats, stack_class, seen):
    """Give each TracebackException of the chain its exception's repeats."""
    if te is None or exc is None or id(te) in seen:
        return
    seen.add(id(te))
    counts = repeats.get(id(exc))
    if counts:
        te.stack.__class__ = stack_class
        te.stack.repeats = counts
    _attach(te.__cause__, exc.__cause__, repeats, stack_class, seen)
    _attach(te.__context__, exc.__context__, repeats, stack_class, seen)
    for sub_te, sub in zip(te.exceptions or (), getattr(exc, "exceptions", None) or ()):
        _attach(sub_te, sub, repeats, stack_class, seen)


def format_exception(exc, code):
    """Format `exc` like CPython does, hiding this module's own frames.

    Costs O(frames shown): a 10^6-deep recursion is cut to its first
    frames per repeated line before anything is formatted."""
    import linecache
    import traceback

    linecache.cache[_FILENAME] = (len(code), None, code.splitlines(True), _FILENAME)
    repeats = {}
    for e in _chain(exc, set()):
        head, counts = _compress(e.__traceback__, e is exc)
        if e is exc:
            tb = head
        elif head is not e.__traceback__:
            e.__traceback__ = head
        if counts:
            repeats[id(e)] = counts
    te = traceback.TracebackException(type(exc), exc, tb, compact=True)
    if repeats:
        _attach(te, exc, repeats, _stack_class(), set())
    return "".join(te.format())


def exit_code(exc):
    """The exit status a SystemExit stands for (like CPython) and its message."""
    code = exc.code
    if code is None:
        return 0, ""
    if isinstance(code, int):
        return code, ""
    return 1, str(code) + "\n"


def _apply_options(warnoptions, xoptions):
    """``-W`` filters (as CPython's start-up applies them) and ``-X`` options
    (``sys._xoptions``; ``int_max_str_digits`` takes effect)."""
    import json

    if warnoptions:
        import warnings

        options = json.loads(warnoptions)
        sys.warnoptions.extend(options)
        warnings._processoptions(options)
    if xoptions:
        for option in json.loads(xoptions):
            key, sep, value = option.partition("=")
            sys._xoptions[key] = value if sep else True
            if key == "int_max_str_digits":
                try:
                    sys.set_int_max_str_digits(int(value))
                except ValueError as e:
                    emit_stderr("eryx: -X int_max_str_digits: %s (ignored)\n" % e)


def emit_stderr(text):
    """Send `text` to the host's stderr stream."""
    eryx._output(2, text)


def before_snapshot():
    """Last step of the pre-init instance, before its memory is snapshotted.

    Forget what the helpers cached from this instance (every such cache
    must be reset here) and drop the pre-init marker from ``os.environ``.
    """
    global _interactive
    import os

    os.environ.pop("ERYX_PREINIT", None)
    # Directories absent here (e.g. /site-packages) may exist in a sandbox:
    # forget that the import system found no finder for them.
    for path, finder in list(sys.path_importer_cache.items()):
        if finder is None:
            del sys.path_importer_cache[path]
    _interactive = None
    _eryx_trace.enabled = None
    _eryx_callbacks._names = None
    # Run the per-call state checkpoint once, so the image holds its lazily
    # built pickler and warmed (specialised) bytecode; counting only (the
    # host takes checkpoint bytes only during `checkpoint-state`).
    import _eryx_state

    _eryx_state._snapshot({"__name__": "__main__", "x": [1]}, 1 << 20, _eryx_state._Sink.COUNT)
    # Move everything alive now to the permanent generation: the collector
    # then never walks (and so never writes to) the image's objects, which
    # keeps their pages shared (copy-on-write) between sandboxes.
    import gc

    gc.collect()
    gc.freeze()


def after_restore(environ, argv):
    """First call in an instance made from the pre-initialised snapshot.

    ``os.environ`` is CPython's copy of the pre-init environment and
    ``random`` was seeded in the pre-init instance: take this instance's
    environment (a dict from the runtime) and reseed. ``sys.argv`` becomes
    this instance's WASI arguments. The command line's ``-W``, ``-X`` and
    ``-O`` options arrive as ``ERYX_WARNOPTIONS`` / ``ERYX_XOPTIONS`` (JSON
    lists) and ``ERYX_OPTIMIZE``; they are applied, not kept in the
    environment. The ``str`` hash seed stays that of the snapshot.
    """
    global optimize, _unbuffered
    import os

    sys.argv[:] = list(argv) or [""]
    optimize = int(environ.pop("ERYX_OPTIMIZE", "-1"))
    _unbuffered = environ.pop("ERYX_UNBUFFERED", None) == "1"
    _apply_options(environ.pop("ERYX_WARNOPTIONS", None), environ.pop("ERYX_XOPTIONS", None))
    _eryx_display.configure(environ)

    if environ or os.environ:
        for key in [k for k in os.environ if k not in environ]:
            del os.environ[key]
        for key, value in environ.items():
            if os.environ.get(key) != value:
                os.environ[key] = value
    random = sys.modules.get("random")
    if random is not None:
        random.seed()
    tempfile = sys.modules.get("tempfile")
    if tempfile is not None:
        tempfile._name_sequence = None  # its generator would repeat names
        tempfile.tempdir = None  # found again from this instance's TMPDIR
    # The working directory is the home directory in the virtual tree.
    home = environ.get("HOME")
    if home:
        try:
            os.chdir(home)
        except OSError:
            pass
