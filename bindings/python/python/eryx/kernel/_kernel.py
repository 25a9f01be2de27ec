"""The eryx Jupyter kernel: ipykernel's wrapper-kernel base
(``ipykernel.kernelbase.Kernel``) over one ``eryx.Sandbox`` per kernel.

ipykernel owns the messaging (ZeroMQ, the control thread, IOPub); this
module owns what each request means for the sandbox:

- ``execute_request``: the cell runs with ``Sandbox.execute_async`` on the
  shell's event loop; as the guest produces them (``on_output`` and
  ``on_display``, called on the sandbox's worker thread, in order),
  stdout/stderr go out as ``stream`` messages, ``display()`` items as
  ``display_data`` (binary data base64) and the last value as
  ``execute_result``; a failure ends the cell as ``error`` (timeouts,
  memory and output limits say so). The session keeps its state after
  every failure.
- interrupts: ``SIGINT`` (jupyter_client's default ``interrupt_mode``
  "signal", and ipykernel's own answer to an ``interrupt_request``) calls
  ``Sandbox.interrupt()``; the cell ends with ``KeyboardInterrupt``.
- ``complete_request`` / ``inspect_request``: the guest-side module
  ``_eryx_kernel_guest.py`` over the session's namespace, the user's text
  passed to it as a file (never run as code).
- ``is_complete_request``: ``codeop`` on the host (syntax only).
"""

import ast
import asyncio
import base64
import codeop
import json
import signal
from pathlib import Path

from ipykernel.kernelbase import Kernel

import eryx

GUEST_DIR = "/tmp/.eryx-kernel"
GUEST_MODULE = "_eryx_kernel_guest"
GUEST_SOURCE = Path(__file__).with_name(GUEST_MODULE + ".py")
# Fixed statements; the user's text reaches the guest only as request.json.
# run_path loads the helper afresh each time: a fault (timeout, interrupt)
# re-creates the instance with the session's variables but not its
# sys.path or sys.modules, and the user's sys.path stays untouched.
GUEST_PATH = GUEST_DIR + "/" + GUEST_MODULE + ".py"
_CALL = "__import__('runpy').run_path(%r)[%r](globals())"
COMPLETE = _CALL % (GUEST_PATH, "complete")
INSPECT = _CALL % (GUEST_PATH, "inspect")
# The guest's version as the last value (no helper: runpy's import costs
# ~8 ms of the kernel's start).
VERSION = "'.'.join(map(str, __import__('sys').version_info[:3]))"


def package_version():
    """The installed eryx package's version."""
    try:
        from importlib.metadata import version

        return version("eryx")
    except Exception:
        return "unknown"


class EryxKernel(Kernel):
    """A Jupyter kernel whose cells run in an eryx sandbox (CPython 3.14 on
    WASI in wasmtime). Set ``EryxKernel.limits`` (a ``Limits``) before
    ipykernel creates the kernel."""

    implementation = "eryx"
    implementation_version = package_version()
    language = "python"
    limits = None  # set by eryx.kernel.__main__
    help_links = []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        from ._config import Limits

        self.limits = type(self).limits or Limits()
        self._out_parent = None
        self._running = False
        self._sb = None
        self._guest_version = "3.14"
        self._new_sandbox()

    # -- the sandbox -------------------------------------------------------

    def _new_sandbox(self):
        """A fresh session (the guest helper is written when first needed)."""
        if self._sb is not None:
            self._sb.close()
        self._sb = eryx.Sandbox(
            on_output=self._on_output, on_display=self._on_display, **self.limits.sandbox_kwargs()
        )
        try:
            self._guest_version = ast.literal_eval(self._sb.execute(VERSION).result["text/plain"])
        except (eryx.SandboxError, TypeError, ValueError, SyntaxError):
            pass

    def _on_output(self, stream, text):
        parent = self._out_parent
        if parent is None or not text:
            return
        self.session.send(
            self.iopub_socket,
            "stream",
            {"name": stream, "text": text},
            parent=parent,
            ident=self._topic("stream"),
        )

    def _on_display(self, kind, bundle):
        parent = self._out_parent
        if parent is None:
            return
        data = {
            mime: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
            for mime, value in bundle.items()
        }
        if kind == "result":
            msg_type = "execute_result"
            content = {"data": data, "metadata": {}, "execution_count": self.execution_count}
        else:
            msg_type, content = "display_data", {"data": data, "metadata": {}, "transient": {}}
        self.session.send(self.iopub_socket, msg_type, content, parent=parent, ident=self._topic(msg_type))

    def _on_sigint(self, signum=None, frame=None):
        if self._running and self._sb is not None:
            self._sb.interrupt()

    def start(self):
        """Start serving; SIGINT now interrupts the running cell (ipykernel's
        app ignores SIGINT before this)."""
        super().start()
        signal.signal(signal.SIGINT, self._on_sigint)

    def pre_handler_hook(self):
        """Keep our SIGINT handler while a request runs (the base class
        would put Python's KeyboardInterrupt there, raised in the event loop
        instead of stopping the sandbox)."""

    def post_handler_hook(self):
        """Nothing to restore (see ``pre_handler_hook``)."""

    # -- kernel_info -------------------------------------------------------

    @property
    def language_info(self):
        return {
            "name": "python",
            "version": self._guest_version,
            "mimetype": "text/x-python",
            "file_extension": ".py",
            "pygments_lexer": "ipython3",
            "codemirror_mode": {"name": "ipython", "version": 3},
            "nbconvert_exporter": "python",
        }

    @property
    def banner(self):
        return (
            "eryx %s: CPython %s (WASI) in a WebAssembly sandbox, one session per kernel\n"
            "Limits: %s" % (self.implementation_version, self._guest_version, self.limits.describe())
        )

    @property
    def kernel_info(self):
        info = super().kernel_info
        # No debugger (ipykernel lists one when debugpy is installed) and no
        # subshells: one sandbox runs one cell at a time, its output routed
        # to that cell.
        dropped = ("debugger", "kernel subshells")
        info["supported_features"] = [f for f in info.get("supported_features", []) if f not in dropped]
        return info

    # -- execute -----------------------------------------------------------

    def _publish(self, msg_type, content):
        self.session.send(
            self.iopub_socket, msg_type, content, parent=self.get_parent("shell"), ident=self._topic(msg_type)
        )

    async def do_execute(
        self, code, silent, store_history=True, user_expressions=None, allow_stdin=False, *, cell_meta=None, cell_id=None
    ):
        """Run one cell in the session; see the module's documentation."""
        self._out_parent = None if silent else self.get_parent("shell")
        self._running = True
        failure = None
        try:
            await self._sb.execute_async(code)
        except eryx.SandboxError as e:
            failure = e
        except asyncio.CancelledError:
            raise
        except Exception as e:  # never lose the kernel to one cell
            failure = e
        finally:
            self._running = False
            self._out_parent = None
        if failure is None:
            return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}
        if self._sb.closed:
            self._new_sandbox()
        error = self._error_content(failure)
        if not silent:
            self._publish("error", error)
        return dict(error, status="error", execution_count=self.execution_count)

    def _error_content(self, e):
        """``ename``/``evalue``/``traceback`` for a failed cell."""
        lim = self.limits
        if isinstance(e, eryx.PythonError):
            tb = (e.traceback or "%s: %s\n" % (e.type_name, e.message)).rstrip("\n").split("\n")
            return {"ename": e.type_name, "evalue": e.message, "traceback": tb}
        if isinstance(e, eryx.InterruptError):
            return {
                "ename": "KeyboardInterrupt",
                "evalue": "",
                "traceback": ["KeyboardInterrupt: the cell was interrupted; the session keeps its state"],
            }
        if isinstance(e, eryx.TimeoutError):
            why = "the cell ran past the kernel's time limit of %g s (--timeout, ERYX_KERNEL_TIMEOUT)" % lim.timeout
        elif isinstance(e, eryx.MemoryLimitError):
            why = "the cell needed more than the kernel's %d MiB of memory (--max-memory, ERYX_KERNEL_MAX_MEMORY)" % (
                lim.max_memory_mib or 0
            )
        elif isinstance(e, eryx.OutputLimitError):
            why = "the cell wrote more than the kernel's %d MiB of output (--max-output, ERYX_KERNEL_MAX_OUTPUT)" % (
                lim.max_output_mib or 0
            )
        elif isinstance(e, eryx.SandboxError):
            why = "the sandbox stopped the cell (%s): %s" % (e.kind, e.message)
        else:
            why = "the kernel could not run the cell: %s: %s" % (type(e).__name__, e)
        ename = {"timeout": "TimeoutError", "memory_limit": "MemoryError"}.get(getattr(e, "kind", ""), type(e).__name__)
        text = why + "; the session keeps its state"
        return {"ename": ename, "evalue": text, "traceback": ["%s: %s" % (ename, text)]}

    # -- complete / inspect / is_complete ------------------------------------

    async def _ask_guest(self, statement, request):
        """Run a fixed guest statement over ``request`` (JSON data); its
        reply, or None when the guest could not answer."""
        try:
            # Written again each time: the cells may have removed it.
            self._sb.files.write(GUEST_PATH, GUEST_SOURCE.read_bytes())
            self._sb.files.write(GUEST_DIR + "/request.json", json.dumps(request).encode())
            await self._sb.execute_async(statement)
            return json.loads(self._sb.files.read(GUEST_DIR + "/reply.json"))
        except (eryx.SandboxError, ValueError):
            return None

    async def do_complete(self, code, cursor_pos):
        """Names in the session (and builtins, keywords) for the cursor."""
        if cursor_pos is None:
            cursor_pos = len(code)
        reply = await self._ask_guest(COMPLETE, {"code": code, "cursor_pos": cursor_pos})
        if reply is None:
            reply = {"matches": [], "cursor_start": cursor_pos, "cursor_end": cursor_pos}
        return dict(reply, metadata={}, status="ok")

    async def do_inspect(self, code, cursor_pos, detail_level=0, omit_sections=()):
        """Type, value, signature and docstring of the name at the cursor."""
        if cursor_pos is None:
            cursor_pos = len(code)
        reply = await self._ask_guest(
            INSPECT, {"code": code, "cursor_pos": cursor_pos, "detail_level": detail_level}
        )
        if not reply or not reply.get("found"):
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}
        return {"status": "ok", "found": True, "data": {"text/plain": reply["text"]}, "metadata": {}}

    async def do_is_complete(self, code):
        """Whether the console should run ``code`` or ask for more lines."""
        return is_complete(code)

    async def do_shutdown(self, restart):
        """Free the sandbox; a restart is a new kernel process, so a new session."""
        if self._sb is not None:
            self._sb.close()
            self._sb = None
        return {"status": "ok", "restart": restart}


def is_complete(code):
    """The ``is_complete_reply`` content for ``code`` (syntax only)."""
    if not code.strip():
        return {"status": "complete"}
    try:
        compiled = codeop.compile_command(code, "<cell>", "exec")
    except (SyntaxError, OverflowError, ValueError):
        return {"status": "invalid"}
    lines = code.split("\n")
    last = lines[-1] if lines[-1].strip() or len(lines) < 2 else lines[-2]
    indent = last[: len(last) - len(last.lstrip())]
    if compiled is None:
        if last.rstrip().endswith(":"):
            indent += "    "
        return {"status": "incomplete", "indent": indent}
    # An indented last line means the block may go on, as at Python's prompt.
    if indent and lines[-1].strip():
        return {"status": "incomplete", "indent": indent}
    return {"status": "complete"}
