"""Structure and Union for the sandbox's `_ctypes`: field layout (natural
alignment, `_pack_`, bit fields, `_anonymous_`; ctypes/_endian.py swaps
byte order by giving swapped field types) and the
CField descriptors that read and write the fields.
"""

import struct as _struct

from _eryx_ctypes_memory import _INTS, _wrap
from _ctypes import _CData, _CDataType, PyCSimpleType, _get, _is_ctype, _set


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
        base = next((b for b in cls.__mro__[1:] if "_size_" in b.__dict__), None)
        size = base._size_ if base is not None and not cls._union else 0
        align = base._align_ if base is not None else 1
        pack = cls.__dict__.get("_pack_", 0)
        all_fields = list(base._all_fields_) if base is not None else []
        bits_unit = None  # (offset, type, bits used) of the open bit-field unit
        for i, spec in enumerate(fields):
            if not isinstance(spec, tuple) or len(spec) not in (2, 3):
                raise TypeError("'_fields_' must be a sequence of (name, C type) pairs")
            fname, ftype = spec[0], spec[1]
            if not _is_ctype(ftype):
                raise TypeError(f"second item in _fields_ tuple (index {i}) must be a C type")
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


