# Type stubs of the native module eryx._eryx (bindings/python/src). The
# package re-exports these as eryx.Sandbox (with the *_async methods added
# in eryx/__init__.py), eryx.Execution and eryx.prepare.
import asyncio
import os
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Tuple, Union


_Path = Union[str, "os.PathLike[str]"]
_Mount = Union[Tuple[_Path, str], Tuple[_Path, str, bool]]
_Callbacks = Union[Mapping[str, Callable[..., Any]], Iterable[Callable[..., Any]]]

DEFAULT_TIMEOUT: float
DEFAULT_MAX_MEMORY: int

def prepare(progress: bool = True) -> None:
    """Build and cache the default sandbox image now (first use ~15 s)."""

def _rust_warm_execute(code: str, n: int) -> list[float]:
    """Benchmark hook: n warm executes driven from Rust; seconds each."""

class Execution:
    """The result of one execute (the library's eryx::Execution)."""

    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...
    @property
    def duration(self) -> float:
        """Wall-clock seconds."""
    @property
    def peak_memory(self) -> int:
        """Guest linear memory after the call, bytes."""
    @property
    def callback_invocations(self) -> int: ...
    @property
    def truncated_bytes(self) -> int: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def ok(self) -> bool: ...
    @property
    def error(self) -> Optional[dict[str, Any]]: ...
    @property
    def displays(self) -> list[dict[str, Any]]:
        """Display items in order, each {mime: data} (images as bytes)."""
    @property
    def result(self) -> Optional[dict[str, Any]]:
        """The last expression's {mime: data} ("text/plain": its repr), or None."""
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...

class Ticket:
    def cancel(self) -> None: ...

class _Forked:
    """A forked sandbox on its way to its Sandbox object (see Sandbox.fork)."""

class Sandbox:
    def __new__(
        cls,
        *,
        timeout: Optional[float] = 5.0,
        max_memory: Optional[int] = 256 * 2**20,
        mounts: Optional[Sequence[_Mount]] = None,
        packages: Optional[Sequence[_Path]] = None,
        preimport: Optional[Sequence[str]] = None,
        requirements: Optional[Sequence[str]] = None,
        allow_hosts: Optional[Sequence[str]] = None,
        callbacks: Optional[_Callbacks] = None,
        on_output: Optional[Callable[[str, str], None]] = None,
        on_display: Optional[Callable[[str, dict[str, Any]], None]] = None,
        fuel: Optional[int] = None,
        max_output: Optional[int] = None,
        capture_limit: Optional[int] = None,
        callback_timeout: Optional[float] = None,
        max_callback_invocations: Optional[int] = None,
        keep_state_on_fault: bool = True,
        checkpoint_budget: Optional[int] = None,
        progress: bool = True,
        interruptible: bool = True,
        exact: bool = False,
    ) -> "Sandbox": ...
    def execute(self, code: str) -> Execution: ...
    def snapshot(self, *, exact: bool = False) -> bytes:
        """Pickled state (portable); exact=True: the whole guest state."""
    def _fork(self) -> "_Forked": ...
    @property
    def exact(self) -> bool: ...
    @property
    def _has_callbacks(self) -> bool: ...
    def restore(self, data: Union[bytes, bytearray, memoryview]) -> None: ...
    def clear(self) -> None: ...
    def interrupt(self) -> None: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> "Sandbox": ...
    def __exit__(self, *exc: Any) -> bool: ...
    def _start(
        self, kind: str, arg: Any, event_loop: asyncio.AbstractEventLoop, fut: "asyncio.Future[Any]"
    ) -> Ticket: ...
