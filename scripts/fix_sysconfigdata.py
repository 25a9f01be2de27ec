"""Make the guest's sysconfig data whole: values cut mid-quote by the build.

componentize-py's CPython-for-WASI build ships `_sysconfigdata__wasi_*.py`
(in python-stdlib.tar) whose `CONFIG_ARGS` ends inside a quoted argument,
so `shlex.split(sysconfig.get_config_var('CONFIG_ARGS'))` raises
`ValueError: No closing quotation` (CPython's own `test.support` does that at
import). The build's Makefile in the same tar (`config-3.14-*/Makefile`)
holds the same variables; every value that is not valid shell words is
replaced by the Makefile's when that one is whole, else its dangling quote is
closed (the words it has are the build's own). Nothing else changes.

Idempotent and cheap: a tar whose values are all whole is left untouched.
Usage: fix_sysconfigdata.py STDLIB_TAR
"""

import io
import os
import pprint
import re
import shlex
import sys
import tarfile


def broken(value):
    """Whether `value` is not a valid list of shell words."""
    try:
        shlex.split(value)
        return False
    except ValueError:
        return True


def makefile_vars(text):
    """NAME=value lines of a Makefile (continuations joined)."""
    out = {}
    for line in text.replace("\\\n", " ").split("\n"):
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def whole(name, value, makefile):
    """The repaired value of a variable."""
    candidate = makefile.get(name)
    if candidate is not None and not broken(candidate) and candidate.startswith(value.rstrip()[:40]):
        return candidate
    # Close the dangling quote: the words it has stay exactly as built.
    for closing in ("'", '"', "'\"", "\"'"):
        if not broken(value + closing):
            return value + closing
    raise SystemExit(f"fix_sysconfigdata: cannot make {name} whole: {value!r}")


def main(tar_path):
    with tarfile.open(tar_path) as tar:
        members = tar.getmembers()
        data = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
    names = [n for n in data if re.search(r"(^|/)_sysconfigdata__wasi_[^/]*\.py$", n)]
    if len(names) != 1:
        raise SystemExit(f"fix_sysconfigdata: expected one _sysconfigdata__wasi_*.py in {tar_path}, found {names}")
    name = names[0]
    source = data[name].decode()
    scope = {}
    exec(compile(source, name, "exec"), scope)  # the build's own data file: a dict literal
    build_vars = scope["build_time_vars"]
    makefiles = [n for n in data if re.search(r"(^|/)config-3\.\d+[^/]*/Makefile$", n)]
    makefile = makefile_vars(data[makefiles[0]].decode(errors="replace")) if makefiles else {}
    fixes = {k: whole(k, v, makefile) for k, v in build_vars.items() if isinstance(v, str) and broken(v)}
    if not fixes:
        return
    if set(scope) - {"__builtins__"} != {"build_time_vars"}:
        raise SystemExit(f"fix_sysconfigdata: {name} defines more than build_time_vars")
    for key, value in fixes.items():
        print(f"fix_sysconfigdata: {key}: {build_vars[key]!r} -> {value!r}", file=sys.stderr)
    build_vars.update(fixes)
    # As CPython writes the file (sysconfig's _generate_posix_vars).
    source = (
        "# system configuration generated and used by the sysconfig module\n"
        f"build_time_vars = {pprint.pformat(build_vars)}\n"
    )
    data[name] = source.encode()
    tmp = tar_path + ".tmp"
    with tarfile.open(tmp, "w") as out:
        for m in members:
            if m.isfile():
                m.size = len(data[m.name])
                out.addfile(m, io.BytesIO(data[m.name]))
            else:
                out.addfile(m)
    os.replace(tmp, tar_path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
