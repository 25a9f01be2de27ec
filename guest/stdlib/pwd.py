"""The password database, for the eryx sandbox: root and the sandbox's
user (see _eryx_users). Same API as CPython's pwd module on Linux."""

import _eryx_users as _u

__all__ = ["getpwall", "getpwnam", "getpwuid", "struct_passwd"]

struct_passwd = _u.record_type(
    "pwd",
    "struct_passwd",
    ("pw_name", "pw_passwd", "pw_uid", "pw_gid", "pw_gecos", "pw_dir", "pw_shell"),
)


def getpwall():
    """Return a list of all available password database entries."""
    return [struct_passwd((n, "x", i, i, n, home, shell)) for n, i, home, shell in _u.USERS]


def getpwuid(uid, /):
    """Return the password database entry for the given numeric user ID."""
    uid = _u.check_int("getpwuid", uid)
    return _u.find(getpwall(), "pw_uid", uid, f"getpwuid(): uid not found: {uid}")


def getpwnam(name, /):
    """Return the password database entry for the given user name."""
    name = _u.check_str("getpwnam", name)
    return _u.find(getpwall(), "pw_name", name, f"getpwnam(): name not found: {name!r}")
