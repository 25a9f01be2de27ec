"""AutoGen executor: ``EryxCodeExecutor``, an autogen-core ``CodeExecutor``
whose Python blocks run in one eryx sandbox session.

- ``execute_code_blocks(blocks, cancellation_token)`` runs the blocks in
  order, in the same session (state persists across blocks and calls), and
  returns ``CodeResult(exit_code, output)``: 0 and the blocks' stdout and
  stderr; 1 and the guest's traceback after a Python error; 124 (as the
  command-line executors' ``timeout``) when a block ran past the time
  limit; 137 when it needed more memory than allowed. It stops at the
  first failing block. A block in another language (``sh``, ``bash``, ...)
  is not run: exit code 1 and a message saying only Python runs here.
- Cancelling the token interrupts the running block (``Sandbox.interrupt``
  through the cancelled task) and raises ``asyncio.CancelledError``, as the
  protocol says; the session keeps its state.
- ``restart()`` gives a fresh session; ``start``/``stop`` and ``async with``
  open and free the sandbox.

    async with EryxCodeExecutor(timeout=10) as ex:
        r = await ex.execute_code_blocks([CodeBlock("print(1 + 1)", "python")], CancellationToken())
"""

import asyncio

from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock, CodeExecutor, CodeResult

import eryx

PYTHON = frozenset({"python", "py", "python3", ""})


class EryxCodeExecutor(CodeExecutor):
    """An autogen-core ``CodeExecutor`` over one eryx sandbox session.
    ``sandbox_kwargs`` are ``eryx.Sandbox`` arguments (``timeout=``,
    ``max_memory=``, ``requirements=``, ...)."""

    def __init__(self, **sandbox_kwargs):
        sandbox_kwargs.setdefault("progress", False)
        self.sandbox_kwargs = sandbox_kwargs
        self._sandbox = None

    @property
    def sandbox(self):
        """The session's ``eryx.Sandbox`` (made on first use)."""
        if self._sandbox is None:
            self._sandbox = eryx.Sandbox(**self.sandbox_kwargs)
        return self._sandbox

    async def execute_code_blocks(self, code_blocks, cancellation_token=None):
        """Run the Python blocks in order; see the module's documentation."""
        outputs = []
        for block in code_blocks:
            lang = (block.language or "").strip().lower()
            if lang not in PYTHON:
                outputs.append(
                    "eryx runs Python only: the %s block was not run (no shell or other "
                    "interpreter exists in the sandbox)\n" % block.language
                )
                return CodeResult(exit_code=1, output="".join(outputs))
            code, text = await self._run(block.code, cancellation_token)
            if text:
                outputs.append(text if text.endswith("\n") else text + "\n")
            if code != 0:
                return CodeResult(exit_code=code, output="".join(outputs))
        return CodeResult(exit_code=0, output="".join(outputs))

    async def _run(self, code, cancellation_token):
        task = asyncio.ensure_future(self.sandbox.execute_async(code))
        if cancellation_token is not None:
            cancellation_token.link_future(task)
        try:
            run = await task
        except eryx.SandboxError as e:
            before = _text(e.execution)
            if isinstance(e, eryx.PythonError):
                return 1, before + (e.traceback or str(e))
            if isinstance(e, eryx.TimeoutError):
                limit = self.sandbox_kwargs.get("timeout", eryx.DEFAULT_TIMEOUT)
                return 124, before + "TimeoutError: the block ran past the time limit of %s s" % limit
            if isinstance(e, eryx.MemoryLimitError):
                limit = self.sandbox_kwargs.get("max_memory", eryx.DEFAULT_MAX_MEMORY)
                return 137, before + "MemoryError: the block needed more than max_memory (%s bytes)" % limit
            return 1, before + "%s: %s" % (type(e).__name__, e.message)
        return 0, _text(run)

    async def start(self):
        """Open the sandbox."""
        self.sandbox

    async def stop(self):
        """Free the sandbox."""
        if self._sandbox is not None:
            sb, self._sandbox = self._sandbox, None
            await asyncio.get_running_loop().run_in_executor(None, sb.close)

    async def restart(self):
        """A fresh session: the old sandbox is freed, a new one made."""
        await self.stop()
        await self.start()


def _text(run):
    if run is None:
        return ""
    return run.stdout + run.stderr


__all__ = ["EryxCodeExecutor", "CodeBlock", "CancellationToken"]
