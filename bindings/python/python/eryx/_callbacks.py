"""The Python side of host callbacks and of the asyncio API.

The native module calls these helpers: ``call_sync`` (a worker thread runs a
callback; an ``async def`` one on a fresh loop) and ``call_async`` (a
coroutine scheduled on the caller's loop) decode the guest's JSON
arguments, call the user's function and answer ``(ok, text)``: the JSON
result, or the message the guest's ``eryx.CallbackError`` gets. While a
callback runs, ``inside(key)`` is true for its sandbox (a context
variable), so that calling the same sandbox from it fails instead of
waiting for itself. ``resolve_future`` delivers an asyncio call's answer.
"""

import contextvars

# asyncio, inspect and json are imported on first use (import time of eryx).

_owner = contextvars.ContextVar("eryx_callback_owner", default=None)


def inside(key):
    """Whether the current context is a callback of sandbox ``key``."""
    return _owner.get() == key


def _failure(name, exc):
    text = str(exc)
    kind = type(exc).__name__
    return False, "%s: %s" % (kind, text) if text else kind


def _encode(name, value):
    import json

    try:
        return True, json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as e:
        return False, "callback %r returned a value that cannot be sent to the sandbox as JSON: %s" % (
            name,
            e,
        )


def _decode(args_json):
    import json

    kwargs = json.loads(args_json)
    if not isinstance(kwargs, dict):
        raise TypeError("callback arguments must be keyword arguments")
    return kwargs


async def _await(awaitable):
    return await awaitable


def call_sync(key, name, fn, args_json):
    """Run callback ``fn`` here (a worker thread); ``(ok, text)``."""
    token = _owner.set(key)
    try:
        result = fn(**_decode(args_json))
        if hasattr(type(result), "__await__"):
            import asyncio

            result = asyncio.run(_await(result))
    except Exception as e:
        return _failure(name, e)
    finally:
        _owner.reset(token)
    return _encode(name, result)


async def call_async(key, name, fn, args_json):
    """Run ``async def`` callback ``fn`` on the caller's loop; ``(ok, text)``."""
    _owner.set(key)  # this task's own context
    try:
        result = fn(**_decode(args_json))
        if hasattr(type(result), "__await__"):
            result = await result
    except Exception as e:
        return _failure(name, e)
    return _encode(name, result)


def resolve_future(fut, value, exc):
    """Set an asyncio call's answer (on the loop's thread)."""
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(value)
