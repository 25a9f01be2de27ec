"""Snapshot and restore of the user namespace (`snapshot-state` /
`restore-state`).

Format: the magic ``b"ERYXSNAP"``, one version byte, then one pickle of
the ``{name: value}`` table of kept variables (so shared references
survive).

Functions, lambdas and classes defined in the session (module ``__main__``)
are pickled by value: code objects through ``marshal``, closures and class
bodies through pickle's memo, so recursive references (a method using
``super()``, a function calling itself) come back intact. Modules are stored
by name and re-imported. Values pickle cannot handle (generators, open
files, sockets...) are skipped and named in a warning on stderr.
"""

import sys
import types

import eryx

MAGIC = b"ERYXSNAP"
VERSION = 1
_MAIN = "__main__"
_SKIP_NAMES = frozenset({"__builtins__", "__name__", "__doc__", "__loader__", "__spec__", "__package__"})

# The namespace functions are re-bound to while a snapshot is being loaded.
_target = None


def _import(name):
    return __import__(name, fromlist=["_"]) if "." in name else __import__(name)


def _mappingproxy(d):
    return types.MappingProxyType(d)


def _new_function(code_bytes, name, ncells, home=None):
    """A function skeleton; `home` names the module whose globals it uses
    (None: the namespace being restored)."""
    import marshal

    cells = tuple(types.CellType() for _ in range(ncells))
    glob = _target if home is None else vars(_import(home))
    return types.FunctionType(marshal.loads(code_bytes), glob, name, None, cells or None)


def _fill_function(fn, state):
    defaults, kwdefaults, cell_values, attrs = state
    fn.__defaults__ = defaults
    fn.__kwdefaults__ = kwdefaults
    fn.__qualname__ = attrs.pop("__qualname__", fn.__name__)
    fn.__doc__ = attrs.pop("__doc__", None)
    fn.__module__ = _MAIN
    fn.__dict__.update(attrs)
    for cell, (has_value, value) in zip(fn.__closure__ or (), cell_values):
        if has_value:
            cell.cell_contents = value


def _new_class(metaclass, name, bases, qualname):
    cls = metaclass(name, bases, {"__module__": _MAIN, "__qualname__": qualname})
    return cls


def _fill_class(cls, body):
    for key, value in body.items():
        setattr(cls, key, value)


_CLASS_SKIP = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__", "_abc_impl"})


_pickler_cls = None


def _pickler_class():
    """The by-value pickler (built on first use: pickle is not imported at
    start-up)."""
    global _pickler_cls
    if _pickler_cls is not None:
        return _pickler_cls
    import marshal
    import pickle

    class _Pickler(pickle.Pickler):
        """Pickles session-defined functions and classes by value."""

        namespace = None

        def reducer_override(self, obj):
            if isinstance(obj, types.FunctionType) and (
                obj.__globals__ is self.namespace or obj.__module__ == _MAIN
            ):
                cells = []
                for cell in obj.__closure__ or ():
                    try:
                        cells.append((True, cell.cell_contents))
                    except ValueError:  # empty cell
                        cells.append((False, None))
                attrs = dict(obj.__dict__)
                attrs["__qualname__"] = obj.__qualname__
                attrs["__doc__"] = obj.__doc__
                state = (obj.__defaults__, obj.__kwdefaults__, cells, attrs)
                home = None if obj.__globals__ is self.namespace else obj.__globals__.get("__name__")
                args = (marshal.dumps(obj.__code__), obj.__name__, len(cells), home)
                return (_new_function, args, state, None, None, _fill_function)
            if isinstance(obj, type) and obj.__module__ == _MAIN:
                body = {k: v for k, v in vars(obj).items() if k not in _CLASS_SKIP}
                args = (type(obj), obj.__name__, obj.__bases__, obj.__qualname__)
                return (_new_class, args, body, None, None, _fill_class)
            if isinstance(obj, (staticmethod, classmethod)):
                return (type(obj), (obj.__func__,))
            if type(obj) is types.MappingProxyType:
                return (_mappingproxy, (dict(obj),))
            if type(obj) is property:
                return (property, (obj.fget, obj.fset, obj.fdel, obj.__doc__))
            if isinstance(obj, types.ModuleType):
                return (_import, (obj.__name__,))
            return NotImplemented

    _pickler_cls = _Pickler
    return _pickler_cls


def _is_callback(value):
    """Host-callback helpers are re-created from the host, never saved."""
    if isinstance(value, types.FunctionType):
        return bool(value.__dict__.get("__eryx_callback__"))
    return bool(getattr(type(value), "__eryx_callback__", False))


def _describe(value):
    return type(value).__name__


class _TooLarge(Exception):
    """A pickle grew past the budget it was given."""


class _Sink:
    """What a pickle is written to, refusing to grow past `budget` bytes
    (None: no limit): a buffer that starts with the snapshot's header, or,
    streaming (the recovery checkpoint), the host, through
    `eryx._state_write`, or nowhere, only counting (sizing a value). pickle
    hands a large buffer (bytes, bytearray, an array's data) to `write`
    whole, so one over the budget is refused before any of it is copied,
    and a streamed one goes to the host straight from where it lies: the
    guest then holds no copy of the session's data."""

    __slots__ = ("buf", "budget", "mode", "sent")

    BUFFER, STREAM, COUNT = 0, 1, 2
    # Writes at least this long go to the host directly; shorter ones are
    # gathered and sent in pieces of about this size.
    PIECE = 1 << 16

    def __init__(self):
        import io

        self.buf = io.BytesIO()
        self.budget = None
        self.mode = self.BUFFER
        self.sent = 0

    def start(self, budget, mode):
        self.budget = budget
        self.mode = mode
        self.sent = 0
        self.write(MAGIC + bytes([VERSION]))

    def size(self):
        return self.sent + self.buf.tell()

    def write(self, data):
        n = len(data) if type(data) is bytes else memoryview(data).nbytes
        if self.budget is not None and self.size() + n > self.budget:
            raise _TooLarge()
        if self.mode == self.COUNT:
            self.sent += n
        elif self.mode == self.STREAM and n >= self.PIECE:
            self.flush()
            eryx._state_write(self.sent, data)
            self.sent += n
        else:
            self.buf.write(data)
            if self.mode == self.STREAM and self.buf.tell() >= self.PIECE:
                self.flush()
        return n

    def flush(self):
        """Streaming: send what is gathered."""
        if self.buf.tell():
            with self.buf.getbuffer() as view:
                eryx._state_write(self.sent, view)
            self.sent += self.buf.tell()
            self.reset()

    def reset(self):
        # Drops the buffer `getvalue` shared with the bytes handed out.
        self.buf.seek(0)
        self.buf.truncate()


_pickler = None  # (pickler, its sink), reused: a checkpoint follows every call


def _new_pickler():
    import pickle

    sink = _Sink()
    return _pickler_class()(sink, protocol=pickle.HIGHEST_PROTOCOL), sink


def _dumps(obj, namespace, budget=None, mode=_Sink.BUFFER):
    """The snapshot (header and pickle) of `obj` (b"" when it was streamed
    to the host), or, counting, its size; `_TooLarge` past `budget`."""
    global _pickler
    if _pickler is None:
        _pickler = _new_pickler()
    pickler, sink = _pickler
    if sink.size() or pickler.namespace is not None:
        # Re-entered (a __reduce__ that snapshots): use a private pickler.
        pickler, sink = _new_pickler()
    sink.start(budget, mode)
    pickler.namespace = namespace
    try:
        pickler.dump(obj)
        if mode == _Sink.COUNT:
            return sink.size()
        if mode == _Sink.STREAM and sink.sent:
            sink.flush()
            return b""
        # Buffered, or streamed but small enough never to have been sent:
        # then the bytes go back as the call's result (no extra host call).
        return sink.buf.getvalue()
    finally:
        # Hold no reference to the session's objects between calls.
        pickler.clear_memo()
        pickler.namespace = None
        sink.reset()
        sink.sent = 0


def _mib(n):
    return "%.1f MiB" % (n / (1 << 20))


def _snapshot(namespace, budget, mode=_Sink.BUFFER):
    """(bytes, or b"" when streamed, [values pickle cannot save], [values
    over `budget`])."""
    items = {
        k: v
        for k, v in namespace.items()
        if k not in _SKIP_NAMES and not _is_callback(v)
    }
    skipped, over = [], []
    try:
        payload = _dumps(items, namespace, budget, mode)
    except Exception:  # noqa: BLE001 - find and report the culprits
        good = {}
        used = len(MAGIC) + 1
        for name, value in items.items():
            left = None if budget is None else budget - used
            try:
                size = _dumps(value, namespace, left, _Sink.COUNT)
                good[name] = value
                used += size
            except _TooLarge:
                over.append("%s (%s: over the %s budget)" % (name, _describe(value), _mib(budget)))
            except Exception as e:  # noqa: BLE001
                skipped.append("%s (%s: %s)" % (name, _describe(value), str(e) or type(e).__name__))
        payload = _dumps(good, namespace, None, mode)
    return payload, skipped, over


def snapshot(namespace):
    """Serialise `namespace`; returns (bytes, "; "-joined skipped values).

    The fast path pickles every variable in one go (shared references stay
    shared); only if that fails is each value tried alone to name the ones
    that cannot be saved.
    """
    payload, skipped, _ = _snapshot(namespace, None)
    return payload, "; ".join(skipped)


def checkpoint(namespace, budget):
    """The per-call recovery checkpoint: `snapshot` within `budget` bytes,
    variables kept in namespace order while it fits, streamed to the host
    (`state-write`) once it passes `_Sink.PIECE` bytes. Returns (the bytes,
    or b"" when streamed, "; "-joined values left out for the budget);
    values pickle cannot save are left out silently, as every checkpoint
    always did."""
    payload, _, over = _snapshot(namespace, budget, _Sink.STREAM)
    return payload, "; ".join(over)


def restore(data, base):
    """Load a snapshot into a copy of `base`; returns the new namespace."""
    global _target
    view = memoryview(data)
    if bytes(view[: len(MAGIC)]) != MAGIC or len(view) <= len(MAGIC):
        raise ValueError("not an eryx snapshot (bad magic)")
    version = view[len(MAGIC)]
    if version != VERSION:
        raise ValueError("unsupported eryx snapshot version %d (this runtime reads %d)" % (version, VERSION))
    import pickle

    namespace = dict(base)
    _target = namespace
    try:
        items = pickle.loads(view[len(MAGIC) + 1 :])
    finally:
        _target = None
    if not isinstance(items, dict):
        raise ValueError("corrupt eryx snapshot (no variable table)")
    namespace.update(items)
    return namespace
