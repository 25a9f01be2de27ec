"""Run once by `eryx mcp` in a throw-away sandbox to learn what the tool
descriptions tell the model: the Python version and the top-level names
importable from the packages directory (`--package`). Prints one JSON line."""
import json
import os
import sys

SITE = "/site-packages"


def packages():
    names = set()
    if not os.path.isdir(SITE):
        return []
    for entry in os.listdir(SITE):
        if entry.startswith(("_", ".")) or entry.endswith((".dist-info", ".egg-info", ".pth")):
            continue
        path = os.path.join(SITE, entry)
        if os.path.isdir(path) or entry.endswith((".py", ".so")):
            names.add(entry.split(".")[0])
    return sorted(names)


print(json.dumps({"python": sys.version.split()[0], "packages": packages()}))
