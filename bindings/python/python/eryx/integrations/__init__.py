"""Executors for agent frameworks, one optional module each; importing
``eryx.integrations`` imports no framework:

- ``eryx.integrations.smolagents``: ``EryxExecutor``, a smolagents
  ``PythonExecutor`` (``CodeAgent(..., executor=EryxExecutor())``); extra
  ``eryx[smolagents]``.
- ``eryx.integrations.autogen``: ``EryxCodeExecutor``, an autogen-core
  ``CodeExecutor``; extra ``eryx[autogen]``.
- ``eryx.integrations.langchain``: ``EryxPythonTool``, a langchain-core
  ``BaseTool`` (sync and async); extra ``eryx[langchain]``.

Each keeps one persistent sandbox session (variables survive between
calls) with the limits given (``timeout``, ``max_memory``,
``requirements``: packages by name, and any other ``eryx.Sandbox``
argument).
"""
