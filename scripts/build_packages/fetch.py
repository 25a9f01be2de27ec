"""Getting a recipe's sdist: pip download, sha256-pinned, cached by hash.

pip reads an sdist's metadata with its build backend; the backends it needs
(setuptools, maturin) are installed pinned from
scripts/requirements-extension-tools.txt into a tools directory of the build
cache and used with --no-build-isolation, so nothing unpinned is fetched.
"""

import hashlib
import os
import shutil
import tarfile
import zipfile

from recipe import normalise
from steps import StepFailed


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tools(root, cache, log):
    """The pinned build-backend tools directory (installed once per requirements hash)."""
    req = os.path.join(root, "scripts", "requirements-extension-tools.txt")
    d = os.path.join(cache, "tools", sha256_file(req)[:16])
    if not os.path.exists(os.path.join(d, ".done")):
        log.say("installing the pinned build tools (setuptools, maturin)")
        shutil.rmtree(d, ignore_errors=True)
        log.run("install build tools", ["python3", "-m", "pip", "install", "--quiet", "--no-deps",
                                        "--require-hashes", "--target", d, "-r", req])
        open(os.path.join(d, ".done"), "w").close()
    return d


def sdist(root, cache, r, log):
    """Path of the recipe's sdist in the cache, downloaded (and verified) if missing."""
    dl = os.path.join(cache, "sdists", r["sha256"])
    if os.path.isdir(dl):
        for f in os.listdir(dl):
            if sha256_file(os.path.join(dl, f)) == r["sha256"]:
                return os.path.join(dl, f)
    t = tools(root, cache, log)
    log.say(f"downloading {r['name']}=={r['version']} (sdist, sha256-pinned)")
    tmp = dl + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    req = os.path.join(tmp, "requirement.txt")
    with open(req, "w", encoding="utf-8") as f:
        f.write(f"{r['name']}=={r['version']} --hash=sha256:{r['sha256']}\n")
    env = dict(os.environ, PYTHONPATH=t, PATH=os.path.join(t, "bin") + os.pathsep + os.environ["PATH"])
    log.run("download sdist", ["python3", "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                               "--no-build-isolation", "--require-hashes", "-r", req, "-d", tmp], env=env)
    os.remove(req)
    found = [f for f in os.listdir(tmp) if f.endswith((".tar.gz", ".zip"))]
    if len(found) != 1 or sha256_file(os.path.join(tmp, found[0])) != r["sha256"]:
        raise StepFailed(f"step 'download sdist': pip left {found}, not the pinned sdist")
    shutil.rmtree(dl, ignore_errors=True)
    os.rename(tmp, dl)
    return os.path.join(dl, found[0])


def unpack(path, dest):
    """Unpack an sdist into dest; returns its single top directory."""
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.startswith("/") or ".." in n.split("/"):
                    raise StepFailed(f"step 'unpack': suspicious member {n!r}")
            z.extractall(dest)
    else:
        with tarfile.open(path) as t:
            t.extractall(dest, filter="data")
    entries = os.listdir(dest)
    if len(entries) != 1 or not os.path.isdir(os.path.join(dest, entries[0])):
        raise StepFailed("step 'unpack': the sdist has not exactly one top directory")
    return os.path.join(dest, entries[0])


def dist_name(name):
    """The wheel-filename form of a project name (pydantic-core -> pydantic_core)."""
    return normalise(name).replace("-", "_")
