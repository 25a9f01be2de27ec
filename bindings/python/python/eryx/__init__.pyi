# Type stubs of the eryx package (the Python side is eryx/__init__.py, the
# native side eryx/_eryx.pyi).
import builtins
from typing import Any, Callable, Optional, TypeVar, Union, overload

from . import _eryx
from ._eryx import DEFAULT_MAX_MEMORY as DEFAULT_MAX_MEMORY
from ._eryx import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from ._eryx import Execution as Execution
from ._eryx import prepare as prepare

__all__: list[str]

_F = TypeVar("_F", bound=Callable[..., Any])

class SandboxError(Exception):
    message: str
    kind: str
    execution: Optional[Execution]
    def __init__(self, message: str = "", *, kind: str = "sandbox", execution: Optional[Execution] = None) -> None: ...

class PythonError(SandboxError):
    type_name: str
    traceback: str
    def __init__(
        self,
        type_name: str,
        message: str,
        traceback: str,
        *,
        kind: str = "python",
        execution: Optional[Execution] = None,
    ) -> None: ...

class TimeoutError(SandboxError, builtins.TimeoutError): ...
class MemoryLimitError(SandboxError, builtins.MemoryError): ...
class OutputLimitError(SandboxError): ...
class InterruptError(SandboxError): ...
class StateError(SandboxError): ...
class SetupError(SandboxError): ...

class FileError(SandboxError):
    path: str
    reason: str
    def __init__(
        self,
        message: str = "",
        *,
        kind: str = "invalid_path",
        path: str = "",
        reason: str = "",
        execution: Optional[Execution] = None,
    ) -> None: ...

class FileInfo:
    name: str
    path: str
    kind: str
    size: int

class Files:
    def write(self, path: str, data: Union[bytes, bytearray, memoryview, str]) -> None: ...
    def read(self, path: str) -> bytes: ...
    def list(self, dir: str = "/home/user", *, recursive: bool = False) -> list[FileInfo]: ...
    def remove(self, path: str) -> None: ...

@overload
def callback(func: _F, /) -> _F: ...
@overload
def callback(name: Optional[str] = None, /) -> Callable[[_F], _F]: ...

class Sandbox(_eryx.Sandbox):
    @property
    def files(self) -> Files: ...
    async def execute_async(self, code: str) -> Execution: ...
    async def snapshot_async(self) -> bytes: ...
    async def restore_async(self, data: Union[bytes, bytearray, memoryview]) -> None: ...
    async def clear_async(self) -> None: ...
    async def __aenter__(self) -> "Sandbox": ...
    async def __aexit__(self, *exc: Any) -> bool: ...
    def __enter__(self) -> "Sandbox": ...
