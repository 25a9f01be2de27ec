"""Build native packages for the eryx sandbox into WASI wheels:
    python3 scripts/build_packages [--wheelhouse DIR] [NAME...]
(driven by scripts/build-packages.sh). For each recipe
(scripts/packages/NAME.toml) the wheel is built once per cache key — the
recipe's bytes, its patches, the sdist's sha256, this builder's sources, the
toolchain's fingerprint and the keys of the recipes it `requires` (built
first) — under $ERYX_BUILD_CACHE (default
~/.cache/eryx-build/), then copied into the wheelhouse (target/wheelhouse/).
A warm run only checks keys. Each build writes a log next to its wheel;
a failure names the step and that log. Prints each wheel's path on stdout.
"""

import argparse
import hashlib
import os
import shutil
import sys
import time

import cbuild
import clibs
import fetch
import mesonbuild
import pyo3build
import recipe
import wheel
from steps import Log, StepFailed
from toolchain import Toolchain

BACKENDS = {"setuptools-c": cbuild.build, "cargo-pyo3": pyo3build.build, "meson": mesonbuild.build}
HERE = os.path.dirname(os.path.abspath(__file__))


def builder_files():
    """This builder's own sources (relative path, full path), sorted."""
    found = []
    for base, dirs, files in os.walk(HERE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        found += [(os.path.relpath(os.path.join(base, f), HERE), os.path.join(base, f))
                  for f in sorted(files) if not f.endswith(".pyc")]
    return found


def cache_key(r, tc, dep_keys=()):
    h = hashlib.sha256(r["bytes"])
    h.update(r["sha256"].encode())
    for p in r["patch_files"]:
        h.update(fetch.sha256_file(p).encode())
    for rel, full in builder_files():
        h.update(rel.encode() + fetch.sha256_file(full).encode())
    if r["c-libraries"]:
        h.update(" ".join(r["c-libraries"]).encode())
        for f in clibs.project_files():
            h.update(fetch.sha256_file(f).encode())
    h.update(tc.fingerprint(r["backend"]).encode())
    for k in dep_keys:
        h.update(k.encode())
    return h.hexdigest()[:24]


def build_one(root, cache, tc, r, key_dir, deps):
    """Build r's wheel into key_dir (a fresh directory); returns the wheel path."""
    name = recipe.normalise(r["name"])
    work = os.path.join(cache, "work", name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tmp = key_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    log_path = os.path.join(cache, "logs", f"{name}.log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    log = Log(name, log_path)
    start = time.monotonic()
    try:
        tools = fetch.tools(root, cache, log)
        sdist = fetch.sdist(root, cache, r, log)
        src = fetch.unpack(sdist, os.path.join(work, "src"))
        # Subprojects first: the recipe's patches may patch them too.
        mesonbuild.lay_out_subprojects(r, src, cache, log)
        for p in r["patch_files"]:
            log.run(f"patch {os.path.basename(p)}", ["patch", "-p1", "-i", p], cwd=src)
        staged = os.path.join(work, "site")
        os.makedirs(staged)
        BACKENDS[r["backend"]](r, src, tc, tools, work, staged, log, cache, deps=deps)
        whl = wheel.write(staged, os.path.join(src, "PKG-INFO"), r["name"], r["version"], tmp)
        log.say(f"wheel {os.path.basename(whl)} ({os.path.getsize(whl)} bytes) "
                f"in {time.monotonic() - start:.1f} s")
    except StepFailed as e:
        log.close()
        raise StepFailed(f"{name}: {e}; log: {log_path}") from None
    log.close()
    shutil.copy2(log_path, os.path.join(tmp, "build.log"))
    shutil.rmtree(key_dir, ignore_errors=True)
    os.rename(tmp, key_dir)
    shutil.rmtree(work, ignore_errors=True)
    return os.path.join(key_dir, os.path.basename(whl))


def install(house, r, whl):
    """Copy a built wheel into the wheelhouse (one wheel per project); returns its path there."""
    dest = os.path.join(house, os.path.basename(whl))
    prefix = fetch.dist_name(r["name"]) + "-"
    for old in os.listdir(house):
        if old.startswith(prefix) and old.endswith(".whl") and old != os.path.basename(whl):
            os.remove(os.path.join(house, old))
    if not os.path.exists(dest) or fetch.sha256_file(dest) != fetch.sha256_file(whl):
        shutil.copy2(whl, dest + ".tmp")
        os.replace(dest + ".tmp", dest)
    return dest


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, help="repository root")
    ap.add_argument("--wheelhouse", help="output directory (default ROOT/target/wheelhouse)")
    ap.add_argument("names", nargs="*", help="recipes to build (default: all)")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    cache = os.environ.get("ERYX_BUILD_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "eryx-build")
    house = args.wheelhouse or os.path.join(root, "target", "wheelhouse")
    os.makedirs(house, exist_ok=True)
    tc = Toolchain(root)
    built = {}  # normalised name -> (wheel path in the wheelhouse, cache key)

    def ensure(n, chain=()):
        """The wheel of recipe n (and of what it requires), from the cache or built."""
        name = recipe.normalise(n)
        if name in built:
            return built[name]
        if name in chain:
            raise StepFailed(f"{name}: recipes require each other: {' -> '.join(chain + (name,))}")
        r = recipe.load(root, n)
        deps = [ensure(d, chain + (name,)) for d in r["requires"]]
        key = cache_key(r, tc, [k for _, k in deps])
        key_dir = os.path.join(cache, "wheels", name, key)
        wheels = [f for f in os.listdir(key_dir) if f.endswith(".whl")] if os.path.isdir(key_dir) else []
        whl = os.path.join(key_dir, wheels[0]) if wheels else \
            build_one(root, cache, tc, r, key_dir, [w for w, _ in deps])
        built[name] = (install(house, r, whl), key)
        return built[name]

    failed = 0
    for n in args.names or recipe.names(root):
        try:
            blocked = recipe.load(root, n).get("blocked")
            if blocked and not args.names:
                print(f"build-packages: {n}: skipped (blocked: {blocked}); build it by name",
                      file=sys.stderr)
                continue
            print(ensure(n)[0])
        except (ValueError, StepFailed) as e:
            print(f"build-packages: error: {e}", file=sys.stderr)
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
