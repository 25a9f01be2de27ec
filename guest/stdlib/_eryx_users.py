"""The sandbox's users and groups, for the pwd and grp modules eryx adds
(WASI's CPython has neither: there is no /etc/passwd to read).

The code runs as ``user``, uid and gid 1000 (``os.getuid()``), home
``/home/user`` (the sandbox's ``HOME``). ``root`` (0) is there too, as on
every POSIX system: WASI has no file owners and reports 0 as every file's
``st_uid``, so archives and ``ls -l``-style code name them ``root``.
"""

# (name, uid = gid, home, shell)
USERS = (
    ("root", 0, "/root", "/bin/sh"),
    ("user", 1000, "/home/user", "/bin/sh"),
)


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


def check_str(what, value):
    if not isinstance(value, str):
        raise TypeError(f"{what}() argument must be str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError("embedded null character")
    import os

    os.fsencode(value)  # UnicodeEncodeError for what no name can be
    return value
