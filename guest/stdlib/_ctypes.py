"""The data-type half of `_ctypes`, for the eryx sandbox (what `ctypes` imports).

The CPython-for-WASI build the sandbox runs has no `_ctypes`, and a sandbox
must never call native code anyway. This module gives ctypes' C data types
over memory Python owns: simple types, Structure/Union (with `_pack_` and
bit fields), arrays, pointers, `sizeof`, `alignment`, `addressof`, `byref`,
`cast`, `memmove`, `memset`, `string_at`, with wasm32's sizes (int, long and
pointers are 4 bytes). Addresses are real offsets in a simulated address
space: each allocation gets a range, and pointers resolve back to the
Python-owned buffer they point into.

Loading libraries (`CDLL("libc.so.6")`) and calling foreign functions raise
OSError: there is nothing native to call. `pythonapi` exists, but its
functions are missing (AttributeError), as for any absent symbol. Callbacks
made with CFUNCTYPE(...)(python_function) can be called from Python.
"""

import struct as _struct
import sys as _sys
import weakref as _weakref

from _eryx_ctypes_memory import _CODES, _INTS, _SWAPPABLE, _alloc, _find, _register, _wrap

__version__ = "1.1.0"

RTLD_LOCAL = 0
RTLD_GLOBAL = 0x100
FUNCFLAG_CDECL = 0x1
FUNCFLAG_HRESULT = 0x2
FUNCFLAG_PYTHONAPI = 0x4
FUNCFLAG_USE_ERRNO = 0x8
FUNCFLAG_USE_LASTERROR = 0x10
SIZEOF_TIME_T = 8
CTYPES_MAX_ARGCOUNT = 1024

_NO_NATIVE = "the eryx sandbox cannot {}: it runs no native code (ctypes here provides the data types only)"


class ArgumentError(Exception):
    pass


def _finalize(cls):
    """A Structure/Union type's _fields_ can no longer be set (CPython: once
    set, or the type is instantiated, used as a field type or subclassed)."""
    if hasattr(cls, "_all_fields_") and not cls.__dict__.get("_final_"):
        type.__setattr__(cls, "_final_", True)


class _CData:
    """What every ctypes instance has: a memory, an offset, kept objects."""

    _b_base_ = None
    _b_needsfree_ = True

    @classmethod
    def _at(cls, mem, off, base=None):
        _finalize(cls)
        self = cls.__new__(cls)
        self._mem, self._off, self._b_base_ = mem, off, base
        self._b_needsfree_ = False
        self._objects = None
        return self

    def _fresh(self):
        _finalize(type(self))
        self._mem = _alloc(type(self)._size_)
        self._off = 0
        self._objects = None

    def _view(self):
        return self._mem.buf[self._off:self._off + type(self)._size_]

    def _keep(self, key, obj):
        if self._objects is None:
            self._objects = {}
        self._objects[key] = obj
        if self._b_base_ is not None:
            self._b_base_._keep(("base", self._off, key), obj)

    def __buffer__(self, flags):
        return self._view()

    def __reduce__(self):
        return (_unpickle, (type(self), bytes(self._view())))

    def __ctypes_from_outparam__(self):
        return self

    @property
    def _address(self):
        return self._mem.addr + self._off


def _unpickle(cls, data):
    obj = cls.__new__(cls)
    obj._fresh()
    obj._view()[:] = data
    return obj


class _CDataType(type):
    """Metaclass behaviour shared by every ctypes type."""

    def from_address(cls, address):
        mem, off = _find(address, cls._size_)
        return cls._at(mem, off)

    def from_buffer(cls, source, offset=0):
        view = memoryview(source).cast("B")
        if view.readonly:
            raise TypeError("underlying buffer is not writable")
        if offset < 0:
            raise ValueError("offset cannot be negative")
        if len(view) < offset + cls._size_:
            raise ValueError(f"Buffer size too small ({len(view)} instead of at least "
                             f"{offset + cls._size_} bytes)")
        obj = cls._at(_register(view[offset:offset + cls._size_], source), 0)
        obj._objects = {"buffer": source}
        return obj

    def from_buffer_copy(cls, source, offset=0):
        view = memoryview(source).cast("B")
        if offset < 0:
            raise ValueError("offset cannot be negative")
        if len(view) < offset + cls._size_:
            raise ValueError(f"Buffer size too small ({len(view)} instead of at least "
                             f"{offset + cls._size_} bytes)")
        obj = cls.__new__(cls)
        obj._fresh()
        obj._view()[:] = view[offset:offset + cls._size_]
        return obj

    def in_dll(cls, dll, name):
        raise ValueError(f"symbol {name!r} not found: " + _NO_NATIVE.format("read library data"))

    def from_param(cls, obj):
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, _CArgObject) and isinstance(obj._obj, cls):
            return obj
        return cls(obj)

    def __mul__(cls, length):
        return _array_type(cls, length)

    __rmul__ = __mul__

    @property
    def __pointer_type__(cls):
        return POINTER(cls)

    @__pointer_type__.setter
    def __pointer_type__(cls, ptr):
        _pointer_type_cache[cls] = ptr


def _is_ctype(t):
    return isinstance(t, _CDataType) and hasattr(t, "_size_")


def _get(ftype, mem, off, base):
    """A field/element read: a Python value for fundamental simple types."""
    if isinstance(ftype, PyCSimpleType) and ftype.__mro__[1] is _SimpleCData:
        return ftype._at(mem, off, base).value
    if isinstance(ftype, PyCArrayType) and _kind(ftype._type_):
        return ftype._at(mem, off, base).value
    return ftype._at(mem, off, base)


def _set(ftype, mem, off, value, owner, key):
    target = ftype._at(mem, off, owner)
    if isinstance(value, ftype):
        mem.buf[off:off + ftype._size_] = value._view()
        if value._objects:
            owner._keep(key, value._objects)
        return
    if isinstance(ftype, PyCSimpleType):
        target.value = value
    elif isinstance(ftype, PyCArrayType):
        if _kind(ftype._type_) == "c" and isinstance(value, bytes):
            # CPython's field setter for char arrays ("s"): up to the first
            # NUL, plus the NUL when it fits.
            data = value.split(b"\0", 1)[0]
            if len(data) > ftype._length_:
                raise ValueError(f"bytes too long ({len(data)}, maximum length {ftype._length_})")
            if len(data) < ftype._length_:
                data += b"\0"
            mem.buf[off:off + len(data)] = data
        elif _kind(ftype._type_) and isinstance(value, (bytes, str)):
            target.value = value
        elif isinstance(value, tuple):
            _set_from_tuple(ftype, mem, off, value)
        else:
            raise TypeError(f"incompatible types, {type(value).__name__} instance instead of "
                            f"{ftype.__name__} instance")
    elif isinstance(ftype, PyCPointerType) and value is None:
        _struct.pack_into("<I", mem.buf, off, 0)
    elif isinstance(ftype, PyCPointerType) and isinstance(value, Array) \
            and type(value)._type_ is getattr(ftype, "_type_", None):
        # An array of the pointed-to type: the pointer to its first item.
        _struct.pack_into("<I", mem.buf, off, value._address)
        owner._keep(key, value)
        return
    elif isinstance(value, tuple):
        _set_from_tuple(ftype, mem, off, value)
    else:
        raise TypeError(f"incompatible types, {type(value).__name__} instance instead of "
                        f"{ftype.__name__} instance")
    if target._objects:
        owner._keep(key, target._objects)


def _set_from_tuple(ftype, mem, off, value):
    """A field set from a tuple: the field type called with it; its errors
    become RuntimeError naming the type, as CPython's."""
    try:
        made = ftype(*value)
    except Exception as e:
        raise RuntimeError(f"({ftype.__name__}) {type(e).__name__}: {e}") from e
    mem.buf[off:off + ftype._size_] = made._view()


# -- simple types -------------------------------------------------------------

class PyCSimpleType(_CDataType):
    def __init__(cls, name, bases, ns, **kw):
        super().__init__(name, bases, ns, **kw)
        if not any(isinstance(b, PyCSimpleType) for b in bases):
            return  # _SimpleCData itself
        if "_type_" not in ns and hasattr(cls, "_size_"):
            return  # a subclass of a concrete simple type
        code = ns.get("_type_")
        if not isinstance(code, str) or len(code) != 1 or code not in _CODES:
            raise AttributeError("class must define a '_type_' attribute which must be\n"
                                 "a single character string containing one of "
                                 f"'{''.join(_CODES)}'.")
        fmt, cls._size_, cls._align_ = _CODES[code]
        cls._fmt_ = ns.get("_fmt_", "<" + fmt)
        if code in _SWAPPABLE and "_swapped_" not in ns:
            other = type(cls)(name, bases, {"_type_": code, "_swapped_": True,
                                           "_fmt_": ">" + fmt, "__module__": cls.__module__})
            big = _sys.byteorder == "big"
            cls.__ctype_le__, cls.__ctype_be__ = (other, cls) if big else (cls, other)
            other.__ctype_le__, other.__ctype_be__ = cls.__ctype_le__, cls.__ctype_be__


class _SimpleCData(_CData, metaclass=PyCSimpleType):
    _type_ = None

    def __init__(self, value=None):
        self._fresh()
        if value is not None:
            self.value = value

    @property
    def value(self):
        cls = type(self)
        code = cls._type_
        raw = _struct.unpack_from(cls._fmt_, self._mem.buf, self._off)[0]
        if code == "u":
            return chr(raw)
        if code in "zZ":
            if raw == 0:
                return None
            return string_at(raw) if code == "z" else wstring_at(raw)
        if code == "P":
            return raw or None
        if code == "O":
            if raw == 0:
                raise ValueError("PyObject is NULL")
            return _PY_OBJECTS[raw][0]
        return raw

    @value.setter
    def value(self, value):
        cls = type(self)
        code = cls._type_
        if code in _INTS:
            if not hasattr(value, "__index__"):
                raise TypeError(f"int expected instead of {type(value).__name__}")
            raw = _wrap(code, value.__index__())
        elif code in "fdg":
            raw = float(value)
        elif code == "?":
            raw = bool(value)
        elif code == "c":
            if isinstance(value, int) and 0 <= value < 256:
                value = bytes([value])
            if not isinstance(value, (bytes, bytearray)) or len(value) != 1:
                raise TypeError("one character bytes, bytearray or integer expected")
            raw = bytes(value)
        elif code == "u":
            if not isinstance(value, str) or len(value) != 1:
                raise TypeError("a unicode character expected")
            raw = ord(value)
        elif code in "zZP":
            raw = self._pointer_value(code, value)
        else:  # "O"
            raw = _PY_HANDLES[0]
            _PY_HANDLES[0] += 1
            holder = (value,)
            _PY_OBJECTS[raw] = holder
            _weakref.finalize(self, _PY_OBJECTS.pop, raw, None)
            self._keep("value", holder)
        _struct.pack_into(cls._fmt_, self._mem.buf, self._off, raw)

    def _pointer_value(self, code, value):
        if value is None:
            return 0
        if isinstance(value, int):
            return _wrap("I", value)
        kind = bytes if code == "z" else str
        if code in "zZ" and isinstance(value, kind):
            buf = (c_char_array(len(value) + 1) if code == "z"
                   else _array_type(_WCHAR[0], len(value) + 1))()
            buf.value = value
            self._keep("value", buf)
            return buf._address
        if isinstance(value, (_Pointer, Array, _CFuncPtrBase)):
            self._keep("value", value)
            return _address_of_target(value)
        if code == "P" and isinstance(value, _SimpleCData) and value._type_ in "zZP":
            return value.value if value._type_ == "P" else _address_of_target(value)
        raise TypeError(f"cannot be converted to pointer: {type(value).__name__}")

    def __bool__(self):
        return bool(_struct.unpack_from(type(self)._fmt_, self._mem.buf, self._off)[0])

    def __repr__(self):
        if type(self).__mro__[1] is not _SimpleCData:
            return f"<{type(self).__name__} object at {id(self):#x}>"
        return f"{type(self).__name__}({self.value!r})"


def _kind(item):
    """"c" / "u" for (subclasses of) c_char / c_wchar, else None."""
    if isinstance(item, PyCSimpleType) and item._type_ in ("c", "u"):
        return item._type_
    return None


_WCHAR = [None]


_PY_OBJECTS = {}  # handle -> object, for py_object slots
_PY_HANDLES = [0x100]

from _eryx_ctypes_struct import CField, PyCStructType, UnionType, Structure, Union  # noqa: E402

# -- arrays -------------------------------------------------------------------

class PyCArrayType(_CDataType):
    def __init__(cls, name, bases, ns, **kw):
        super().__init__(name, bases, ns, **kw)
        if "_type_" not in ns and "_length_" not in ns:
            return
        length, item = getattr(cls, "_length_", None), getattr(cls, "_type_", None)
        if not isinstance(length, int):
            raise AttributeError("class must define a '_length_' attribute, "
                                 "which must be a positive integer")
        if length < 0:
            raise ValueError("The '_length_' attribute must not be negative")
        if not _is_ctype(item):
            raise TypeError("_type_ must have storage info")
        cls._size_ = item._size_ * length
        cls._align_ = item._align_


_ARRAY_TYPES = {}


def _array_type(item, length):
    if not isinstance(length, int):
        raise TypeError(f"can't multiply sequence by non-int of type '{type(length).__name__}'")
    if length < 0:
        raise ValueError(f"Array length must be >= 0, not {length}")
    key = (item, length)
    if key not in _ARRAY_TYPES:
        _ARRAY_TYPES[key] = PyCArrayType(f"{item.__name__}_Array_{length}", (Array,),
                                         {"_type_": item, "_length_": length,
                                          "__module__": item.__module__})
    return _ARRAY_TYPES[key]


def c_char_array(n):
    return _array_type(_CHARS[0], n)


class Array(_CData, metaclass=PyCArrayType):
    """Array base class"""

    def __init__(self, *args):
        self._fresh()
        if len(args) > type(self)._length_:
            raise IndexError("indices must be integers")
        for i, value in enumerate(args):
            self[i] = value

    def __len__(self):
        return type(self)._length_

    def _index(self, i):
        n = type(self)._length_
        i = i.__index__()
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("invalid index")
        return i

    def __getitem__(self, key):
        item = type(self)._type_
        if isinstance(key, slice):
            values = [self[i] for i in range(*key.indices(len(self)))]
            if _kind(item) == "c":
                return b"".join(values)
            if _kind(item) == "u":
                return "".join(values)
            return values
        i = self._index(key)
        return _get(item, self._mem, self._off + i * item._size_, self)

    def __setitem__(self, key, value):
        item = type(self)._type_
        if isinstance(key, slice):
            indices = range(*key.indices(len(self)))
            if len(value) != len(indices):
                raise ValueError("Can only assign sequence of same size")
            for i, v in zip(indices, value):
                self[i] = v
            return
        i = self._index(key)
        _set(item, self._mem, self._off + i * item._size_, value, self, i)

    @property
    def value(self):
        item = type(self)._type_
        if _kind(item) == "c":
            raw = bytes(self._view())
            return raw.split(b"\0", 1)[0]
        if _kind(item) == "u":
            text = "".join(self[i] for i in range(len(self)))
            return text.split("\0", 1)[0]
        raise AttributeError("value")

    @value.setter
    def value(self, value):
        item = type(self)._type_
        if _kind(item) == "c":
            if not isinstance(value, bytes):
                raise TypeError(f"bytes expected instead of {type(value).__name__} instance")
            if len(value) > len(self):
                raise ValueError("byte string too long")
            view = self._view()
            view[:len(value)] = value
            if len(value) < len(self):
                view[len(value)] = 0
        elif _kind(item) == "u":
            if not isinstance(value, str):
                raise TypeError(f"unicode string expected instead of {type(value).__name__} instance")
            if len(value) > len(self):
                raise ValueError("string too long")
            for i, ch in enumerate(value + ("\0" if len(value) < len(self) else "")):
                self[i] = ch
        else:
            raise AttributeError("value")

    @property
    def raw(self):
        if _kind(type(self)._type_) != "c":
            raise AttributeError("raw")
        return bytes(self._view())

    @raw.setter
    def raw(self, value):
        if _kind(type(self)._type_) != "c":
            raise AttributeError("raw")
        if len(value) > len(self):
            raise ValueError("byte string too long")
        self._view()[:len(value)] = value


# -- pointers (_eryx_ctypes_pointer.py) ---------------------------------------

from _eryx_ctypes_pointer import (  # noqa: E402
    POINTER, PyCPointerType, _Pointer, _address_of_target, _pointer_type_cache, pointer,
)


from _eryx_ctypes_calls import (  # noqa: E402
    CFuncPtr, PyCFuncPtrType, _CFuncPtrBase, _CArgObject, _cast_addr, _memmove_addr,
    _memoryview_at_addr,
    _memset_addr, _string_at_addr, _wstring_at_addr, string_at, wstring_at, sizeof,
    alignment, addressof, byref, resize, get_errno, set_errno, dlopen, dlsym, dlclose,
    buffer_info, PyObj_FromPtr, call_function, call_cdeclfunction, _unpickle_legacy,
)


class _CharType(_SimpleCData):
    _type_ = "c"


class _WCharType(_SimpleCData):
    _type_ = "u"


_CHARS = (_CharType, _WCharType)
_WCHAR[0] = _WCharType  # for c_wchar_p's buffers
