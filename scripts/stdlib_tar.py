"""Build the guest stdlib tar: CPython-for-WASI's python-stdlib.tar plus the
stdlib modules eryx adds (guest/stdlib/*.py: `mmap`, `_ctypes`), placed next
to `os.py`, and each package TREE given (a directory, e.g. the pinned
tzdata package, added whole under its name). Deterministic (fixed mtime, owner and mode), and the output is
only replaced when its bytes change, so the host's content hash stays put.

    python3 scripts/stdlib_tar.py SRC.tar DIR OUT.tar [TREE ...]
"""
import io
import os
import sys
import tarfile


def tree_files(tree):
    """(name inside the tar without prefix, path) of every file under TREE."""
    base = os.path.dirname(os.path.abspath(tree))
    out = []
    for root, dirs, files in os.walk(tree):
        dirs.sort()
        for f in sorted(files):
            path = os.path.join(root, f)
            out.append((os.path.relpath(path, base).replace(os.sep, "/"), path))
    return out


def main(src, extra_dir, out, *trees):
    with tarfile.open(src) as tin:
        members = tin.getmembers()
        os_py = min((m.name for m in members if m.name == "os.py" or m.name.endswith("/os.py")),
                    key=len)
        prefix = os_py[: -len("os.py")]
        extras = [(f, os.path.join(extra_dir, f))
                  for f in sorted(os.listdir(extra_dir)) if f.endswith(".py")]
        for t in trees:
            extras += tree_files(t)
        added = {prefix + f for f, _ in extras}
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tout:
            for m in members:
                if m.name in added:
                    continue
                tout.addfile(m, tin.extractfile(m) if m.isfile() else None)
            for f, path in extras:
                data = open(path, "rb").read()
                info = tarfile.TarInfo(prefix + f)
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                tout.addfile(info, io.BytesIO(data))
    data = buf.getvalue()
    if os.path.exists(out) and open(out, "rb").read() == data:
        return
    with open(out + ".tmp", "wb") as f:
        f.write(data)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main(*sys.argv[1:])
