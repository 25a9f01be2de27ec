"""Build the guest stdlib tar: CPython-for-WASI's python-stdlib.tar plus the
stdlib modules eryx adds (guest/stdlib/*.py: `mmap`, `_ctypes`), placed next
to `os.py`. Deterministic (fixed mtime, owner and mode), and the output is
only replaced when its bytes change, so the host's content hash stays put.

    python3 scripts/stdlib_tar.py SRC.tar DIR OUT.tar
"""
import io
import os
import sys
import tarfile


def main(src, extra_dir, out):
    with tarfile.open(src) as tin:
        members = tin.getmembers()
        os_py = min((m.name for m in members if m.name == "os.py" or m.name.endswith("/os.py")),
                    key=len)
        prefix = os_py[: -len("os.py")]
        extras = sorted(f for f in os.listdir(extra_dir) if f.endswith(".py"))
        added = {prefix + f for f in extras}
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tout:
            for m in members:
                if m.name in added:
                    continue
                tout.addfile(m, tin.extractfile(m) if m.isfile() else None)
            for f in extras:
                data = open(os.path.join(extra_dir, f), "rb").read()
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
