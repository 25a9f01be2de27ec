"""Writing a WASI wheel (`<dist>-<version>-cp314-cp314-wasi_0_0_0_wasm32.whl`)
from a staged site-packages tree: the files, plus a .dist-info holding the
sdist's METADATA, a WHEEL file and a RECORD with every file's sha256.
Entries are sorted and stamped with a fixed date, so equal inputs give
byte-identical wheels.
"""

import base64
import hashlib
import os
import zipfile

from fetch import dist_name
from toolchain import WHEEL_TAG

FIXED_DATE = (2020, 1, 1, 0, 0, 0)


def _digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write(staged, metadata, name, version, out_dir):
    """Pack `staged` into a wheel in out_dir; returns its path."""
    dist = f"{dist_name(name)}-{version}"
    info = f"{dist}.dist-info"
    files = {}
    for base, dirs, names in os.walk(staged):
        dirs.sort()
        for n in sorted(names):
            full = os.path.join(base, n)
            rel = os.path.relpath(full, staged).replace(os.sep, "/")
            with open(full, "rb") as f:
                files[rel] = f.read()
    with open(metadata, "rb") as f:
        files[f"{info}/METADATA"] = f.read()
    files[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: eryx build-packages\nRoot-Is-Purelib: false\n"
        f"Tag: {WHEEL_TAG}\n"
    ).encode()
    record = "".join(f"{rel},{_digest(data)},{len(data)}\n" for rel, data in sorted(files.items()))
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = os.path.join(out_dir, f"{dist}-{WHEEL_TAG}.whl")
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for rel in sorted(files):
            zi = zipfile.ZipInfo(rel, FIXED_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, files[rel])
    os.replace(tmp, path)
    return path
