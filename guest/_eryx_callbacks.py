"""Host callbacks as Python coroutines.

``eryx.invoke(name, args_json)`` awaits the async ``invoke`` import; for
every name the host lists, user code gets a coroutine function
(``await get_time()``, ``await add(a=2, b=3)``); dotted names
(``http.get``) become attribute namespaces. Arguments travel as JSON and
results come back decoded. While a call is in flight the runtime hands
control back to the host (the export returns WAIT), so several calls
gathered together really overlap.
"""

import builtins
import sys

import eryx


class CallbackError(Exception):
    """A host callback failed; the message is the host's."""


CallbackError.__module__ = "eryx"
eryx.CallbackError = CallbackError

# Subtask handle -> future waiting for (ok, text).
_futures = {}
# The loop the runtime steps (set by _eryx_runtime).
main_loop = None
_names = None


def _require_loop(what):
    events = sys.modules.get("asyncio.events")
    loop = events._get_running_loop() if events is not None else None
    if loop is None or loop is not main_loop:
        raise RuntimeError(
            "%s must be awaited from the sandbox's own async code (write `await %s`); "
            "it cannot be called from synchronous code or inside asyncio.run()" % (what, what)
        )
    return loop


async def invoke(name, args_json="{}"):
    """Call host callback `name` with a JSON argument string; returns its JSON text."""
    loop = _require_loop("eryx.invoke(...)")
    r = eryx._invoke(str(name), str(args_json))
    if r[0]:
        fut = loop.create_future()
        _futures[r[1]] = fut
        ok, text = await fut
    else:
        ok, text = r[1], r[2]
    if not ok:
        raise CallbackError(text)
    return text


def resolve(handle, ok, text):
    """The host answered call `handle` (called by the runtime)."""
    fut = _futures.pop(handle, None)
    if fut is not None and not fut.done():
        fut.set_result((ok, text))


def list_callbacks():
    """Names of the callbacks the host offers."""
    global _names
    if _names is None:
        text = eryx._list_callbacks()
        _names = [n for n in text.split("\n") if n]
    return list(_names)


eryx.invoke = invoke
eryx.list_callbacks = list_callbacks


async def _call(name, kwargs):
    import json

    return json.loads(await invoke(name, json.dumps(kwargs)))


def _make(name):
    def callback(**kwargs):
        _require_loop(name + "(...)")
        return _call(name, kwargs)

    callback.__name__ = name.rsplit(".", 1)[-1]
    callback.__qualname__ = name
    callback.__doc__ = "Host callback %r: `await %s(**kwargs)`." % (name, name)
    callback.__eryx_callback__ = True
    return callback


class _Namespace:
    """Attribute namespace for dotted callback names."""

    __eryx_callback__ = True

    def __init__(self, prefix):
        self._prefix = prefix

    def __repr__(self):
        return "<eryx callbacks %s.*>" % self._prefix


def install(namespace):
    """Put a coroutine function for each callback into `namespace`."""
    for name in list_callbacks():
        parts = name.split(".")
        top = parts[0]
        if hasattr(builtins, top) or not all(p.isidentifier() for p in parts):
            continue  # reachable through eryx.invoke only
        existing = namespace.get(top)
        if existing is not None and not getattr(existing, "__eryx_callback__", False):
            continue  # never clobber the user's own names
        if len(parts) == 1:
            namespace[top] = _make(name)
            continue
        node = existing if isinstance(existing, _Namespace) else _Namespace(top)
        namespace[top] = node
        for i, part in enumerate(parts[1:-1], start=1):
            child = getattr(node, part, None)
            if not isinstance(child, _Namespace):
                child = _Namespace(".".join(parts[: i + 1]))
                setattr(node, part, child)
            node = child
        setattr(node, parts[-1], _make(name))
