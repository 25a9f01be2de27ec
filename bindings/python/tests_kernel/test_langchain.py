"""eryx.integrations.langchain against the pinned langchain-core: the
tool through invoke and ainvoke (one session), errors and timeouts as
answers, a tool call from a model message, the argument schema."""

import asyncio

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from eryx.integrations.langchain import EryxPythonTool


def test_invoke_and_ainvoke_share_the_session():
    tool = EryxPythonTool(sandbox_kwargs={"timeout": 3})
    assert isinstance(tool, BaseTool)
    assert tool.invoke({"code": "x = 6 * 7\nprint('set')"}) == "set\n"
    assert tool.invoke({"code": "x"}) == "42"
    assert asyncio.run(tool.ainvoke({"code": "x + 1"})) == "43"
    tool.close()


def test_errors_and_timeouts_are_answers():
    tool = EryxPythonTool(sandbox_kwargs={"timeout": 1})
    tool.invoke({"code": "kept = 1"})
    err = tool.invoke({"code": "print('before')\n[][0]"})
    assert err.startswith("before\nError: Traceback")
    assert "IndexError: list index out of range" in err
    assert "time limit of 1 s" in tool.invoke({"code": "while True: pass"})
    assert tool.invoke({"code": "kept"}) == "1"


def test_tool_call_gives_a_tool_message():
    tool = EryxPythonTool()
    msg = tool.invoke({"type": "tool_call", "id": "call-1", "name": "python", "args": {"code": "sum(range(5))"}})
    assert isinstance(msg, ToolMessage)
    assert (msg.content, msg.tool_call_id) == ("10", "call-1")
    assert list(tool.tool_call_schema.model_json_schema()["properties"]) == ["code"]
