"""Functions of the sandbox's `_ctypes`: function pointers (callable only
when they wrap a Python callable or one of ctypes' own helpers: memmove,
memset, string_at, cast), and the module-level functions (sizeof, byref,
dlopen, ...). Nothing here calls native code.
"""

import struct as _struct

from _eryx_ctypes_memory import _alloc, _find, _wrap
from _ctypes import (FUNCFLAG_CDECL, RTLD_LOCAL, _NO_NATIVE, Array, PyCPointerType,
                     PyCSimpleType, _CData, _CDataType, _Pointer, _SimpleCData,
                     _address_of_target, _array_type, _is_ctype, _unpickle, c_char_array)


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


@_builtin(0x114)
def _memoryview_at_addr(ptr, size, readonly=False):
    mem, off = _find(_addr_arg(ptr), max(size, 1))
    view = mem.buf[off:off + size]
    return view.toreadonly() if readonly else view


def string_at(ptr, size=-1):
    """The bytes at `ptr` (up to the first NUL when size is -1)."""
    return _BUILTIN_FUNCS[_string_at_addr](ptr, size)


def wstring_at(ptr, size=-1):
    """The wide-character string at `ptr` (up to the first NUL when size is -1)."""
    return _BUILTIN_FUNCS[_wstring_at_addr](ptr, size)


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


