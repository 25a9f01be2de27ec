"""Run inside an unpacked sdist: execute its setup.py with setup() replaced
by a recorder, and write the Extension list and Python packages as JSON.

Usage: python3 setup_recorder.py TOOLS_DIR OUT.json (cwd = the sdist).
TOOLS_DIR holds the pinned setuptools.
"""

import json
import sys

sys.path.insert(0, sys.argv[1])
out = sys.argv[2]
import distutils.core  # noqa: E402  (after the pinned setuptools is on the path)

import setuptools  # noqa: E402

seen = {}


def record(**kw):
    if not seen:
        seen.update(kw)


setuptools.setup = record
distutils.core.setup = record
sys.argv = ["setup.py", "build_ext"]
code = compile(open("setup.py", encoding="utf-8").read(), "setup.py", "exec")
exec(code, {"__name__": "__main__", "__file__": "setup.py"})


def ext(e):
    fields = ("sources", "include_dirs", "define_macros", "undef_macros", "extra_compile_args", "libraries")
    return {k: list(getattr(e, k, None) or []) for k in fields} | {"name": e.name}


with open(out, "w") as f:
    json.dump({
        "ext_modules": [ext(e) for e in seen.get("ext_modules") or []],
        "packages": list(seen.get("packages") or []),
        "package_dir": dict(seen.get("package_dir") or {}),
        "py_modules": list(seen.get("py_modules") or []),
        # build_clib libraries (name, {"sources": ...}): linked into every extension.
        "libraries": [[name, {"sources": list(info.get("sources") or []),
                              "include_dirs": list(info.get("include_dirs") or []),
                              "macros": [list(m) for m in info.get("macros") or []]}]
                      for name, info in seen.get("libraries") or []],
    }, f)
