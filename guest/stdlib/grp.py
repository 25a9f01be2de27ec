"""The group database, for the eryx sandbox: one group per user of
_eryx_users, with no other members. Same API as CPython's grp module on
Linux."""

import _eryx_users as _u

__all__ = ["getgrall", "getgrgid", "getgrnam", "struct_group"]

struct_group = _u.record_type("grp", "struct_group", ("gr_name", "gr_passwd", "gr_gid", "gr_mem"))


def getgrall():
    """Return a list of all available group database entries."""
    return [struct_group((n, "x", i, [])) for n, i, _, _ in _u.USERS]


def getgrgid(id, /):
    """Return the group database entry for the given numeric group ID."""
    id = _u.check_int("getgrgid", id)
    _u.check_range("gid", id)
    return _u.find(getgrall(), "gr_gid", id, f"getgrgid(): gid not found: {id}")


def getgrnam(name, /):
    """Return the group database entry for the given group name."""
    name = _u.check_str("getgrnam", name)
    return _u.find(getgrall(), "gr_name", name, f"getgrnam(): name not found: {name!r}")
