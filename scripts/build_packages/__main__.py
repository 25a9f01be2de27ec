"""Build native packages for the eryx sandbox into WASI wheels:
    python3 scripts/build_packages [--wheelhouse DIR] [NAME...]
(driven by scripts/build-packages.sh). For each recipe
(scripts/packages/NAME.toml) the wheel is built once per cache key — the
recipe's bytes, its patches, the sdist's sha256, this builder's sources and
the toolchain's fingerprint — under $ERYX_BUILD_CACHE (default
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
import fetch
import pyo3build
import recipe
import wheel
from steps import Log, StepFailed
from toolchain import Toolchain

BACKENDS = {"setuptools-c": cbuild.build, "cargo-pyo3": pyo3build.build}
HERE = os.path.dirname(os.path.abspath(__file__))


def cache_key(r, tc):
    h = hashlib.sha256(r["bytes"])
    h.update(r["sha256"].encode())
    for p in r["patch_files"]:
        h.update(fetch.sha256_file(p).encode())
    for f in sorted(os.listdir(HERE)):
        if f.endswith((".py", ".c")):
            h.update(f.encode() + fetch.sha256_file(os.path.join(HERE, f)).encode())
    h.update(tc.fingerprint(r["backend"]).encode())
    return h.hexdigest()[:24]


def build_one(root, cache, tc, r, key_dir):
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
        for p in r["patch_files"]:
            log.run(f"patch {os.path.basename(p)}", ["patch", "-p1", "-i", p], cwd=src)
        staged = os.path.join(work, "site")
        os.makedirs(staged)
        BACKENDS[r["backend"]](r, src, tc, tools, work, staged, log, cache)
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
    failed = 0
    for n in args.names or recipe.names(root):
        try:
            r = recipe.load(root, n)
        except ValueError as e:
            print(f"build-packages: error: {e}", file=sys.stderr)
            failed += 1
            continue
        name = recipe.normalise(r["name"])
        key_dir = os.path.join(cache, "wheels", name, cache_key(r, tc))
        wheels = [f for f in os.listdir(key_dir) if f.endswith(".whl")] if os.path.isdir(key_dir) else []
        try:
            whl = os.path.join(key_dir, wheels[0]) if wheels else build_one(root, cache, tc, r, key_dir)
        except StepFailed as e:
            print(f"build-packages: error: {e}", file=sys.stderr)
            failed += 1
            continue
        dest = os.path.join(house, os.path.basename(whl))
        # One wheel per project in the wheelhouse: drop other versions/builds.
        prefix = fetch.dist_name(r["name"]) + "-"
        for old in os.listdir(house):
            if old.startswith(prefix) and old.endswith(".whl") and old != os.path.basename(whl):
                os.remove(os.path.join(house, old))
        if not os.path.exists(dest) or fetch.sha256_file(dest) != fetch.sha256_file(whl):
            shutil.copy2(whl, dest + ".tmp")
            os.replace(dest + ".tmp", dest)
        print(dest)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
