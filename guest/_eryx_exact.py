"""Exact sessions, guest side (the host side is host/src/exact/).

A fork or an exact restore writes another instance's linear memory into a
fresh instance: every Python object comes back as it was, but the WASI
handles libc held belong to the other store. The runtime's
``exact-forget`` export makes libc forget them; this module then gives the
open regular files of the virtual tree their descriptors back:

- ``record()`` runs in the source instance just before its memory is
  copied: it lists the open regular files (descriptor number, path in the
  virtual tree, open flags, offset). The list lives in this module, so it
  travels with the memory.
- ``reattach()`` runs in the new instance after ``exact-forget``: it
  re-opens each path with the same flags, moves the descriptor to its old
  number and seeks to the old offset. A file that cannot be re-opened
  (removed, unlinked while open, on a host mount) keeps a number libc no
  longer knows: using it fails with ``EBADF``.
"""

import os

import eryx

# (fd, path, flags, offset) of the open files, set by record().
_records = []
# How many of them the last reattach() re-opened.
reattached = 0

# Highest descriptor number probed, and how many free numbers in a row end
# the scan (libc hands out the lowest free number).
_MAX_FD = 4096
_GAP = 64

# Flags that must not be repeated when re-opening.
_NOT_AGAIN = os.O_CREAT | os.O_EXCL | os.O_TRUNC


def _open_files():
    """(fd, st_ino, st_dev, flags, offset) of every open regular file (the
    probe is in C: eryx._open_files)."""
    return eryx._open_files(_MAX_FD, _GAP)


def _paths(wanted):
    """{(st_ino, st_dev): path} for the wanted nodes of the virtual tree
    (host mounts, on another device, are not walked)."""
    out = {}
    root_dev = os.stat("/").st_dev
    for top, dirs, files in os.walk("/"):
        keep = []
        for d in dirs:
            try:
                if os.lstat(os.path.join(top, d)).st_dev == root_dev:
                    keep.append(d)
            except OSError:
                pass
        dirs[:] = keep
        for f in files:
            p = os.path.join(top, f)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            key = (st.st_ino, st.st_dev)
            if key in wanted and key not in out:
                out[key] = p
        if len(out) == len(wanted):
            break
    return out


def record():
    """List the open regular files (see the module's doc); returns how
    many (the host skips ``reattach`` when there are none)."""
    global _records
    files = _open_files()
    paths = _paths({(ino, dev) for _, ino, dev, _, _ in files}) if files else {}
    _records = [
        (fd, paths[(ino, dev)], flags, offset)
        for fd, ino, dev, flags, offset in files
        if (ino, dev) in paths
    ]
    return len(_records)


def reattach():
    """Give the recorded files their descriptors back (see the module's doc);
    ``reattached`` says how many were re-opened. Returns None (the host runs
    it as a statement whose value must not be displayed)."""
    global reattached
    done = 0
    for fd, path, flags, offset in sorted(_records):
        try:
            new = os.open(path, flags & ~_NOT_AGAIN)
        except OSError:
            continue
        try:
            if new != fd:
                eryx._fd_renumber(new, fd)
            os.lseek(fd, offset, os.SEEK_SET)
            done += 1
        except OSError:
            try:
                os.close(new)
            except OSError:
                pass
    reattached = done
