"""Make the guest's sysconfig CONFIG_ARGS whole (it is cut mid-quote).

componentize-py's CPython-for-WASI build (its build.rs) passes
`--build=` + the raw output of `config.guess`, newline included, to
`configure`. The Makefile's `CONFIG_ARGS = ...` line therefore ends after
`'--build=x86_64-pc-linux-gnu`, and the sysconfig data generated from the
Makefile (`_sysconfigdata__wasi_wasm32-wasi.py` in python-stdlib.tar) keeps
only that first line: `"'-C' '--host=wasm32-unknown-wasip2'
'--build=x86_64-pc-linux-gnu"`, so `shlex.split()` of it raises
`ValueError: No closing quotation` (CPython's `test.support` does that at
import). The words after the newline are not in the wheel, so the value is
made whole by closing the quote: every word it then has is one the build
passed. Other values are left as CPython generates them (multi-line Makefile
values end in a backslash there as on every platform).

Idempotent and cheap: a tar whose CONFIG_ARGS is whole is left untouched.
Usage: fix_sysconfigdata.py STDLIB_TAR
"""

import io
import os
import re
import shlex
import sys
import tarfile


def whole(value):
    """`value` as shell words, or None when it is not."""
    try:
        return shlex.split(value)
    except ValueError:
        return None


def main(tar_path):
    with tarfile.open(tar_path) as tar:
        members = tar.getmembers()
        data = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
    names = [n for n in data if re.search(r"(^|/)_sysconfigdata__wasi_[^/]*\.py$", n)]
    if len(names) != 1:
        raise SystemExit(f"fix_sysconfigdata: expected one _sysconfigdata__wasi_*.py in {tar_path}, found {names}")
    name = names[0]
    scope = {}
    exec(compile(data[name].decode(), name, "exec"), scope)  # the build's data file: one dict literal
    if set(scope) - {"__builtins__"} != {"build_time_vars"}:
        raise SystemExit(f"fix_sysconfigdata: {name} defines more than build_time_vars")
    build_vars = scope["build_time_vars"]
    args = build_vars.get("CONFIG_ARGS", "")
    if whole(args) is not None:
        return
    fixed = args + "'"
    if not args.endswith("'--build=x86_64-pc-linux-gnu") or whole(fixed) is None:
        raise SystemExit(f"fix_sysconfigdata: CONFIG_ARGS is cut in an unknown way: {args!r}")
    print(f"fix_sysconfigdata: CONFIG_ARGS {args!r} -> {fixed!r}", file=sys.stderr)
    source = data[name].decode()
    line = f"'CONFIG_ARGS': {args!r},"
    if source.count(line) != 1:
        raise SystemExit(f"fix_sysconfigdata: no single `{line}` line in {name}")
    data[name] = source.replace(line, f"'CONFIG_ARGS': {fixed!r},").encode()
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
