"""The simulated address space and type codes behind the sandbox's `_ctypes`.

Each ctypes allocation is a Python-owned buffer registered at an address
range of its own; `_find` maps an address back to (memory, offset), so
pointers, `cast` and `from_address` work over Python-owned memory only.
"""

import struct as _struct
import weakref as _weakref
from bisect import bisect_right as _bisect_right, insort as _insort

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


def _wrap(code, value):
    fmt = _CODES[code][0]
    bits = 8 * _struct.calcsize(fmt)
    value = value & ((1 << bits) - 1)
    if fmt.islower() and value >> (bits - 1):
        value -= 1 << bits
    return value


