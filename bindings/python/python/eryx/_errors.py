"""The exceptions of the eryx package.

Every failure of a sandbox call is a ``SandboxError``; the native module
raises these classes and fills in ``kind`` (the eryx library's stable error
kind: ``python``, ``exit``, ``timeout``, ``memory_limit``, ...) and
``execution`` (the ``Execution`` of the failed call: its output up to the
failure, or ``None`` when the call was not an ``execute``).
"""

import builtins


class SandboxError(Exception):
    """Base class: a sandbox call failed. The sandbox stays usable."""

    def __init__(self, message="", *, kind="sandbox", execution=None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.execution = execution


class PythonError(SandboxError):
    """The guest code raised an uncaught exception (or ``sys.exit(n)``, n != 0).

    ``type_name`` is the guest exception's type (``"ValueError"``), ``message``
    its ``str()``, ``traceback`` the guest's formatted traceback.
    """

    def __init__(self, type_name, message, traceback, *, kind="python", execution=None):
        super().__init__(message, kind=kind, execution=execution)
        self.args = (type_name, message, traceback)
        self.type_name = type_name
        self.traceback = traceback

    def __str__(self):
        if self.message:
            return "%s: %s" % (self.type_name, self.message)
        return self.type_name


class TimeoutError(SandboxError, builtins.TimeoutError):
    """The call ran past its time limit (or its fuel budget)."""


class MemoryLimitError(SandboxError, builtins.MemoryError):
    """The guest needed more memory than ``max_memory``."""


class OutputLimitError(SandboxError):
    """The call wrote more than ``max_output`` bytes."""


class InterruptError(SandboxError):
    """The call was stopped by ``Sandbox.interrupt()`` from another thread."""


class StateError(SandboxError):
    """Saving or restoring state failed (e.g. bytes that are not a snapshot)."""


class SetupError(SandboxError):
    """Building or starting the sandbox failed (bad mount, package, ...)."""


class FileError(SandboxError):
    """A ``sb.files`` call was refused. ``kind`` says why (``invalid_path``,
    ``not_found``, ``read_only``, ``no_space``, ``is_directory``,
    ``not_directory``), ``path`` is the path as given, ``reason`` the why
    for people; nothing in the sandbox changed.
    """

    def __init__(self, message="", *, kind="invalid_path", path="", reason="", execution=None):
        super().__init__(message, kind=kind, execution=execution)
        self.path = path
        self.reason = reason


for _cls in (
    SandboxError,
    PythonError,
    TimeoutError,
    MemoryLimitError,
    OutputLimitError,
    InterruptError,
    StateError,
    SetupError,
    FileError,
):
    _cls.__module__ = "eryx"
del _cls
