"""eryx.integrations.smolagents against the pinned smolagents: a CodeAgent
with a scripted model (no LLM) runs its steps in the sandbox: a tool sent
with send_tools, variables with send_variables (additional_args), the
final answer detected as smolagents' remote executors detect it, an error
step the agent recovers from, a timeout, and install_packages by name."""

import pytest
from smolagents import ChatMessage, CodeAgent, Model, tool
from smolagents.utils import AgentError

from eryx.integrations.smolagents import EryxExecutor


class Scripted(Model):
    """A model that answers with fixed code actions, one per step."""

    def __init__(self, *actions):
        super().__init__(model_id="scripted")
        self.actions = list(actions)

    def generate(self, messages, stop_sequences=None, **kwargs):
        return ChatMessage(role="assistant", content="Thought: go\n<code>\n%s\n</code>" % self.actions.pop(0))


@tool
def double(x: int) -> int:
    """Doubles a number.

    Args:
        x: the number to double
    """
    return 2 * x


@tool
def table(rows: list) -> str:
    """Formats rows as a plain text table.

    Args:
        rows: the rows, each a list of cells
    """
    import tabulate

    return tabulate.tabulate(rows, tablefmt="plain")


@pytest.fixture
def executor():
    ex = EryxExecutor(timeout=3)
    yield ex
    ex.cleanup()


def test_agent_steps_tools_variables_and_final_answer(executor):
    model = Scripted("print('n is', n)\ny = double(n)\n1 / 0", "print('y is', y)\nfinal_answer({'y': y, 'z': (1, 2)})")
    agent = CodeAgent(tools=[double], model=model, executor=executor, verbosity_level=0)
    answer = agent.run("double n", additional_args={"n": 20})
    assert answer == {"y": 40, "z": (1, 2)}
    first, second = [s for s in agent.memory.steps if type(s).__name__ == "ActionStep"]
    assert "ZeroDivisionError" in str(first.error)
    assert "n is 20" in str(first.error)  # the logs up to the error
    assert "y is 40" in second.observations
    assert second.is_final_answer


def test_call_returns_code_output(executor):
    executor.send_tools({})
    out = executor("print('hello')\n6 * 7")
    assert (out.output, out.logs, out.is_final_answer) == ("42", "hello\n", False)
    assert executor("x = 1").output is None


def test_error_and_timeout_raise_agent_errors_and_keep_state(executor):
    executor("kept = 5")
    with pytest.raises(AgentError, match="NameError"):
        executor("undefined_name")
    with pytest.raises(AgentError, match="time limit|TimeoutError"):
        executor("while True: pass")
    assert executor("kept").output == "5"


def test_timeout_inside_an_agent_run_is_a_step_error():
    ex = EryxExecutor(timeout=1)
    agent = CodeAgent(tools=[], model=Scripted("while True: pass", "final_answer('done')"), executor=ex,
                      verbosity_level=0)
    assert agent.run("spin") == "done"
    (first, _) = [s for s in agent.memory.steps if type(s).__name__ == "ActionStep"]
    assert "TimeoutError" in str(first.error)
    ex.cleanup()


def test_tools_and_final_answer_survive_a_timeout(executor):
    executor.send_tools({"double": double, **CodeAgent(tools=[], model=Scripted()).tools})
    with pytest.raises(AgentError):
        executor("while True: pass")
    assert executor("double(4)").output == "8"
    out = executor("final_answer(double(5))")
    assert (out.output, out.is_final_answer) == (10, True)


def test_install_packages_by_name_keeps_the_session(executor):
    executor("before = 'kept'")
    assert executor.install_packages(["tabulate"]) == ["tabulate"]
    assert executor.sandbox_kwargs["requirements"] == ["tabulate"]
    out = executor("import tabulate\nprint(tabulate.tabulate([[1, 2]], tablefmt='plain'))\nbefore")
    assert (out.logs, out.output) == ("1  2\n", "'kept'")


def test_a_tools_imports_are_installed_by_name_and_it_runs_in_the_sandbox(executor):
    executor.send_tools({"table": table})
    assert "tabulate" in executor.installed_packages
    out = executor("import sys\nprint(sys.platform)\ntable([[1, 2], [3, 4]])")
    assert out.logs == "wasi\n"  # the tool ran inside the sandbox
    assert out.output == "'1  2\\n3  4'"
