"""Guest side of the eryx Jupyter kernel: runs INSIDE the sandbox.

The kernel writes this file into the sandbox (``/tmp/.eryx-kernel/``) when
it starts. For a completion or inspection it writes the request (the
user's text, as JSON data) to ``request.json`` next to it and runs a fixed
statement, ``_eryx_kernel_guest.complete(globals())`` or ``.inspect(...)``;
the answer is written as JSON to ``reply.json``, which the kernel reads.
The user's text is never run as code: names are looked up in the session's
namespace with ``rlcompleter`` and ``getattr``, never ``eval``.
"""

import inspect as _inspect
import json
import keyword
import os
import rlcompleter

HERE = os.path.dirname(os.path.abspath(__file__))
REQUEST = os.path.join(HERE, "request.json")
REPLY = os.path.join(HERE, "reply.json")
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def _request():
    with open(REQUEST, encoding="utf-8") as f:
        return json.load(f)


def _reply(obj):
    with open(REPLY, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def _name_start(code, pos):
    """Where the dotted name that ends at ``pos`` starts."""
    start = pos
    while start > 0 and (code[start - 1] in NAME_CHARS or code[start - 1].isidentifier()):
        start -= 1
    return start


def complete(namespace):
    """Completions of the dotted name before the cursor, from the
    session's names, builtins and keywords."""
    req = _request()
    code, pos = req["code"], min(max(int(req["cursor_pos"]), 0), len(req["code"]))
    start = _name_start(code, pos)
    text = code[start:pos]
    matches = []
    if text and not text[0].isdigit():
        completer = rlcompleter.Completer(namespace)
        seen = set()
        for state in range(1000):
            try:
                match = completer.complete(text, state)
            except Exception:
                break
            if match is None:
                break
            match = match.rstrip("(")
            if match.endswith(" ") and match.strip() in keyword.kwlist:
                match = match.strip()
            if match not in seen:
                seen.add(match)
                matches.append(match)
    _reply({"matches": matches, "cursor_start": start, "cursor_end": pos})


def _resolve(namespace, dotted):
    """The object a dotted name denotes (attribute lookups only)."""
    import builtins

    parts = dotted.split(".")
    if not parts[0].isidentifier():
        raise LookupError(dotted)
    if parts[0] in namespace:
        obj = namespace[parts[0]]
    elif hasattr(builtins, parts[0]):
        obj = getattr(builtins, parts[0])
    else:
        raise LookupError(dotted)
    for part in parts[1:]:
        if not part.isidentifier():
            raise LookupError(dotted)
        obj = getattr(obj, part)
    return obj


def _describe(name, obj, detail):
    lines = ["Type:           " + type(obj).__name__]
    try:
        text = repr(obj)
    except Exception as e:
        text = "<repr failed: %s>" % type(e).__name__
    if len(text) > 300:
        text = text[:300] + "..."
    lines.append("String form:    " + text)
    if callable(obj):
        try:
            lines.append("Signature:      %s%s" % (name, _inspect.signature(obj)))
        except (TypeError, ValueError):
            pass
    doc = _inspect.getdoc(obj)
    if doc:
        lines.append("Docstring:\n" + doc)
    if detail:
        try:
            lines.append("Source:\n" + _inspect.getsource(obj))
        except (OSError, TypeError):
            pass
    return "\n".join(lines)


def inspect(namespace):
    """What the name at the cursor is: type, value, signature, docstring
    (and source with ``detail_level`` 1)."""
    req = _request()
    code = req["code"]
    pos = min(max(int(req["cursor_pos"]), 0), len(code))
    end = pos
    while end < len(code) and (code[end].isalnum() or code[end] == "_"):
        end += 1
    start = _name_start(code, end)
    # A cursor just after "f(" asks about f.
    if start == end and pos > 0 and code[pos - 1] == "(":
        end = pos - 1
        start = _name_start(code, end)
    name = code[start:end].strip(".")
    try:
        obj = _resolve(namespace, name)
    except Exception:
        _reply({"found": False, "name": name})
        return
    _reply({"found": True, "name": name, "text": _describe(name, obj, int(req.get("detail_level", 0)))})

