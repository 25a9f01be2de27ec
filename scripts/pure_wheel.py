"""Build a py3-none-any wheel from an sdist's Python sources only (for
packages whose C extension is an optional speedup): every top-level
package named in the sdist's *.egg-info/top_level.txt is taken from the
directory holding it (the sdist root, src/ or lib/), without .c/.pyx/.so
files; METADATA is the sdist's PKG-INFO. Usage: pure_wheel.py SDIST OUTDIR"""
import base64
import hashlib
import sys
import tarfile
import zipfile
from pathlib import PurePosixPath

SKIP = (".c", ".h", ".pyx", ".pxd", ".so", ".pyc")


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def main(sdist, outdir):
    with tarfile.open(sdist) as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        read = lambda n: tar.extractfile(members[n]).read()
        root = next(iter(members)).split("/")[0]
        pkg_info = read(f"{root}/PKG-INFO")
        meta = dict(
            line.split(": ", 1) for line in pkg_info.decode().splitlines()[:20] if ": " in line
        )
        name, version = meta["Name"], meta["Version"]
        dist = name.replace("-", "_").lower()
        tops = next(n for n in members if n.endswith(".egg-info/top_level.txt"))
        base = str(PurePosixPath(tops).parent.parent)
        top_level = [t for t in read(tops).decode().split() if t]
        files = {}
        for n in members:
            rel = n[len(base) + 1 :] if n.startswith(base + "/") else None
            if rel and rel.split("/")[0] in top_level and "/" in rel and not rel.endswith(SKIP):
                files[rel] = read(n)
        info = f"{dist}-{version}.dist-info"
        files[f"{info}/METADATA"] = pkg_info
        files[f"{info}/WHEEL"] = (
            b"Wheel-Version: 1.0\nGenerator: eryx pure_wheel.py\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n"
        )
        files[f"{info}/top_level.txt"] = ("\n".join(top_level) + "\n").encode()
        record = [record_line(k, v) for k, v in sorted(files.items())]
        files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    out = f"{outdir}/{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for k in sorted(files):
            z.writestr(zipfile.ZipInfo(k, (2020, 1, 1, 0, 0, 0)), files[k], zipfile.ZIP_DEFLATED)
    print(out)


main(*sys.argv[1:])
