"""The eryx event loop: asyncio without sockets or threads.

CPython's default loop needs a self-pipe (socketpair), which WASI does not
have. `EryxLoop` is a `BaseEventLoop` with no selector:

* In *blocking* mode (`run_until_complete`, as used by `asyncio.run` in user
  code) it sleeps until the next timer, like a normal loop.
* In *step* mode the eryx runtime drives it one iteration at a time
  (`step()`), so an `execute` with top-level `await` can hand control back to
  the host while host callbacks are in flight, and resume when they answer.

The loop is never marked running between steps, so user code may still call
`asyncio.run()` from synchronous code.
"""

import time

_cls = None
_events = None


class _NoSelector:
    """Stands in for a selector: there are no file descriptors to watch."""

    def __init__(self, loop):
        self._loop = loop

    def select(self, timeout):
        if self._loop._eryx_blocking and timeout:
            time.sleep(timeout)
        return []

    def close(self):
        pass


def loop_class():
    """The EryxLoop class (built on first use: importing asyncio is costly)."""
    global _cls, _events
    if _cls is not None:
        return _cls
    from asyncio import base_events, events

    _events = events

    class EryxLoop(base_events.BaseEventLoop):
        """An asyncio loop for a single-threaded WASI guest."""

        def __init__(self):
            super().__init__()
            self._eryx_blocking = True
            self._selector = _NoSelector(self)

        def _process_events(self, event_list):
            pass

        def _write_to_self(self):
            pass

        def idle_state(self):
            """0 if work is ready, seconds to the next timer, or None if idle."""
            if self._ready:
                return 0.0
            if self._scheduled:
                return max(0.0, self._scheduled[0].when() - self.time())
            return None

        def step(self):
            """Run one iteration without sleeping; return `idle_state()`."""
            self._eryx_blocking = False
            _events._set_running_loop(self)
            try:
                self._run_once()
            finally:
                _events._set_running_loop(None)
                self._eryx_blocking = True
            return self.idle_state()

    _cls = EryxLoop
    return _cls


def install():
    """Make EryxLoop the loop `asyncio.new_event_loop()` / `asyncio.run()` build."""
    cls = loop_class()
    get_policy = getattr(_events, "_get_event_loop_policy", None) or _events.get_event_loop_policy
    get_policy()._loop_factory = cls
