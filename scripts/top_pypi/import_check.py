"""Runs inside the sandbox: import every top-level module of one distribution.

Used by scripts/top-pypi-check.sh. argv[1] is the distribution's name as
pip knows it. The modules come from the installed metadata (top_level.txt,
else the roots of RECORD), as `--with`'s pre-import picks them. Prints one
JSON object on the last line: {"modules": [...], "failed": {module: error}}.
"""

import importlib
import importlib.metadata
import json
import sys
import traceback


def top_level(dist):
    text = dist.read_text("top_level.txt")
    if text:
        names = [n.strip() for n in text.splitlines() if n.strip()]
    else:
        names = []
        for f in dist.files or ():
            root = f.parts[0]
            if root.endswith((".dist-info", ".data")) or root == "..":
                continue
            if len(f.parts) == 1:
                if root.endswith(".py"):
                    root = root[:-3]
                elif root.endswith(".so"):
                    root = root.split(".")[0]  # an extension module
                else:
                    continue
            names.append(root)
    keep = []
    for n in names:
        n = n.replace("/", ".")
        if n.startswith("_") or n in ("tests", "test", "docs", "examples"):
            continue
        if n not in keep:
            keep.append(n)
    return sorted(keep)


def main():
    dist = importlib.metadata.distribution(sys.argv[1])
    modules = top_level(dist)
    failed = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as e:  # noqa: BLE001 - the report names any failure
            last = traceback.extract_tb(e.__traceback__)[-1:]
            where = f" ({last[0].filename}:{last[0].lineno})" if last else ""
            failed[name] = f"{type(e).__name__}: {e}{where}"
    print(json.dumps({"version": dist.version, "modules": modules, "failed": failed}))


main()
