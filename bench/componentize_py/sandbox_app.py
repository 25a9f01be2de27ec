"""The eryx sandbox world (wit/sandbox.wit) in plain Python, for componentize-py.

Benchmark baseline only: scripts/build-componentize-py.sh turns this module
into a component with componentize-py==0.25.1, and `cargo bench -p eryx
--bench sandbox` runs it on the same engine as the eryx runtime. It does what
the world asks with nothing but `exec` and `pickle`: one persistent
namespace, stdout captured per call, tracebacks as `Err`, top-level `await`.
"""

import ast
import inspect
import io
import pickle
import sys
import traceback
import types

import wit_world
from componentize_py_types import Err

_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _fresh_namespace():
    return {"__name__": "__main__", "__builtins__": __builtins__}


_ns = _fresh_namespace()


def _picklable(value):
    if isinstance(value, types.ModuleType):
        return False
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


class WitWorld(wit_world.WitWorld):
    async def execute(self, code: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            compiled = compile(code, "<string>", "exec", flags=_FLAGS)
            result = eval(compiled, _ns)
            if compiled.co_flags & inspect.CO_COROUTINE:
                await result
        except SystemExit:
            pass
        except BaseException as exc:
            raise Err(err.getvalue() + "".join(traceback.format_exception(exc)))
        finally:
            sys.stdout, sys.stderr = saved
        return out.getvalue()

    async def snapshot_state(self) -> bytes:
        user = {k: v for k, v in _ns.items() if not k.startswith("__")}
        try:
            return pickle.dumps(user)
        except Exception:
            # Slow path only when something is unpicklable: skip it.
            return pickle.dumps({k: v for k, v in user.items() if _picklable(v)})

    async def checkpoint_state(self, budget: int) -> bytes:
        # The baseline keeps everything (no budget).
        return await self.snapshot_state()

    async def restore_state(self, state: bytes) -> None:
        try:
            restored = pickle.loads(state)
        except Exception as exc:
            raise Err(f"restore-state: not a snapshot: {exc!r}")
        if not isinstance(restored, dict):
            raise Err("restore-state: not a snapshot: not a dict")
        _ns.clear()
        _ns.update(_fresh_namespace())
        _ns.update(restored)

    async def clear_state(self) -> None:
        _ns.clear()
        _ns.update(_fresh_namespace())
