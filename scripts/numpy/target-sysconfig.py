#!/usr/bin/env python3
"""Write the target (wasm32-wasi CPython 3.14) sysconfig data for meson.

numpy's meson build asks the cross `python` for the target's include dir,
extension suffix etc. We run the host Python with
_PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__wasi_wasm32-wasi and this file on
PYTHONPATH (see the pywasi wrapper written by scripts/build-numpy.sh). The file
comes from componentize-py's python-stdlib.tar; its INCLUDEPY points at
componentize-py's CI machine, so it is redirected to our CPython 3.14
headers (target/eryx-deps/include/python3.14).
usage: target-sysconfig.py STDLIB_TAR INCLUDEPY OUT_DIR
"""
import os
import re
import sys
import tarfile

tar_path, includepy, out_dir = sys.argv[1:4]
name = "_sysconfigdata__wasi_wasm32-wasi.py"
with tarfile.open(tar_path) as t:
    text = t.extractfile(name).read().decode()
new, n = re.subn(r"('INCLUDEPY': )'[^']*'", lambda m: m.group(1) + repr(includepy), text)
if n != 1:
    sys.exit(f"target-sysconfig: expected one INCLUDEPY entry in {name}, found {n}")
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, name), "w") as f:
    f.write(new)
