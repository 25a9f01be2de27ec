"""Structure and Union for the sandbox's `_ctypes`: field layout (natural
alignment, `_pack_`, bit fields, `_anonymous_`; ctypes/_endian.py swaps
byte order by giving swapped field types) and the
CField descriptors that read and write the fields.
"""

import struct as _struct

from _eryx_ctypes_memory import _INTS, _wrap
from _ctypes import _CData, _CDataType, PyCSimpleType, _finalize, _get, _is_ctype, _set


class CField:
    """A field of a Structure or Union (the class attribute), with the
    attributes CPython 3.14's CField has; made by ctypes/_layout.py."""

    def __init__(self, *, name, type, byte_size, byte_offset, index, _internal_use=False,
                 bit_size=None, bit_offset=None):
        if not _internal_use:
            raise TypeError("cannot create 'CField' instances")
        if byte_size != type._size_:
            raise ValueError(f"byte size of field {name!r} ({byte_size}) does not match "
                             f"type size ({type._size_})")
        if bit_size is not None and bit_offset + bit_size > byte_size * 8:
            raise ValueError(f"bit field {name!r} overflows its type "
                             f"({bit_offset} + {bit_size} > {byte_size * 8})")
        self.name, self.type, self.index = name, type, index
        self.byte_size, self.byte_offset, self.offset = byte_size, byte_offset, byte_offset
        self.is_bitfield = bit_size is not None
        self.bit_size = bit_size if self.is_bitfield else byte_size * 8
        self.bit_offset = bit_offset if self.is_bitfield else 0
        self.is_anonymous = False
        self.size = (self.bit_size << 16 | self.bit_offset) if self.is_bitfield else byte_size

    def _moved(self, by):
        """This field seen from a struct that has it `by` bytes further in."""
        return CField(name=self.name, type=self.type, byte_size=self.byte_size,
                      byte_offset=self.byte_offset + by, index=self.index, _internal_use=True,
                      bit_size=self.bit_size if self.is_bitfield else None,
                      bit_offset=self.bit_offset if self.is_bitfield else None)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        if not isinstance(obj, _CData):
            raise TypeError(f"descriptor works only on ctypes instances, not "
                            f"{_typename(obj)}")
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
        if not isinstance(obj, _CData):
            raise TypeError(f"descriptor works only on ctypes instances, not "
                            f"{_typename(obj)}")
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


def _typename(obj):
    return type(obj).__name__


class _StructMeta(_CDataType):
    _union = False

    def __init__(cls, name, bases, ns, **kw):
        super().__init__(name, bases, ns, **kw)
        for b in bases:
            if isinstance(b, _StructMeta) and b not in (Structure, Union):
                type.__setattr__(b, "_final_", True)
        if "_fields_" in ns:
            # Through __setattr__, as CPython does: ctypes/_endian.py's
            # metaclass swaps the field types there.
            setattr(cls, "_fields_", ns["_fields_"])
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
        """Lay the fields out with CPython's own algorithm (ctypes/_layout.py,
        gcc-sysv or ms with _pack_), after CPython's checks of _fields_."""
        from ctypes._layout import get_layout

        base = next((b for b in cls.__mro__[1:] if "_size_" in b.__dict__), None)
        if not isinstance(fields, (list, tuple)):
            raise TypeError("'_fields_' must be a sequence of pairs")
        for i, spec in enumerate(fields):
            if not isinstance(spec, tuple) or len(spec) not in (2, 3):
                raise TypeError("'_fields_' must be a sequence of (name, C type) pairs")
            ftype = spec[1]
            if not _is_ctype(ftype):
                raise TypeError(f"second item in _fields_ tuple (index {i}) must be a C type")
            if isinstance(ftype, _StructMeta):
                type.__setattr__(ftype, "_final_", True)
            if len(spec) == 3 and not (isinstance(ftype, PyCSimpleType)
                                       and ftype._type_ in _INTS + "?"):
                raise TypeError(f"bit fields not allowed for type {ftype.__name__}")
        layout = get_layout(cls, fields, not cls._union, base)
        for field in layout.fields:
            if not isinstance(field.name, str):
                raise TypeError(f"field name must be a string, not {type(field.name).__name__}")
            type.__setattr__(cls, field.name, field)
        all_fields = list(base._all_fields_) if base is not None else []
        all_fields.extend(layout.fields)
        for anon in cls.__dict__.get("_anonymous_", ()):
            field = cls.__dict__.get(anon)
            if not isinstance(field, CField):
                raise AttributeError(f"'{anon}' is specified in _anonymous_ but not in _fields_")
            field.is_anonymous = True
            for sub in field.type._all_fields_:
                type.__setattr__(cls, sub.name, sub._moved(field.byte_offset))
        type.__setattr__(cls, "_size_", layout.size)
        type.__setattr__(cls, "_align_", layout.align)
        type.__setattr__(cls, "_b_format_", layout.format_spec)
        type.__setattr__(cls, "_all_fields_", tuple(all_fields))
        type.__setattr__(cls, "_final_", True)


class PyCStructType(_StructMeta):
    pass


class UnionType(_StructMeta):
    _union = True


def _init_fields(self, *args, **kwargs):
    """Structure/Union __init__: positional values in field order, then keywords."""
    self._fresh()
    fields = type(self)._all_fields_
    if len(args) > len(fields):
        raise TypeError("too many initializers")
    for field, value in zip(fields, args):
        setattr(self, field.name, value)
    for name, value in kwargs.items():
        setattr(self, name, value)


# Both derive from _CData directly, as CPython's do (Structure.__base__ is
# _CData; test_ctypes checks it).
class Structure(_CData, metaclass=PyCStructType):
    """Structure base class"""

    __init__ = _init_fields


class Union(_CData, metaclass=UnionType):
    """Union base class"""

    __init__ = _init_fields


