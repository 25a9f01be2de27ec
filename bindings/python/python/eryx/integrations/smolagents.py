"""smolagents executor: ``EryxExecutor`` runs a ``CodeAgent``'s code
actions in one eryx sandbox session.

It is a ``RemotePythonExecutor`` (smolagents' base of its E2B, Docker,
Modal and Blaxel executors) and follows them: ``send_tools`` sends the
tools' source (``get_tools_definition_code``) after patching
``final_answer`` to raise ``FinalAnswerException``; a cell that raises it
is the final answer, decoded with the framework's own deserializer;
``logs`` is the cell's stdout, ``output`` the last expression's value
(an image as a ``PIL.Image``); any other error raises ``AgentError`` with
the guest's traceback (timeouts and memory limits say so).
``install_packages`` maps to packages by name: the sandbox is rebuilt with
``requirements=`` and the session's state carried over (snapshot/restore).

    from smolagents import CodeAgent
    from eryx.integrations.smolagents import EryxExecutor

    agent = CodeAgent(tools=[], model=model, executor=EryxExecutor(timeout=10))
"""

import base64
import io
from pathlib import Path

from smolagents.default_tools import FinalAnswerTool
from smolagents.local_python_executor import CodeOutput
from smolagents.monitoring import AgentLogger, LogLevel
from smolagents.remote_executors import RemotePythonExecutor
from smolagents.serialization import SafeSerializer
from smolagents.tools import get_tools_definition_code
from smolagents.utils import AgentError

import eryx

VARIABLES_PATH = "/tmp/.eryx-smolagents/variables.txt"
GUEST_SOURCE = Path(__file__).with_name("_eryx_smolagents_guest.py")
GUEST_PATH = "/tmp/.eryx-smolagents/_eryx_smolagents_guest.py"
# A fixed statement: binds the guest module's final_answer in the session.
BIND_FINAL_ANSWER = "final_answer = __import__('runpy').run_path(%r)['final_answer']" % GUEST_PATH


def _module_to_package(name):
    """``numpy.*`` -> ``numpy``, ``PIL`` -> ``pillow``; ``*`` -> None."""
    top = name.split(".")[0].strip()
    if not top or top == "*":
        return None
    return {"PIL": "pillow"}.get(top, top)


class EryxExecutor(RemotePythonExecutor):
    """A smolagents ``PythonExecutor`` over one eryx sandbox session.

    ``additional_imports``: packages (module names) to install by name;
    ``logger``: a smolagents ``AgentLogger`` (default: a silent one);
    ``sandbox_kwargs``: ``eryx.Sandbox`` arguments (``timeout=``,
    ``max_memory=``, ``requirements=``, ...).
    """

    def __init__(self, additional_imports=(), logger=None, allow_pickle=False, **sandbox_kwargs):
        if allow_pickle:
            raise ValueError("EryxExecutor sends only JSON-safe data (allow_pickle=False)")
        super().__init__(list(additional_imports), logger or AgentLogger(level=LogLevel.OFF), False)
        sandbox_kwargs.setdefault("progress", False)
        self.sandbox_kwargs = sandbox_kwargs
        self.sandbox = eryx.Sandbox(**sandbox_kwargs)
        self._final_answer_bound = False
        self.installed_packages = self.install_packages(list(additional_imports))

    def run_code_raise_errors(self, code):
        """Run ``code`` in the session; a ``CodeOutput``, or ``AgentError``."""
        try:
            run = self.sandbox.execute(code)
        except eryx.PythonError as e:
            logs = e.execution.stdout if e.execution is not None else ""
            if e.type_name.split(".")[-1] == self.FINAL_ANSWER_EXCEPTION:
                answer = self._deserialize_final_answer(e.message, False)
                return CodeOutput(output=answer, logs=logs, is_final_answer=True)
            raise AgentError(
                "%s\nExecuting code yielded an error:\n%s\n%s\n%s"
                % (logs, e.type_name, e.message, e.traceback or ""),
                self.logger,
            ) from None
        except eryx.SandboxError as e:
            logs = e.execution.stdout if e.execution is not None else ""
            self._rebind_after_fault()
            raise AgentError(
                "%s\nExecuting code yielded an error:\n%s: %s (limits: timeout %s s, max_memory %s bytes); "
                "the session keeps its state" % (logs, type(e).__name__, e.message,
                                                  self.sandbox_kwargs.get("timeout", eryx.DEFAULT_TIMEOUT),
                                                  self.sandbox_kwargs.get("max_memory", eryx.DEFAULT_MAX_MEMORY)),
                self.logger,
            ) from None
        return CodeOutput(output=self._output(run), logs=run.stdout, is_final_answer=False)

    def _rebind_after_fault(self):
        # A fault (timeout, memory, interrupt) re-creates the instance with
        # the session's own variables; final_answer came from run_path and
        # is bound again.
        if self._final_answer_bound:
            try:
                self.sandbox.files.write(GUEST_PATH, GUEST_SOURCE.read_bytes())
                self.sandbox.execute(BIND_FINAL_ANSWER)
            except eryx.SandboxError:
                pass

    @staticmethod
    def _output(run):
        result = run.result
        if not result:
            return None
        for mime in ("image/png", "image/jpeg"):
            if mime in result:
                import PIL.Image

                data = result[mime]
                if isinstance(data, str):
                    data = base64.b64decode(data)
                return PIL.Image.open(io.BytesIO(data))
        return result.get("text/plain")

    def send_tools(self, tools):
        """Define ``tools`` in the session (their source, as smolagents'
        remote executors do) and install the packages they import by name.
        The stock ``final_answer`` comes from ``_eryx_smolagents_guest.py``
        (smolagents' patched one imports numpy and PIL at the top)."""
        tools = dict(tools)
        final = tools.get("final_answer")
        if type(final) is FinalAnswerTool:
            # The stock tool (forward returns its argument): the guest-side
            # final_answer raises FinalAnswerException itself.
            del tools["final_answer"]
            self.sandbox.files.write(GUEST_PATH, GUEST_SOURCE.read_bytes())
            self.run_code_raise_errors(BIND_FINAL_ANSWER)
            self._final_answer_bound = True
        elif final is not None:
            self._patch_final_answer_with_exception(final)
        wanted = {
            pkg
            for name, tool in tools.items()
            for pkg in tool.to_dict()["requirements"]
            if pkg not in self.installed_packages + ["smolagents"]
        }
        if wanted:
            self.installed_packages += self.install_packages(sorted(wanted))
        code = get_tools_definition_code(tools)
        if code:
            self.logger.log(self.run_code_raise_errors(code).logs)

    def send_variables(self, variables):
        """Put ``variables`` (JSON-safe values) into the session's namespace;
        they travel as a file, decoded by smolagents' own deserializer."""
        if not variables:
            return
        data = SafeSerializer.dumps(variables, allow_pickle=False)
        self.sandbox.files.write(VARIABLES_PATH, data.encode("utf-8"))
        code = SafeSerializer.get_deserializer_code(False) + (
            "\nwith open(%r, encoding='utf-8') as _eryx_f:\n"
            "    globals().update(_deserialize(_eryx_f.read()))\n"
            "del _eryx_f, _deserialize\n" % VARIABLES_PATH
        )
        self.run_code_raise_errors(code)

    def install_packages(self, additional_imports):
        """Install packages by name: the sandbox is rebuilt with the larger
        ``requirements=`` and the session's state restored into it.
        Returns the names asked for."""
        wanted = [p for p in (_module_to_package(m) for m in additional_imports) if p]
        have = list(self.sandbox_kwargs.get("requirements") or [])
        new = [p for p in wanted if p not in have]
        if new:
            state = self.sandbox.snapshot()
            kwargs = dict(self.sandbox_kwargs, requirements=have + new)
            replacement = eryx.Sandbox(**kwargs)
            replacement.restore(state)
            self.sandbox.close()
            self.sandbox, self.sandbox_kwargs = replacement, kwargs
            self.logger.log("eryx: packages by name: %s" % ", ".join(have + new))
        return list(additional_imports)

    def cleanup(self):
        """Free the sandbox."""
        if getattr(self, "sandbox", None) is not None:
            self.sandbox.close()

    def delete(self):
        """smolagents' name for ``cleanup``."""
        self.cleanup()
