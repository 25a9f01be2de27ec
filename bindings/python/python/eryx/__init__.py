"""eryx: run untrusted Python in a WebAssembly sandbox.

Each ``Sandbox`` is CPython 3.14 (WASI) in its own wasmtime instance with a
persistent namespace, the limits you give it, the host callbacks you offer
and nothing else (no network, no host files unless mounted)::

    import eryx

    with eryx.Sandbox(timeout=5.0) as sb:
        sb.execute("x = 41")
        print(sb.execute("x += 1; print(x)").stdout)   # 42

Note: inside the sandbox, ``import eryx`` is the guest's own small C module
(``eryx.CallbackError``, ...); it is not this package.
"""

# Only what `import eryx` must have: asyncio is imported when first needed
# and typing not at all, which keeps the import to a few milliseconds. The
# types are in __init__.pyi / _eryx.pyi.
from . import _eryx
from ._eryx import DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, Execution, prepare
from ._errors import (
    FileError,
    InterruptError,
    MemoryLimitError,
    OutputLimitError,
    PythonError,
    SandboxError,
    SetupError,
    StateError,
    TimeoutError,
)
from ._files import FileInfo, Files

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "DEFAULT_TIMEOUT",
    "Execution",
    "FileError",
    "FileInfo",
    "Files",
    "InterruptError",
    "MemoryLimitError",
    "OutputLimitError",
    "PythonError",
    "Sandbox",
    "SandboxError",
    "SetupError",
    "StateError",
    "TimeoutError",
    "callback",
    "prepare",
]

def callback(func_or_name=None, /):
    """Mark a function as a sandbox callback, named by its ``__name__`` or
    the name given (dots make namespaces: ``"http.get"``)::

        @eryx.callback
        async def fetch(url): ...

        @eryx.callback("math.add")
        def add(a, b): return a + b

        sb = eryx.Sandbox(callbacks=[fetch, add])   # guest: await math.add(a=1, b=2)

    The function is returned unchanged.
    """

    def mark(func, name):
        if not callable(func):
            raise TypeError("@eryx.callback needs a callable, not %s" % type(func).__name__)
        func.__eryx_callback__ = name or func.__name__
        return func

    if func_or_name is None or isinstance(func_or_name, str):
        name = func_or_name
        return lambda func: mark(func, name)
    return mark(func_or_name, None)


class Sandbox(_eryx.Sandbox):
    """A Python sandbox; see the package documentation and ``_eryx.pyi``.

    Blocking methods (``execute``, ``snapshot``, ``restore``, ``clear``,
    ``fork``)
    release the GIL while the guest runs; Ctrl-C interrupts them. The
    ``*_async`` methods run on the caller's event loop; many sandboxes can
    run concurrently from one loop. Calls on one sandbox are served one at
    a time, in order: a second concurrent call waits for the first.
    """

    @property
    def files(self):
        """The sandbox's files: ``write``, ``read``, ``list``, ``remove``
        (see ``eryx._files.Files``)."""
        return Files(self)

    def __init__(self, **options):
        # Kept for forks of a sandbox with callbacks (see fork).
        self._options = options

    def _forked(self, native):
        child = type(self)(_forked=native)
        child._options = self._options
        return child

    def fork(self):
        """A new, independent ``Sandbox`` whose state is this one's as after
        its last call: every object (open sqlite3 connections, generators,
        open files at their offsets), its own copy of the files, the same
        limits and callbacks. Needs ``exact=True``. A sandbox with
        callbacks is copied through ``snapshot(exact=True)`` into a new
        sandbox made with the same arguments (its callbacks are its own)."""
        if not self._has_callbacks:
            return self._forked(self._fork())
        state = self.snapshot(exact=True)
        child = type(self)(**self._options)
        try:
            child.restore(state)
        except BaseException:
            child.close()
            raise
        return child

    async def _call_async(self, kind, arg):
        import asyncio

        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        ticket = self._start(kind, arg, loop, fut)
        try:
            return await fut
        except asyncio.CancelledError:
            ticket.cancel()
            raise

    async def execute_async(self, code):
        """``execute`` for asyncio: ``await sb.execute_async(code)``."""
        return await self._call_async("execute", code)

    async def snapshot_async(self, *, exact=False):
        """``snapshot`` for asyncio."""
        return await self._call_async("snapshot_exact" if exact else "snapshot", None)

    async def fork_async(self):
        """``fork`` for asyncio."""
        if not self._has_callbacks:
            return self._forked(await self._call_async("fork", None))
        import asyncio

        state = await self.snapshot_async(exact=True)
        make = lambda: type(self)(**self._options)
        child = await asyncio.get_running_loop().run_in_executor(None, make)
        try:
            await child.restore_async(state)
        except BaseException:
            child.close()
            raise
        return child

    async def restore_async(self, data):
        """``restore`` for asyncio."""
        await self._call_async("restore", data)

    async def clear_async(self):
        """``clear`` for asyncio."""
        await self._call_async("clear", None)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        import asyncio

        await asyncio.get_running_loop().run_in_executor(None, self.close)
        return False
