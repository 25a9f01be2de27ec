"""Getting a recipe's sdist (from the package index pip uses, found by its
pinned sha256, cached by hash) and the pinned build-backend tools
(setuptools, maturin: scripts/requirements-extension-tools.txt, installed
into a tools directory of the build cache; setuptools also reads setup.py
files' Extension lists).
"""

import hashlib
import json
import os
import shutil
import tarfile
import urllib.request
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


def index_files(name):
    """The files PyPI's simple index (PEP 691 JSON, what pip reads) lists for a project."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    req = urllib.request.Request(f"{index}/{normalise(name)}/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.load(resp)["files"]


def sdist(root, cache, r, log):
    """Path of the recipe's sdist in the cache, downloaded (and verified) if missing.

    The file is found in the package index by its pinned sha256 and checked
    after the download; no build backend runs (pip download would run meson
    or setup.py on the host just to read the metadata)."""
    dl = os.path.join(cache, "sdists", r["sha256"])
    if os.path.isdir(dl):
        for f in os.listdir(dl):
            if sha256_file(os.path.join(dl, f)) == r["sha256"]:
                return os.path.join(dl, f)
    log.say(f"downloading {r['name']}=={r['version']} (sdist, sha256-pinned)")
    return download(r["name"], r["version"], r["sha256"], dl, log.note)


def download(name, version, sha256, dest, note=lambda msg: None):
    """Download the sdist of name==version whose sha256 is pinned into the
    directory dest (made afresh); returns its path. StepFailed on any failure."""
    try:
        files = index_files(name)
    except (OSError, ValueError, KeyError) as e:
        raise StepFailed(f"step 'download sdist': reading the package index failed: {e}") from None
    found = [f for f in files if f.get("hashes", {}).get("sha256") == sha256]
    if not found or not found[0]["filename"].endswith((".tar.gz", ".zip")):
        raise StepFailed(f"step 'download sdist': no sdist with sha256 {sha256} in the index "
                         f"for {name} (is the version {version} right?)")
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    path = os.path.join(tmp, os.path.basename(found[0]["filename"]))
    note(f"GET {found[0]['url']}")
    get_verified(found[0]["url"], path, sha256, "download sdist")
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    return os.path.join(dest, os.path.basename(path))


def crate(cache, name, version, sha256, log):
    """The .crate file of name==version from crates.io (static.crates.io,
    what cargo downloads), sha256-pinned and cached; returns its path. Used
    for C sources a crate vendors when its build script cannot be used."""
    d = os.path.join(cache, "crates", sha256[:24])
    path = os.path.join(d, f"{name}-{version}.crate")
    if os.path.exists(path) and sha256_file(path) == sha256:
        return path
    log.say(f"downloading crate {name} {version} (sha256-pinned)")
    os.makedirs(d, exist_ok=True)
    get_verified(f"https://static.crates.io/crates/{name}/{name}-{version}.crate", path, sha256,
                 f"download crate {name}")
    return path


def get_verified(url, path, sha256, step):
    """Download url into path (through path.tmp), which must have the pinned
    sha256; StepFailed naming `step` on any failure."""
    try:
        with urllib.request.urlopen(url, timeout=300) as resp, open(path + ".tmp", "wb") as out:
            shutil.copyfileobj(resp, out)
    except OSError as e:
        raise StepFailed(f"step '{step}': {e}") from None
    if sha256_file(path + ".tmp") != sha256:
        raise StepFailed(f"step '{step}': {url} does not have the pinned sha256")
    os.replace(path + ".tmp", path)


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
