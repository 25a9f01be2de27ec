"""Unpack a wheel into BASE/<project>/ (a site-packages style directory),
unless the copy there came from the same wheel (a stamp holds its sha256).
Usage: python3 unpack_wheel.py WHEEL BASE; prints the directory.
"""

import hashlib
import os
import shutil
import sys
import zipfile

whl, base = sys.argv[1], sys.argv[2]
project = os.path.basename(whl).split("-")[0].replace("_", "-").lower()
out = os.path.join(base, project)
stamp = os.path.join(base, f".{project}.stamp")
with open(whl, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
if not (os.path.isdir(out) and os.path.exists(stamp) and open(stamp).read().strip() == digest):
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(whl) as z:
        for n in z.namelist():
            if n.startswith("/") or ".." in n.split("/"):
                sys.exit(f"unpack_wheel: suspicious member {n!r} in {whl}")
        z.extractall(tmp)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    with open(stamp, "w") as f:
        f.write(digest + "\n")
print(out)
