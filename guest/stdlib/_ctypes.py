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
from bisect import bisect_right as _bisect_right, insort as _insort

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


# -- the simulated address space --------------------------------------------

class _Memory:
    """One allocation: `buf` (a writable memoryview of bytes) at `addr`."""

    __slots__ = ("buf", "addr", "keep", "__weakref__")


_STARTS = []      # sorted start addresses of live allocations
_REGIONS = {}     # start address -> weakref to its _Memory
_NEXT = [0x10000]  # the next free address (0 stays NULL)


def _forget(addr):
    def drop(_ref):
        _REGIONS.pop(addr, None)
        i = _bisect_right(_STARTS, addr) - 1
        if i >= 0 and _STARTS[i] == addr:
            del _STARTS[i]
    return drop


def _register(buf, keep=None):
    mem = _Memory()
    mem.buf = buf
    mem.keep = keep
    addr = _NEXT[0]
    mem.addr = addr
    _NEXT[0] = addr + ((max(len(buf), 1) + 31) & ~15)
    _REGIONS[addr] = _weakref.ref(mem, _forget(addr))
    _insort(_STARTS, addr)
    return mem


def _alloc(size):
    return _register(memoryview(bytearray(size)))


def _find(addr, size=1):
    """(memory, offset) holding [addr, addr+size), or ValueError."""
    if addr == 0:
        raise ValueError("NULL pointer access")
    i = _bisect_right(_STARTS, addr) - 1
    if i >= 0:
        mem = _REGIONS[_STARTS[i]]()
        if mem is not None and addr + size <= mem.addr + max(len(mem.buf), 1):
            return mem, addr - mem.addr
    raise ValueError(f"address {addr:#x} is not memory this sandbox's ctypes allocated")


# -- simple type codes (wasm32) ----------------------------------------------

# code -> (struct format, size, alignment)
_CODES = {
    "c": ("c", 1, 1), "b": ("b", 1, 1), "B": ("B", 1, 1), "?": ("?", 1, 1),
    "h": ("h", 2, 2), "H": ("H", 2, 2), "i": ("i", 4, 4), "I": ("I", 4, 4),
    "l": ("i", 4, 4), "L": ("I", 4, 4), "q": ("q", 8, 8), "Q": ("Q", 8, 8),
    "f": ("f", 4, 4), "d": ("d", 8, 8), "g": ("d", 16, 16), "u": ("I", 4, 4),
    "z": ("I", 4, 4), "Z": ("I", 4, 4), "P": ("I", 4, 4), "O": ("I", 4, 4),
}
_INTS = "bBhHiIlLqQ"
_SWAPPABLE = _INTS + "fdg"
_PY_OBJECTS = {}  # handle -> object, for py_object slots
_PY_HANDLES = [0x100]


def _wrap(code, value):
    fmt = _CODES[code][0]
    bits = 8 * _struct.calcsize(fmt)
    value = value & ((1 << bits) - 1)
    if fmt.islower() and value >> (bits - 1):
        value -= 1 << bits
    return value


class _CData:
    """What every ctypes instance has: a memory, an offset, kept objects."""

    _b_base_ = None
    _b_needsfree_ = True

    @classmethod
    def _at(cls, mem, off, base=None):
        self = cls.__new__(cls)
        self._mem, self._off, self._b_base_ = mem, off, base
        self._b_needsfree_ = False
        self._objects = None
        return self

    def _fresh(self):
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
        if _kind(ftype._type_) and isinstance(value, (bytes, str)):
            target.value = value
        else:
            if len(value) > ftype._length_:
                raise IndexError("too many initializers")
            for i, v in enumerate(value):
                target[i] = v
    elif isinstance(ftype, PyCPointerType):
        target.contents = value
    elif isinstance(value, tuple):
        mem.buf[off:off + ftype._size_] = ftype(*value)._view()
    else:
        raise TypeError(f"incompatible types, {type(value).__name__} instance instead of "
                        f"{ftype.__name__} instance")
    if target._objects:
        owner._keep(key, target._objects)


# -- simple types -------------------------------------------------------------

class PyCSimpleType(_CDataType):
    def __init__(cls, name, bases, ns, **kw):
        super().__init__(name, bases, ns, **kw)
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


# -- structures and unions ----------------------------------------------------

class CField:
    """A field of a Structure or Union (the class attribute)."""

    def __init__(self, name, type, offset, size, index, bit_size=None, bit_offset=0):
        self.name, self.type, self.offset, self.byte_size = name, type, offset, size
        self.byte_offset, self.index = offset, index
        self.bit_size, self.bit_offset = bit_size, bit_offset
        self.is_bitfield = bit_size is not None
        self.is_anonymous = False
        self.size = (bit_size << 16 | bit_offset) if bit_size is not None else size

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        off = obj._off + self.offset
        if self.is_bitfield:
            raw = _struct.unpack_from(self.type._fmt_, obj._mem.buf, off)[0]
            mask = (1 << self.bit_size) - 1
            value = (raw >> self.bit_offset) & mask
            if self.type._type_ in "bhilq" and value >> (self.bit_size - 1):
                value -= 1 << self.bit_size
            return value
        return _get(self.type, obj._mem, off, obj)

    def __set__(self, obj, value):
        off = obj._off + self.offset
        if self.is_bitfield:
            fmt = self.type._fmt_
            raw = _struct.unpack_from(fmt, obj._mem.buf, off)[0]
            mask = ((1 << self.bit_size) - 1) << self.bit_offset
            raw = (raw & ~mask) | ((value.__index__() << self.bit_offset) & mask)
            _struct.pack_into(fmt, obj._mem.buf, off, _wrap(self.type._type_, raw))
            return
        _set(self.type, obj._mem, off, value, obj, self.index)

    def __repr__(self):
        if self.is_bitfield:
            return (f"<Field type={self.type.__name__}, ofs={self.offset}, "
                    f"bit_size={self.bit_size}, bit_offset={self.bit_offset}>")
        return f"<Field type={self.type.__name__}, ofs={self.offset}, size={self.byte_size}>"


class _StructMeta(_CDataType):
    _union = False

    def __init__(cls, name, bases, ns, **kw):
        super().__init__(name, bases, ns, **kw)
        if "_fields_" in ns:
            cls._layout(ns["_fields_"])
        elif not hasattr(cls, "_size_") or "_size_" not in cls.__dict__:
            base = next((b for b in cls.__mro__[1:] if "_size_" in b.__dict__), None)
            type.__setattr__(cls, "_size_", base._size_ if base else 0)
            type.__setattr__(cls, "_align_", base._align_ if base else 1)
            type.__setattr__(cls, "_all_fields_", base._all_fields_ if base else ())

    def __setattr__(cls, name, value):
        if name == "_fields_":
            if cls.__dict__.get("_final_"):
                raise AttributeError("_fields_ is final")
            type.__setattr__(cls, name, value)
            cls._layout(value)
            return
        type.__setattr__(cls, name, value)

    def _layout(cls, fields):
        base = next((b for b in cls.__mro__[1:] if "_size_" in b.__dict__), None)
        size = base._size_ if base is not None and not cls._union else 0
        align = base._align_ if base is not None else 1
        pack = cls.__dict__.get("_pack_", 0)
        swapped = "_swappedbytes_" in cls.__dict__
        all_fields = list(base._all_fields_) if base is not None else []
        bits_unit = None  # (offset, type, bits used) of the open bit-field unit
        for i, spec in enumerate(fields):
            if not isinstance(spec, tuple) or len(spec) not in (2, 3):
                raise TypeError("'_fields_' must be a sequence of (name, C type) pairs")
            fname, ftype = spec[0], spec[1]
            if not _is_ctype(ftype):
                raise TypeError(f"second item in _fields_ tuple (index {i}) must be a C type")
            if swapped and isinstance(ftype, PyCSimpleType):
                ftype = ftype.__ctype_be__ if _sys.byteorder == "little" else ftype.__ctype_le__
            falign = min(ftype._align_, pack) if pack else ftype._align_
            bit_size = spec[2] if len(spec) == 3 else None
            if bit_size is not None:
                if not (isinstance(ftype, PyCSimpleType) and ftype._type_ in _INTS + "?"):
                    raise TypeError(f"bit fields not allowed for type {ftype.__name__}")
                if not 0 < bit_size <= 8 * ftype._size_:
                    raise ValueError(f"number of bits invalid for bit field {fname!r}")
            if cls._union:
                off, bit_off = 0, 0
            elif bit_size is not None and bits_unit is not None and bits_unit[1]._size_ == \
                    ftype._size_ and bits_unit[2] + bit_size <= 8 * ftype._size_:
                off, bit_off = bits_unit[0], bits_unit[2]
            else:
                off = (size + falign - 1) // falign * falign
                bit_off = 0
            if bit_size is not None and not cls._union:
                bits_unit = (off, ftype, bit_off + bit_size)
            else:
                bits_unit = None
            field = CField(fname, ftype, off, ftype._size_, len(all_fields), bit_size, bit_off)
            type.__setattr__(cls, fname, field)
            all_fields.append(field)
            size = max(size, off + ftype._size_)
            align = max(align, falign)
        for anon in cls.__dict__.get("_anonymous_", ()):
            field = cls.__dict__[anon]
            field.is_anonymous = True
            for sub in field.type._all_fields_:
                proxy = CField(sub.name, sub.type, field.offset + sub.offset, sub.byte_size,
                               sub.index, sub.bit_size, sub.bit_offset)
                type.__setattr__(cls, sub.name, proxy)
        size = (size + align - 1) // align * align
        type.__setattr__(cls, "_size_", size)
        type.__setattr__(cls, "_align_", align)
        type.__setattr__(cls, "_all_fields_", tuple(all_fields))
        type.__setattr__(cls, "_final_", True)


class PyCStructType(_StructMeta):
    pass


class UnionType(_StructMeta):
    _union = True


class _StructBase(_CData):
    def __init__(self, *args, **kwargs):
        self._fresh()
        fields = type(self)._all_fields_
        if len(args) > len(fields):
            raise TypeError("too many initializers")
        for field, value in zip(fields, args):
            setattr(self, field.name, value)
        for name, value in kwargs.items():
            setattr(self, name, value)


class Structure(_StructBase, metaclass=PyCStructType):
    """Structure base class"""


class Union(_StructBase, metaclass=UnionType):
    """Union base class"""


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


# -- pointers -----------------------------------------------------------------

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


# -- functions ----------------------------------------------------------------

class PyCFuncPtrType(_CDataType):
    _size_ = 4
    _align_ = 4


class _CFuncPtrBase(_CData):
    pass


_BUILTIN_FUNCS = {}


class CFuncPtr(_CFuncPtrBase, metaclass=PyCFuncPtrType):
    """Function Pointer"""

    _argtypes_ = ()
    _restype_ = None
    _flags_ = FUNCFLAG_CDECL

    def __init__(self, *args):
        self._fresh()
        self._callable = None
        self.argtypes, self.restype, self.errcheck = self._argtypes_, self._restype_, None
        if not args:
            return
        first = args[0]
        if isinstance(first, int):
            _struct.pack_into("<I", self._mem.buf, self._off, _wrap("I", first))
        elif isinstance(first, tuple) and len(first) == 2:
            name = first[0]
            raise AttributeError(f"{name}: symbol not found ("
                                 + _NO_NATIVE.format("call library functions") + ")")
        elif callable(first):
            self._callable = first
        else:
            raise TypeError("argument must be callable or integer function address")

    def __call__(self, *args):
        if self._callable is not None:
            return self._callable(*args)
        impl = _BUILTIN_FUNCS.get(_struct.unpack_from("<I", self._mem.buf, self._off)[0])
        if impl is None:
            raise OSError(_NO_NATIVE.format("call foreign functions"))
        return impl(*args)

    def __bool__(self):
        return self._callable is not None or bool(self._mem.buf[self._off:self._off + 4].tobytes().strip(b"\0"))

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"


def _builtin(address):
    def register(fn):
        _BUILTIN_FUNCS[address] = fn
        return address
    return register


def _addr_arg(obj):
    if isinstance(obj, _CArgObject):
        return obj._obj._address + obj._offset
    if isinstance(obj, (bytes, bytearray)):
        buf = c_char_array(len(obj) + 1)()
        buf.raw = obj
        _TEMPS.append(buf)
        return buf._address
    return _address_of_target(obj)


_TEMPS = []


@_builtin(0x100)
def _memmove_addr(dst, src, count):
    d = _addr_arg(dst)
    smem, soff = _find(_addr_arg(src), max(count, 1))
    dmem, doff = _find(d, max(count, 1))
    dmem.buf[doff:doff + count] = bytes(smem.buf[soff:soff + count])
    _TEMPS.clear()
    return d


@_builtin(0x104)
def _memset_addr(dst, value, count):
    d = _addr_arg(dst)
    mem, off = _find(d, max(count, 1))
    mem.buf[off:off + count] = bytes([value & 0xFF]) * count
    return d


@_builtin(0x108)
def _string_at_addr(ptr, size=-1):
    addr = _addr_arg(ptr)
    mem, off = _find(addr)
    if size < 0:
        end = bytes(mem.buf[off:]).find(b"\0")
        size = len(mem.buf) - off if end < 0 else end
    return bytes(mem.buf[off:off + size])


@_builtin(0x10c)
def _wstring_at_addr(ptr, size=-1):
    addr = _addr_arg(ptr)
    mem, off = _find(addr, 4)
    chars = []
    while size < 0 or len(chars) < size:
        code = _struct.unpack_from("<I", mem.buf, off + 4 * len(chars))[0]
        if size < 0 and code == 0:
            break
        chars.append(chr(code))
    return "".join(chars)


@_builtin(0x110)
def _cast_addr(ptr, obj, typ):
    if not (isinstance(typ, PyCPointerType) or (isinstance(typ, PyCSimpleType)
                                                 and typ._type_ in "zZP")
            or isinstance(typ, PyCFuncPtrType)):
        raise TypeError("cast() argument 2 must be a pointer type, not " + typ.__name__)
    result = typ()
    _struct.pack_into("<I", result._mem.buf, result._off, _address_of_target(obj))
    result._keep(id(obj), obj)
    if isinstance(obj, _CData) and obj._objects:
        result._keep("src", obj._objects)
    return result


def string_at(ptr, size=-1):
    return _string_at_addr(ptr, size)


def wstring_at(ptr, size=-1):
    return _wstring_at_addr(ptr, size)


# -- module functions ---------------------------------------------------------

class _CArgObject:
    """What byref() returns."""

    def __init__(self, obj, offset):
        self._obj, self._offset = obj, offset

    def __repr__(self):
        return f"<cparam 'P' ({self._obj._address + self._offset:#x})>"


def _type_of(obj_or_type):
    t = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    if not _is_ctype(t):
        raise TypeError("this type has no size")
    return t


def sizeof(obj_or_type):
    """Return the size in bytes of a C instance or type."""
    if isinstance(obj_or_type, _CData) and not isinstance(obj_or_type, type):
        return len(obj_or_type._mem.buf) if obj_or_type._b_needsfree_ and obj_or_type._off == 0 \
            else type(obj_or_type)._size_
    return _type_of(obj_or_type)._size_


def alignment(obj_or_type):
    """Return the alignment requirement of a C instance or type."""
    return _type_of(obj_or_type)._align_


def addressof(obj):
    """Return the address of the C instance's buffer."""
    if not isinstance(obj, _CData):
        raise TypeError("invalid type")
    return obj._address


def byref(obj, offset=0):
    """A light-weight pointer to `obj` (for passing by reference)."""
    if not isinstance(obj, _CData):
        raise TypeError(f"byref() argument must be a ctypes instance, not '{type(obj).__name__}'")
    return _CArgObject(obj, offset)


def resize(obj, size):
    """Grow the memory of a ctypes instance that owns it."""
    minimum = type(obj)._size_
    if size < minimum:
        raise ValueError(f"minimum size is {minimum}")
    if not obj._b_needsfree_:
        raise ValueError("Memory cannot be resized because this object doesn't own it")
    old = bytes(obj._mem.buf)
    obj._mem = _alloc(size)
    obj._mem.buf[:len(old)] = old[:size]


_ERRNO = [0]


def get_errno():
    return _ERRNO[0]


def set_errno(value):
    old, _ERRNO[0] = _ERRNO[0], value
    return old


def dlopen(name, mode=RTLD_LOCAL):
    """Only the program itself 'loads' (it has no symbols); anything else is refused."""
    if name is None:
        return 0
    raise OSError(f"{name}: cannot open shared object: " + _NO_NATIVE.format("load libraries"))


def dlsym(handle, name):
    raise OSError(f"{name}: " + _NO_NATIVE.format("look up native symbols"))


def dlclose(handle):
    pass


def buffer_info(obj_or_type):
    t = _type_of(obj_or_type)
    return ("B", 0, ())


def _unpickle_legacy(cls, state):
    return _unpickle(cls, state)


def PyObj_FromPtr(address):
    raise OSError(_NO_NATIVE.format("turn addresses into Python objects"))


def call_function(*args):
    raise OSError(_NO_NATIVE.format("call foreign functions"))


call_cdeclfunction = call_function


class _CharType(_SimpleCData):
    _type_ = "c"


class _WCharType(_SimpleCData):
    _type_ = "u"


_CHARS = (_CharType, _WCharType)
_WCHAR[0] = _WCharType  # for c_wchar_p's buffers
