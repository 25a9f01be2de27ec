"""Memory-mapped file objects, emulated for the eryx sandbox (WASI has no mmap).

The CPython build the sandbox runs has no `mmap` extension module: WASI
offers no memory mapping of files. This module gives the same `mmap.mmap`
API over an in-memory copy:

- anonymous maps (fileno -1) are a zero-filled buffer;
- file-backed maps read the mapped range when created; with ACCESS_WRITE
  (or MAP_SHARED + PROT_WRITE) every change made through the object's
  methods is written through to the file at once, and changes made through
  an exported buffer (memoryview, re, struct.pack_into) are written back
  when the buffer is released, on flush() and on close();
- ACCESS_COPY changes stay in memory; ACCESS_READ maps refuse writes.

What cannot be emulated: changes other writers make to the file after the
map was created are not seen, and nothing is shared between processes.
"""

import errno as _errno
import os as _os
import stat as _stat

__all__ = [
    "mmap", "error", "PAGESIZE", "ALLOCATIONGRANULARITY",
    "ACCESS_DEFAULT", "ACCESS_READ", "ACCESS_WRITE", "ACCESS_COPY",
    "MAP_SHARED", "MAP_PRIVATE", "MAP_ANON", "MAP_ANONYMOUS",
    "PROT_READ", "PROT_WRITE", "PROT_EXEC",
]

error = OSError

PAGESIZE = 65536  # the wasm page
ALLOCATIONGRANULARITY = PAGESIZE

ACCESS_DEFAULT = 0
ACCESS_READ = 1
ACCESS_WRITE = 2
ACCESS_COPY = 3

MAP_SHARED = 0x01
MAP_PRIVATE = 0x02
MAP_ANONYMOUS = 0x20
MAP_ANON = MAP_ANONYMOUS

PROT_READ = 0x1
PROT_WRITE = 0x2
PROT_EXEC = 0x4

MADV_NORMAL = 0
MADV_RANDOM = 1
MADV_SEQUENTIAL = 2
MADV_WILLNEED = 3
MADV_DONTNEED = 4

_ACCESS_NAMES = {
    ACCESS_DEFAULT: "ACCESS_DEFAULT",
    ACCESS_READ: "ACCESS_READ",
    ACCESS_WRITE: "ACCESS_WRITE",
    ACCESS_COPY: "ACCESS_COPY",
}


def _index(value, what):
    try:
        return value.__index__()
    except AttributeError:
        raise TypeError(f"{what} must be an integer, not {type(value).__name__}") from None


def _pread(fd, length, offset):
    """Read `length` bytes of `fd` from `offset` without moving its position."""
    parts = []
    while length > 0:
        chunk = _os.pread(fd, min(length, 1 << 20), offset)
        if not chunk:
            break
        parts.append(chunk)
        offset += len(chunk)
        length -= len(chunk)
    return b"".join(parts)


def _pwrite(fd, data, offset):
    view = memoryview(data)
    while view:
        done = _os.pwrite(fd, view, offset)
        view = view[done:]
        offset += done


class mmap:
    """mmap(fileno, length, flags=MAP_SHARED, prot=PROT_WRITE|PROT_READ,
         access=ACCESS_DEFAULT, offset=0, *, trackfd=True)

    An emulated memory map of a file (or of anonymous memory when fileno is
    -1); see the module documentation for what is emulated."""

    def __init__(self, fileno, length, flags=MAP_SHARED, prot=PROT_WRITE | PROT_READ,
                 access=ACCESS_DEFAULT, offset=0, *, trackfd=True):
        self._data = None  # set last: close() and __del__ test it
        fileno = _index(fileno, "fileno")
        length = _index(length, "length")
        offset = _index(offset, "offset")
        if length < 0:
            raise OverflowError("memory mapped length must be positive")
        if offset < 0:
            raise OverflowError("memory mapped offset must be positive")
        if access != ACCESS_DEFAULT and (flags != MAP_SHARED or prot != PROT_WRITE | PROT_READ):
            raise ValueError("mmap can't specify both access and flags, prot.")
        if access == ACCESS_READ:
            flags, prot = MAP_SHARED, PROT_READ
        elif access == ACCESS_WRITE:
            flags, prot = MAP_SHARED, PROT_READ | PROT_WRITE
        elif access == ACCESS_COPY:
            flags, prot = MAP_PRIVATE, PROT_READ | PROT_WRITE
        elif access == ACCESS_DEFAULT:
            if not prot & PROT_WRITE:
                access = ACCESS_READ
            elif flags & MAP_PRIVATE:
                access = ACCESS_COPY
            else:
                access = ACCESS_WRITE
        else:
            raise ValueError("mmap invalid access parameter.")
        if offset % ALLOCATIONGRANULARITY:
            raise OSError(_errno.EINVAL, _os.strerror(_errno.EINVAL))
        self._access = access
        self._offset = offset
        self._exports = 0
        self._dirty = False
        self._pos = 0
        if fileno == -1 or flags & MAP_ANONYMOUS:
            if length == 0:
                raise OSError(_errno.EINVAL, _os.strerror(_errno.EINVAL))
            self._fd = -1
            data = bytearray(length)
        else:
            st = _os.fstat(fileno)
            if not _stat.S_ISREG(st.st_mode):
                raise OSError(_errno.ENODEV, _os.strerror(_errno.ENODEV))
            size = st.st_size
            if length == 0:
                if size == 0:
                    raise ValueError("cannot mmap an empty file")
                if offset >= size:
                    raise ValueError("mmap offset is greater than file size")
                length = size - offset
            elif offset > size or size - offset < length:
                raise ValueError("mmap length is greater than file size")
            self._fd = fileno if trackfd else -1
            self._fileno = fileno
            data = bytearray(_pread(fileno, length, offset))
            if len(data) < length:
                data.extend(bytes(length - len(data)))
        self._data = data

    # -- state -----------------------------------------------------------

    def _check(self):
        if self._data is None:
            raise ValueError("mmap closed or invalid")
        return self._data

    def _check_writable(self):
        data = self._check()
        if self._access == ACCESS_READ:
            raise TypeError("mmap can't modify a readonly memory map.")
        return data

    def _shared(self):
        return self._access == ACCESS_WRITE and self._data is not None and hasattr(self, "_fileno")

    def _write_through(self, start, end):
        """Copy data[start:end] to the file (shared file-backed maps only)."""
        if self._shared():
            _pwrite(self._fileno, memoryview(self._data)[start:end], self._offset + start)

    @property
    def closed(self):
        return self._data is None

    def close(self):
        """Close the map; a shared file-backed map is written back first."""
        if self._data is None:
            return
        if self._exports:
            raise BufferError("cannot close exported pointers exist")
        try:
            if self._dirty:
                self.flush()
        finally:
            self._data = None

    def __del__(self):
        if getattr(self, "_data", None) is not None and not self._exports:
            try:
                self.close()
            except OSError:
                pass

    def __enter__(self):
        self._check()
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        name = f"{type(self).__module__}.{type(self).__qualname__}"
        if self._data is None:
            return f"<{name} closed=True>"
        return (f"<{name} closed=False, access={_ACCESS_NAMES[self._access]}, "
                f"length={len(self._data)}, pos={self._pos}, offset={self._offset}>")

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    # -- buffer protocol (PEP 688) -----------------------------------------

    def __buffer__(self, flags):
        data = self._check()
        view = memoryview(data)
        if self._access == ACCESS_READ:
            view = view.toreadonly()
        elif self._shared():
            self._dirty = True
        self._exports += 1
        return view

    def __release_buffer__(self, view):
        self._exports -= 1
        view.release()
        if self._dirty and self._exports == 0 and self._data is not None:
            self.flush()

    # -- sequence ----------------------------------------------------------

    def __len__(self):
        return len(self._check())

    def __getitem__(self, key):
        data = self._check()
        if isinstance(key, slice):
            return bytes(data[key])
        i = _index(key, "mmap indices")
        if i < 0:
            i += len(data)
        if not 0 <= i < len(data):
            raise IndexError("mmap index out of range")
        return data[i]

    def __setitem__(self, key, value):
        data = self._check_writable()
        if isinstance(key, slice):
            start, stop, step = key.indices(len(data))
            value = memoryview(value).cast("B")
            count = len(range(start, stop, step))
            if len(value) != count:
                raise IndexError("mmap slice assignment is wrong size")
            data[key] = value
            if count:
                lo, hi = (start, stop) if step > 0 else (stop + 1, start + 1)
                self._write_through(lo, hi)
            return
        i = _index(key, "mmap indices")
        if i < 0:
            i += len(data)
        if not 0 <= i < len(data):
            raise IndexError("mmap index out of range")
        if not isinstance(value, int):
            raise TypeError("mmap item value must be an int")
        if not 0 <= value < 256:
            raise ValueError("mmap item value must be in range(0, 256)")
        data[i] = value
        self._write_through(i, i + 1)

    def __delitem__(self, key):
        raise TypeError("mmap object doesn't support item deletion")

    def __iter__(self):
        data = self._check()
        return (data[i:i + 1] for i in range(len(data)))

    # -- file-like ---------------------------------------------------------

    def find(self, sub, start=None, end=None):
        """Lowest index of `sub` in [start, end) (start defaults to the position), or -1."""
        data = self._check()
        return data.find(sub, self._pos if start is None else start,
                         len(data) if end is None else end)

    def rfind(self, sub, start=None, end=None):
        """Highest index of `sub` in [start, end) (start defaults to the position), or -1."""
        data = self._check()
        return data.rfind(sub, self._pos if start is None else start,
                          len(data) if end is None else end)

    def flush(self, offset=0, size=None):
        """Write a shared file-backed map back to its file (nothing for others)."""
        data = self._check()
        if size is None:
            size = len(data) - offset
        if offset < 0 or size < 0 or offset + size > len(data):
            raise ValueError("flush values out of range")
        if self._shared():
            _pwrite(self._fileno, memoryview(data)[offset:offset + size], self._offset + offset)
            if offset == 0 and size == len(data):
                self._dirty = False

    def madvise(self, option, start=0, length=None):
        """Accepted and ignored (there is no paging to advise)."""
        data = self._check()
        if start < 0 or start >= len(data):
            raise ValueError("madvise start out of bounds")
        if length is not None and length < 0:
            raise ValueError("madvise length invalid")

    def move(self, dest, src, count):
        """Copy `count` bytes from offset `src` to offset `dest`."""
        data = self._check_writable()
        size = len(data)
        if (dest < 0 or src < 0 or count < 0 or src > size - count or dest > size - count):
            raise ValueError("source, destination, or count out of range")
        data[dest:dest + count] = data[src:src + count]
        self._write_through(dest, dest + count)

    def read(self, n=None):
        """Up to `n` bytes from the position (all of the rest when n is None or < 0)."""
        data = self._check()
        if n is None:
            n = -1
        n = _index(n, "read size")
        remaining = max(len(data) - self._pos, 0)
        if n < 0 or n > remaining:
            n = remaining
        chunk = bytes(data[self._pos:self._pos + n])
        self._pos += n
        return chunk

    def read_byte(self):
        """The byte at the position, as an int; moves on by one."""
        data = self._check()
        if self._pos >= len(data):
            raise ValueError("read byte out of range")
        self._pos += 1
        return data[self._pos - 1]

    def readline(self):
        """The bytes from the position up to and including the next newline."""
        data = self._check()
        end = data.find(b"\n", self._pos)
        end = len(data) if end < 0 else end + 1
        line = bytes(data[self._pos:end])
        self._pos = max(self._pos, end)
        return line

    def resize(self, newsize):
        """Change the size of the map (and of a shared map's file)."""
        data = self._check()
        if self._access in (ACCESS_READ, ACCESS_COPY):
            raise TypeError("mmap can't resize a readonly or copy-on-write memory map.")
        if self._exports:
            raise BufferError("mmap can't resize with extant buffers exported.")
        newsize = _index(newsize, "new size")
        if newsize < 0:
            raise ValueError("new size out of range")
        if self._shared():
            _os.ftruncate(self._fileno, self._offset + newsize)
        old = len(data)
        if newsize < old:
            del data[newsize:]
        else:
            data.extend(bytes(newsize - old))
            self._write_through(old, newsize)
        self._pos = min(self._pos, newsize)

    def seek(self, pos, whence=0):
        """Move the position (whence 0: from the start, 1: from here, 2: from the end)."""
        data = self._check()
        pos = _index(pos, "position")
        if whence == 0:
            where = pos
        elif whence == 1:
            where = self._pos + pos
        elif whence == 2:
            where = len(data) + pos
        else:
            raise ValueError("unknown seek type")
        if not 0 <= where <= len(data):
            raise ValueError("seek out of range")
        self._pos = where
        return where

    def seekable(self):
        return True

    def size(self):
        """The size of the mapped file (of the map itself when anonymous)."""
        data = self._check()
        if getattr(self, "_fileno", -1) != -1 and self._fd != -1:
            return _os.fstat(self._fileno).st_size
        if self._fd == -1 and hasattr(self, "_fileno"):
            raise ValueError("mmap can't get size with fileno -1")
        return len(data)

    def tell(self):
        self._check()
        return self._pos

    def write(self, data):
        """Write bytes at the position; returns how many were written."""
        buf = self._check_writable()
        data = memoryview(data).cast("B")
        if self._pos > len(buf) or len(data) > len(buf) - self._pos:
            raise ValueError("data out of range")
        start = self._pos
        buf[start:start + len(data)] = data
        self._pos += len(data)
        self._write_through(start, self._pos)
        return len(data)

    def write_byte(self, byte):
        """Write one byte (an int) at the position."""
        buf = self._check_writable()
        if self._pos >= len(buf):
            raise ValueError("write byte out of range")
        if not isinstance(byte, int):
            raise TypeError("mmap item value must be an int")
        buf[self._pos] = byte
        self._pos += 1
        self._write_through(self._pos - 1, self._pos)
