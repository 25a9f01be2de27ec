"""The sandbox's user and group, for what WASI's CPython leaves out:
``os.getuid`` and kin, ``os.chown``, and the pwd and grp modules eryx adds
(there is no /etc/passwd to read). platformdirs, virtualenv, getpass,
tarfile and pytest use them.

WASI has no file owners: every file's ``st_uid`` and ``st_gid`` is 0. The
code runs as that owner, uid and gid 0 (``root``), so ownership checks
agree (pytest's temporary directories, pip's cache, platformdirs), with
the sandbox's home ``/home/user`` as its home directory. ``os.chown``
(and ``lchown``, ``fchown``) checks its arguments and the file, succeeds
as it does for root, and records nothing: the files cannot hold an owner
(as in Emscripten's file systems). tarfile, run as root, chowns every
member it extracts before restoring its times.
"""

import os
import posix

# (name, uid = gid, home, shell)
USERS = (("root", 0, "/home/user", "/bin/sh"),)


def _posix(f, name, doc):
    """``f`` named and documented as the posix function ``name``."""
    f.__name__ = f.__qualname__ = name
    f.__module__ = "posix"
    f.__doc__ = doc
    return f


def _constant(name, value, doc):
    def f():
        return list(value) if isinstance(value, list) else value

    return _posix(f, name, doc)


def _chown_like(name, stat, doc):
    def f(path, uid, gid, *args, **kwargs):
        uid, gid = check_int(name, uid), check_int(name, gid)
        stat(path, *args, **kwargs)  # FileNotFoundError and kin, as chown
        check_range("uid", uid)
        check_range("gid", gid)

    return _posix(f, name, doc)


def install():
    """Add what is missing to os (and posix): the ids and chown."""
    funcs = [
        _constant("getuid", 0, "Return the current process's user id."),
        _constant("geteuid", 0, "Return the current process's effective user id."),
        _constant("getgid", 0, "Return the current process's group id."),
        _constant("getegid", 0, "Return the current process's effective group id."),
        _constant("getgroups", [0], "Return list of supplemental group IDs for the process."),
        _chown_like("chown", os.stat, "Change the owner and group id of path to the numeric uid and gid."),
        _chown_like("lchown", os.lstat, "Change the owner and group id of path, not following symbolic links."),
        _chown_like("fchown", lambda fd: os.fstat(fd), "Change the owner and group id of the file given by fd."),
    ]
    for f in funcs:
        if not hasattr(posix, f.__name__):
            setattr(posix, f.__name__, f)
            setattr(os, f.__name__, f)


class Record(tuple):
    """A tuple whose items are also attributes, like CPython's struct
    sequences (``pwd.struct_passwd``, ``grp.struct_group``)."""

    _fields = ()
    n_fields = n_sequence_fields = 0
    n_unnamed_fields = 0

    def __new__(cls, seq):
        seq = tuple(seq)
        if len(seq) != len(cls._fields):
            raise TypeError(
                f"{cls.__module__}.{cls.__name__}() takes a {len(cls._fields)}-sequence "
                f"({len(seq)}-sequence given)"
            )
        return super().__new__(cls, seq)

    def __getattr__(self, name):
        try:
            return self[type(self)._fields.index(name)]
        except ValueError:
            raise AttributeError(
                f"{type(self).__module__}.{type(self).__name__!s} object has no attribute {name!r}"
            ) from None

    def __repr__(self):
        items = ", ".join(f"{k}={v!r}" for k, v in zip(type(self)._fields, self))
        return f"{type(self).__module__}.{type(self).__name__}({items})"

    def __reduce__(self):
        return (type(self), (tuple(self),))


def record_type(module, name, fields):
    """A Record subclass named ``module.name`` with these fields."""
    return type(
        name,
        (Record,),
        {
            "__module__": module,
            "__slots__": (),
            "_fields": tuple(fields),
            "n_fields": len(fields),
            "n_sequence_fields": len(fields),
        },
    )


def check_int(what, value):
    """Coerce an id argument as CPython does (TypeError for non-integers)."""
    import operator

    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what}() argument must be int, not {type(value).__name__}") from None


def check_range(what, value):
    """OverflowError for a ``uid``/``gid`` outside uid_t (-1 allowed), as
    CPython's converters."""
    if value < -1:
        raise OverflowError(f"{what} is less than minimum")
    if value > 0xFFFFFFFF:
        raise OverflowError(f"{what} is greater than maximum")


def find(entries, field, value, missing):
    """The entry whose ``field`` is ``value``; KeyError(``missing``) when none."""
    for e in entries:
        if getattr(e, field) == value:
            return e
    raise KeyError(missing)


def check_str(what, value):
    if not isinstance(value, str):
        raise TypeError(f"{what}() argument must be str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError("embedded null character")
    os.fsencode(value)  # UnicodeEncodeError for what no name can be
    return value
