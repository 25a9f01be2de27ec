"""The target's (wasm32-wasi CPython 3.14) sysconfig data, for meson.

meson asks the cross `python` for the target's include dir, extension suffix
and so on. The backend runs the host Python with
_PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__wasi_wasm32-wasi and the directory
written here on PYTHONPATH (the pywasi wrapper of mesonbuild.py). The file
comes from componentize-py's python-stdlib.tar; its INCLUDEPY points at
componentize-py's CI machine, so it is redirected to our CPython 3.14
headers (target/eryx-deps/include/python3.14).
"""

import os
import re
import tarfile

from steps import StepFailed

NAME = "_sysconfigdata__wasi_wasm32-wasi"


def write(stdlib_tar, includepy, out_dir):
    """Write NAME.py into out_dir with INCLUDEPY redirected."""
    with tarfile.open(stdlib_tar) as t:
        text = t.extractfile(NAME + ".py").read().decode()
    new, n = re.subn(r"('INCLUDEPY': )'[^']*'", lambda m: m.group(1) + repr(includepy), text)
    if n != 1:
        raise StepFailed(f"step 'target sysconfig': expected one INCLUDEPY entry in {NAME}.py, found {n}")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, NAME + ".py"), "w", encoding="utf-8") as f:
        f.write(new)
