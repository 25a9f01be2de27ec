"""Package recipes: scripts/packages/<name>.toml, one per native package.

A recipe pins the sdist (`version`, `sha256`) and names the build backend:
`setuptools-c` (C extensions read from setup.py), `cargo-pyo3` (a Rust/PyO3
crate linked as a WASI shared library) or `meson` (a meson-python project
cross-built with meson). Optional keys: `cflags` (extra C flags), `patches`
(files under scripts/packages/patches/, applied with `patch -p1`; each
starts with a comment saying why), `requires` (other recipes whose wheels
the build needs, built first: pandas needs numpy's headers), `c-libraries`
(crates of scripts/packages/clibs whose vendored C libraries are linked in
statically, see clibs.py; a module linking them may longjmp), `setjmp`
(true: the package's C uses setjmp/longjmp, so it compiles with clang 22
and WebAssembly SjLj, see cxx_eh.py), and the backend's table (`[cargo]`: `module`,
`python-source`, `profile`; `[meson]`: see mesonbuild.py; `[setuptools]`:
`extensions`, the only Extension names to build, `defines`, a table of
extension name -> list of "NAME" or "NAME=VALUE", and `tool-includes`,
header directories inside the pinned build tools, for what a setup.py
decides in its own build_ext). `blocked` (a string) says why a recipe that
builds does not work yet: a build of every recipe leaves it out and says
so; it is built only when named.
"""

import os
import re
import tomllib

BACKENDS = ("setuptools-c", "cargo-pyo3", "meson")
KNOWN = {"name", "version", "sha256", "backend", "summary", "cflags", "patches", "requires",
         "c-libraries", "setjmp", "blocked", "cargo", "meson", "setuptools"}


def normalise(name):
    """PEP 503 name normalisation (markupsafe == MarkupSafe, pydantic_core == pydantic-core)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def recipes_dir(root):
    return os.path.join(root, "scripts", "packages")


def names(root):
    """Every recipe's package name, sorted."""
    return sorted(f[:-5] for f in os.listdir(recipes_dir(root)) if f.endswith(".toml"))


def load(root, name):
    """The recipe for `name` as a dict, checked; raises ValueError with the reason."""
    path = os.path.join(recipes_dir(root), normalise(name) + ".toml")
    if not os.path.exists(path):
        raise ValueError(f"no recipe {os.path.relpath(path, root)} (known: {', '.join(names(root))})")
    with open(path, "rb") as f:
        data = f.read()
    r = tomllib.loads(data.decode("utf-8"))
    unknown = set(r) - KNOWN
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    for key in ("name", "version", "sha256", "backend"):
        if not isinstance(r.get(key), str):
            raise ValueError(f"{path}: `{key}` (a string) is required")
    if normalise(r["name"]) != normalise(name):
        raise ValueError(f"{path}: name {r['name']!r} does not match the file name")
    if not re.fullmatch(r"[0-9a-f]{64}", r["sha256"]):
        raise ValueError(f"{path}: sha256 must be 64 hex digits")
    if r["backend"] not in BACKENDS:
        raise ValueError(f"{path}: backend must be one of {BACKENDS}")
    r.setdefault("cflags", [])
    r.setdefault("patches", [])
    r.setdefault("requires", [])
    r.setdefault("c-libraries", [])
    r.setdefault("setjmp", False)
    if not isinstance(r["setjmp"], bool):
        raise ValueError(f"{path}: `setjmp` must be true or false")
    for dep in r["requires"]:
        if not os.path.exists(os.path.join(recipes_dir(root), normalise(dep) + ".toml")):
            raise ValueError(f"{path}: requires {dep!r}, which has no recipe")
    r["patch_files"] = [os.path.join(recipes_dir(root), "patches", p) for p in r["patches"]]
    for p in r["patch_files"]:
        if not os.path.exists(p):
            raise ValueError(f"{path}: patch {p} not found")
    r["path"] = path
    r["bytes"] = data
    return r
