"""Run once by `eryx mcp` in a throw-away sandbox to learn what the tool
descriptions tell the model: the Python version and what is importable from
the packages directory (`--with`, `--package`): each installed distribution
as "name version (import a, b)", then loose top-level modules. Prints one
JSON line."""
import json
import os
import sys

SITE = "/site-packages"


def top_level_names():
    names = set()
    for entry in os.listdir(SITE):
        if entry.startswith(("_", ".")) or entry.endswith((".dist-info", ".egg-info", ".pth")):
            continue
        path = os.path.join(SITE, entry)
        if os.path.isdir(path) or entry.endswith((".py", ".so")):
            names.add(entry.split(".")[0])
    return names


def distributions(loose):
    from importlib import metadata

    out = []
    for dist in metadata.distributions(path=[SITE]):
        owned = set()
        for f in dist.files or ():
            top = str(f).split("/")[0].split(".")[0]
            if top in loose:
                owned.add(top)
        loose -= owned
        name = dist.metadata["Name"]
        imports = f" (import {', '.join(sorted(owned))})" if owned else ""
        out.append(f"{name} {dist.version}{imports}")
    return sorted(out, key=str.lower)


def packages():
    if not os.path.isdir(SITE):
        return []
    loose = top_level_names()
    dists = distributions(loose)
    return dists + sorted(loose)


print(json.dumps({"python": sys.version.split()[0], "packages": packages()}))
