"""The files API of a sandbox: ``sb.files``.

Files go into and come out of the sandbox's own (virtual) filesystem
without a host mount: the guest sees them as ordinary files (``/tmp``, the
home directory ``/home/user``, ...), they count against the sandbox's file
caps like the guest's own writes, and they are part of ``snapshot()``.
Paths are guest paths; relative ones are from ``/home/user``. ``..``, a
path under a host mount, a symlink as the last component, or a file past
the caps raise ``eryx.FileError`` (a ``SandboxError``) and change nothing.
Each call waits for a running call of the same sandbox to end.
"""

from . import _eryx


class FileInfo:
    """One entry of ``Files.list``: ``name``, ``path`` (absolute), ``kind``
    (``"file"``, ``"directory"`` or ``"symlink"``) and ``size`` in bytes."""

    __slots__ = ("name", "path", "kind", "size")

    def __init__(self, name, path, kind, size):
        self.name = name
        self.path = path
        self.kind = kind
        self.size = size

    def __repr__(self):
        return "FileInfo(path=%r, kind=%r, size=%d)" % (self.path, self.kind, self.size)

    def __eq__(self, other):
        if not isinstance(other, FileInfo):
            return NotImplemented
        return (self.name, self.path, self.kind, self.size) == (
            other.name,
            other.path,
            other.kind,
            other.size,
        )


class Files:
    """The files of one sandbox (``sb.files``)."""

    __slots__ = ("_sandbox",)

    def __init__(self, sandbox):
        self._sandbox = sandbox

    def write(self, path, data):
        """Create or replace the file at ``path`` with ``data`` (bytes-like,
        or ``str`` written as UTF-8). Missing directories are made below
        ``/tmp`` and ``/home/user``."""
        _eryx._files_write(self._sandbox, path, data)

    def read(self, path):
        """The bytes of the file at ``path``."""
        return _eryx._files_read(self._sandbox, path)

    def list(self, dir="/home/user", *, recursive=False):
        """The entries of directory ``dir`` by name, or with ``recursive``
        every regular file below it by path."""
        return [FileInfo(*e) for e in _eryx._files_list(self._sandbox, dir, recursive)]

    def remove(self, path):
        """Remove the file, symlink or empty directory at ``path``."""
        _eryx._files_remove(self._sandbox, path)
