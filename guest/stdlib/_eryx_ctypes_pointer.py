"""Pointers for the sandbox's `_ctypes`: the pointer types (`POINTER`,
`pointer`, `_Pointer`) over the simulated address space of
_eryx_ctypes_memory, and the address a pointer-like object refers to.
"""

import struct as _struct

from _eryx_ctypes_memory import _find
from _ctypes import _CData, _CDataType, _SimpleCData, _get, _is_ctype, _kind, _set


class PyCPointerType(_CDataType):
    _size_ = 4
    _align_ = 4
    _fmt_ = "<I"

    def set_type(cls, typ):
        cls._type_ = typ


_pointer_type_cache = {}


class _Pointer(_CData, metaclass=PyCPointerType):
    """XXX to be provided"""

    def __init__(self, value=None):
        self._fresh()
        if value is not None:
            self.contents = value

    def _addr(self):
        return _struct.unpack_from("<I", self._mem.buf, self._off)[0]

    @property
    def contents(self):
        addr = self._addr()
        if addr == 0:
            raise ValueError("NULL pointer access")
        target = type(self)._type_
        mem, off = _find(addr, target._size_)
        return target._at(mem, off, None)

    @contents.setter
    def contents(self, value):
        target = getattr(type(self), "_type_", None)
        if target is None:
            raise TypeError("Cannot create instance: has no _type_")
        if not isinstance(value, target):
            raise TypeError(f"expected {target.__name__} instead of {type(value).__name__}")
        _struct.pack_into("<I", self._mem.buf, self._off, value._address)
        self._keep(1, value)

    def __getitem__(self, key):
        target = type(self)._type_
        if isinstance(key, slice):
            if key.stop is None:
                raise ValueError("slice stop is required")
            values = [self[i] for i in range(*key.indices(key.stop))]
            if _kind(target) == "c":
                return b"".join(values)
            return "".join(values) if _kind(target) == "u" else values
        mem, off = _find(self._addr() + key.__index__() * target._size_, target._size_)
        return _get(target, mem, off, None)

    def __setitem__(self, key, value):
        target = type(self)._type_
        mem, off = _find(self._addr() + key.__index__() * target._size_, target._size_)
        _set(target, mem, off, value, self, key)

    def __bool__(self):
        return self._addr() != 0


def POINTER(cls):
    """Create and return a new ctypes pointer type (cached per target type)."""
    if cls in _pointer_type_cache:
        return _pointer_type_cache[cls]
    if isinstance(cls, str):
        ptr = PyCPointerType(f"LP_{cls}", (_Pointer,), {})
        _pointer_type_cache[id(ptr)] = ptr
        return ptr
    if not _is_ctype(cls):
        raise TypeError("must be a ctypes type")
    ptr = PyCPointerType(f"LP_{cls.__name__}", (_Pointer,), {"_type_": cls})
    _pointer_type_cache[cls] = ptr
    return ptr


def pointer(obj):
    """Create a new pointer instance, pointing to 'obj'."""
    return POINTER(type(obj))(obj)


def _address_of_target(obj):
    """The address a pointer-like object refers to (the data itself for arrays)."""
    if isinstance(obj, _Pointer):
        return obj._addr()
    if isinstance(obj, _SimpleCData) and obj._type_ in "zZP":
        return _struct.unpack_from("<I", obj._mem.buf, obj._off)[0]
    if isinstance(obj, _CData):
        return obj._address
    if isinstance(obj, int):
        return obj
    if obj is None:
        return 0
    raise TypeError(f"cannot take the address of {type(obj).__name__}")
