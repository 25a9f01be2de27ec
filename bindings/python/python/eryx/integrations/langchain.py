"""LangChain tool: ``EryxPythonTool``, a langchain-core ``BaseTool`` that
runs Python in one persistent eryx sandbox session (variables survive
between calls), sync (``invoke``) and async (``ainvoke``).

The tool's input is ``{"code": "..."}``; its output is the text a model
reads: the code's stdout and stderr, then the last expression's value
(``text/plain``), or the guest's traceback (``Error: ...``) when it failed;
timeouts and memory limits say so. Failures are answers, not exceptions,
so an agent can read them and try again.

    from eryx.integrations.langchain import EryxPythonTool

    tool = EryxPythonTool(sandbox_kwargs={"timeout": 10})
    tool.invoke({"code": "x = 6 * 7"})
    tool.invoke({"code": "x"})          # '42'
"""

from typing import Any, Dict, Optional, Type

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, PrivateAttr

import eryx


class CodeInput(BaseModel):
    """The tool's arguments."""

    code: str = Field(description="Python source to run; the session keeps variables between calls")


class EryxPythonTool(BaseTool):
    """Run Python in a sandbox (CPython 3.14 on WASI: no network, no host
    files); ``sandbox_kwargs`` are ``eryx.Sandbox`` arguments."""

    name: str = "python"
    description: str = (
        "Runs Python code in a persistent sandboxed session (variables, functions and imports "
        "are kept between calls) and returns what it printed and the value of its last line. "
        "No network and no host files."
    )
    args_schema: Type[BaseModel] = CodeInput
    sandbox_kwargs: Dict[str, Any] = Field(default_factory=dict)
    _sandbox: Optional[Any] = PrivateAttr(default=None)

    @property
    def sandbox(self):
        """The session's ``eryx.Sandbox`` (made on first use)."""
        if self._sandbox is None:
            self._sandbox = eryx.Sandbox(**dict({"progress": False}, **self.sandbox_kwargs))
        return self._sandbox

    def _run(self, code: str, run_manager=None) -> str:
        try:
            return _answer(self.sandbox.execute(code))
        except eryx.SandboxError as e:
            return self._failure(e)

    async def _arun(self, code: str, run_manager=None) -> str:
        try:
            return _answer(await self.sandbox.execute_async(code))
        except eryx.SandboxError as e:
            return self._failure(e)

    def _failure(self, e):
        before = _answer(e.execution) if e.execution is not None else ""
        if isinstance(e, eryx.PythonError):
            why = (e.traceback or str(e)).rstrip("\n")
        elif isinstance(e, eryx.TimeoutError):
            why = "TimeoutError: the code ran past the time limit of %s s" % self.sandbox_kwargs.get(
                "timeout", eryx.DEFAULT_TIMEOUT
            )
        elif isinstance(e, eryx.MemoryLimitError):
            why = "MemoryError: the code needed more than max_memory (%s bytes)" % self.sandbox_kwargs.get(
                "max_memory", eryx.DEFAULT_MAX_MEMORY
            )
        else:
            why = "%s: %s" % (type(e).__name__, e.message)
        return before + "Error: " + why + "\n(the session keeps its earlier state)"

    def close(self):
        """Free the sandbox (a later call makes a new, empty session)."""
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None


def _answer(run):
    text = run.stdout + run.stderr
    result = run.result
    if result and "text/plain" in result:
        text += result["text/plain"]
    return text
