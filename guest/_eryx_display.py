"""Rich results of the eryx runtime: ``display()``, the value of a call's
last expression, and the integrations that need no user code.

Owns turning Python objects into MIME bundles (IPython's ``_repr_*_``
protocol) and sending them to the host. A bundle travels as one JSON text
on the ``output`` import's fd 3 (``DISPLAY_FD``), in Jupyter's wire form:
``{"kind": "display"|"result", "data": {mime: value}}`` where binary types
(``image/png``, ``image/jpeg``, ``image/gif``) are base64 text, JSON types
are JSON values and the rest are strings. The host checks, decodes and
caps every item (it does not trust this module).

Also here: the last-expression capture (``capture_last``: the code object
of a call is patched so it returns its final expression statement's value
instead of dropping it), ``matplotlib.pyplot.show()`` and figures left open as
PNG displays (an import hook; nothing is imported unless the user imports
matplotlib), and the ``IPython.display`` shim (a finder placed after every
real one, so an installed IPython wins).
"""

import sys

import _eryx_hooks
import eryx

DISPLAY_FD = 3
_BINARY = ("image/png", "image/jpeg", "image/gif")
# (method, MIME type) in IPython's order of preference.
_REPR_METHODS = (
    ("_repr_png_", "image/png"),
    ("_repr_jpeg_", "image/jpeg"),
    ("_repr_svg_", "image/svg+xml"),
    ("_repr_html_", "text/html"),
    ("_repr_markdown_", "text/markdown"),
    ("_repr_latex_", "text/latex"),
    ("_repr_json_", "application/json"),
)
# Set by after_restore (ERYX_DISPLAY_HOOK / ERYX_OPEN_FIGURES /
# ERYX_DISPLAY_ITEM_LIMIT: binary data over it is not sent, only its size).
hook_enabled = True
show_open_figures = True
item_limit = None
_opcodes = None


# --- sending -------------------------------------------------------------


def _encode(mime, value):
    """`value` in the wire form of `mime` (see the module docstring)."""
    if mime in _BINARY or (mime.startswith("image/") and isinstance(value, (bytes, bytearray, memoryview))):
        import binascii

        if isinstance(value, str):
            return value  # already base64, as IPython allows
        return binascii.b2a_base64(bytes(value), newline=False).decode("ascii")
    if mime == "application/json" or mime.endswith("+json"):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def send(kind, data):
    """Send one bundle `data` ({mime: value}) of `kind` to the host, after
    the output written so far (so stdout/stderr and displays stay in order)."""
    import json

    for stream in (sys.stdout, sys.stderr):
        flush = getattr(stream, "flush", None)
        if flush is not None:
            flush()
    wire, cut = {}, {}
    for mime, value in data.items():
        if value is None:
            continue
        if item_limit is not None and isinstance(value, (bytes, bytearray, memoryview)):
            size = memoryview(value).nbytes
            if size > item_limit:
                cut[mime] = size  # the host marks it; no use encoding it
                continue
        wire[mime] = _encode(mime, value)
    message = {"kind": kind, "data": wire}
    if cut:
        message["cut"] = cut
    eryx._output(DISPLAY_FD, json.dumps(message, separators=(",", ":")))


def _warn(what, obj, exc):
    sys.stderr.write("eryx: %s of %s object failed: %s: %s\n" % (what, type(obj).__name__, type(exc).__name__, exc))


def _figure_png(obj):
    """PNG bytes of a matplotlib figure (it has no ``_repr_png_``)."""
    import io

    buf = io.BytesIO()
    obj.savefig(buf, format="png")
    return buf.getvalue()


def _is_figure(obj):
    return type(obj).__module__.startswith("matplotlib") and hasattr(obj, "savefig")


def mime_bundle(obj, include=None, exclude=None):
    """The MIME bundle of `obj`: ``text/plain`` (its repr) plus what its
    ``_repr_mimebundle_`` / ``_repr_*_`` methods give. A failing rich repr
    is reported on stderr and left out; a failing ``repr`` raises."""
    data = {}
    bundle = getattr(obj, "_repr_mimebundle_", None)
    if bundle is not None and not isinstance(obj, type):
        try:
            got = bundle(include=include, exclude=exclude)
            if isinstance(got, tuple):
                got = got[0]
            if isinstance(got, dict):
                data.update((k, v) for k, v in got.items() if v is not None)
        except Exception as e:  # noqa: BLE001 - the user's method
            _warn("_repr_mimebundle_", obj, e)
    if not isinstance(obj, type):
        for method, mime in _REPR_METHODS:
            if mime in data:
                continue
            fn = getattr(obj, method, None)
            if fn is None:
                continue
            try:
                value = fn()
            except Exception as e:  # noqa: BLE001
                _warn(method, obj, e)
                continue
            if isinstance(value, tuple):  # (data, metadata)
                value = value[0]
            if value is not None:
                data[mime] = value
        if "image/png" not in data and _is_figure(obj):
            try:
                data["image/png"] = _figure_png(obj)
            except Exception as e:  # noqa: BLE001
                _warn("savefig", obj, e)
    if "text/plain" not in data:
        data["text/plain"] = repr(obj)
    if include is not None:
        data = {k: v for k, v in data.items() if k in include}
    if exclude is not None:
        data = {k: v for k, v in data.items() if k not in exclude}
    return data


def display(*objs, include=None, exclude=None, metadata=None, transient=None, display_id=None, raw=False, clear=False, **kwargs):
    """Show each object as a rich result, like IPython's ``display()``:
    its MIME bundle becomes one display item of the call (``raw=True``:
    the objects already are ``{mime: data}`` bundles)."""
    for obj in objs:
        if raw:
            if not isinstance(obj, dict):
                raise TypeError("display(raw=True) takes dicts of {mime: data}, not %s" % type(obj).__name__)
            send("display", obj)
        else:
            send("display", mime_bundle(obj, include, exclude))


# --- the last expression's value ---------------------------------------


def _ops():
    """(POP_TOP, RETURN_VALUE, the instructions after an expression
    statement's POP_TOP that end a module, as (opcode, arg or None for
    "the index of None")) of this CPython, read off a compiled ``x``."""
    global _opcodes
    if _opcodes is None:
        import opcode

        pop_top, return_value = opcode.opmap["POP_TOP"], opcode.opmap["RETURN_VALUE"]
        ref = compile("x", "<string>", "exec", dont_inherit=True)
        raw = ref.co_code
        at = max(i for i in range(0, len(raw), 2) if raw[i] == pop_top)
        tail = []
        for i in range(at + 2, len(raw), 2):
            op, arg = raw[i], raw[i + 1]
            if op in opcode.hasconst and ref.co_consts[arg] is None:
                arg = None
            tail.append((op, arg))
        _opcodes = pop_top, return_value, tuple(tail)
    return _opcodes


_tails = {}


def _tail(none):
    """The bytes of ``POP_TOP`` + the module's ``return None`` for a code
    object whose None constant is `none`."""
    pop_top, _, ending = _ops()
    tail = bytearray((pop_top, 0))
    for op, arg in ending:
        tail += bytes((op, none if arg is None else arg))
    return bytes(tail)


def capture_last(code):
    """`code` (a module-level code object) prepared so that running it
    returns its last expression's value, and how: ``"returned"``,
    ``"constant"`` or None (nothing to capture).

    Each ``POP_TOP`` that falls straight into the implicit ``return None``
    becomes a ``RETURN_VALUE`` (same size; it leaves the stack as empty as
    the return it replaces, so offsets, line and exception tables stay
    valid and nothing is stored anywhere). A constant last expression
    (``1 + 1``) leaves no code at all: it is recognised by the return
    standing after the code before it (``"constant"``). Whether the value
    really is the last statement's is checked (by ``ast``) only when there
    is a value to show, so an ordinary call costs a byte search and one
    ``code.replace``."""
    if not hook_enabled:
        return code, None
    try:
        none = code.co_consts.index(None)
    except ValueError:
        return code, None
    if none > 255:
        return code, None  # would need EXTENDED_ARG: no capture
    tail = _tails.get(none)
    if tail is None:
        tail = _tails[none] = _tail(none)
    raw = code.co_code
    at = raw.find(tail)
    ending = len(tail) // 2 - 1  # code units of the implicit return
    if at < 0:
        return code, ("constant" if _return_stands_alone(code, ending) else None)
    how = "returned"
    if raw.endswith(tail) and _return_stands_alone(code, ending):
        # `print(x)` then `1 + 1`: the final POP_TOP is print's, and the
        # return after it carries the dropped constant statement's location.
        how = "constant"
    return_value = _opcodes[1]
    while at >= 0:
        if at % 2 == 0:
            raw = raw[:at] + bytes((return_value, 0)) + raw[at + 2 :]
        at = raw.find(tail, at + 1)
    return code.replace(co_code=raw), how


def _return_stands_alone(code, n):
    """Whether the final return (its `n` code units) is a line of its own,
    after the code before it: then it carries the line of a last statement
    that compiled to nothing. (``co_lines`` is the cheap table: one entry
    per run of a line, where ``co_positions`` has one per code unit.)"""
    lines = list(code.co_lines())
    if len(lines) < 2:
        return False
    (_, _, before), (start, _, line) = lines[-2], lines[-1]
    if start != len(code.co_code) - 2 * n or line is None:
        return False
    return before is None or line > before


def _last_expression(source):
    """The last statement of `source` if it is an expression statement."""
    import ast

    try:
        tree = compile(source, "<string>", "exec", flags=ast.PyCF_ONLY_AST | 0x2000, dont_inherit=True)
    except SyntaxError:
        return None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        return tree.body[-1]
    return None


def _constant_value(node):
    """The value of a last expression the compiler dropped as constant, or
    None. It is evaluated only if it can have no effect: no names, no
    calls, no nested code."""
    import ast

    code = compile(ast.Expression(node.value), "<string>", "eval", dont_inherit=True)
    if code.co_names or any(hasattr(c, "co_code") for c in code.co_consts):
        return None
    return eval(code, {"__builtins__": {}})


def take_last(value, source, how):
    """Send `value` (what the code returned, see ``capture_last``) as the
    call's ``result`` when the source ends in an expression that is not
    None."""
    if how is None or (how == "returned" and value is None):
        return
    node = _last_expression(source)
    if node is None:
        return
    if how == "constant":
        value = _constant_value(node)
        if value is None:
            return
    send("result", mime_bundle(value))


# --- matplotlib ----------------------------------------------------------


def _show(*args, **kwargs):
    """``matplotlib.pyplot.show()``: every open figure becomes a PNG display
    and is closed (as in a notebook with the inline backend)."""
    flush_figures()


def flush_figures():
    """Display and close the figures pyplot has open (nothing if the user
    never imported pyplot)."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    for number in list(plt.get_fignums()):
        fig = plt.figure(number)
        try:
            send("display", {"image/png": _figure_png(fig), "text/plain": repr(fig)})
        finally:
            plt.close(fig)


def _pyplot_backend():
    """Ahead of pyplot's first import: the Agg backend (no display here),
    unless the user chose one. matplotlib.use() would call into the pyplot
    module being imported, so the choice goes into rcParams, where use()
    would put it before pyplot exists."""
    import os

    mpl = sys.modules.get("matplotlib")
    if mpl is None or "MPLBACKEND" in os.environ:
        return
    params = getattr(mpl, "rcParams", None)
    if params is None:
        if hasattr(mpl, "use"):
            mpl.use("agg")
        return
    auto = getattr(getattr(mpl, "rcsetup", None), "_auto_backend_sentinel", None)
    if dict.get(params, "backend") is auto:
        params["backend"] = "agg"


def _pyplot_show(module):
    """After pyplot's first import: ``show()`` displays the figures."""
    module.show = _show


# --- IPython.display shim -------------------------------------------------


class DisplayObject:
    """Base of the IPython-style wrappers: `data` (or the bytes of
    `filename`) shown under one MIME type."""

    binary = False

    def __init__(self, data=None, url=None, filename=None, metadata=None):
        if filename is not None:
            with open(filename, "rb" if self.binary else "r") as f:
                data = f.read()
        self.data = data
        self.url = url
        self.metadata = metadata

    def __repr__(self):
        return "<%s.%s object>" % ("IPython.core.display", type(self).__name__)


class HTML(DisplayObject):
    """HTML text (``text/html``)."""

    def _repr_html_(self):
        return self.data


class Markdown(DisplayObject):
    """Markdown text (``text/markdown``)."""

    def _repr_markdown_(self):
        return self.data


class Latex(DisplayObject):
    """LaTeX text (``text/latex``)."""

    def _repr_latex_(self):
        return self.data


class SVG(DisplayObject):
    """An SVG image (``image/svg+xml``)."""

    def _repr_svg_(self):
        data = self.data
        return data.decode("utf-8") if isinstance(data, bytes) else data


class JSON(DisplayObject):
    """A JSON-able value (``application/json``)."""

    def __init__(self, data=None, url=None, filename=None, expanded=False, metadata=None, root="root", **kwargs):
        if filename is not None:
            import json

            with open(filename) as f:
                data = json.load(f)
        elif isinstance(data, str):
            import json

            data = json.loads(data)
        super().__init__(data=data, url=url, metadata=metadata)

    def _repr_json_(self):
        return self.data


class Image(DisplayObject):
    """A PNG or JPEG image from bytes or a file (``image/png`` /
    ``image/jpeg``, told by its first bytes unless `format` says)."""

    binary = True

    def __init__(self, data=None, url=None, filename=None, format=None, embed=None, width=None, height=None, metadata=None, **kwargs):
        if isinstance(data, str) and filename is None and url is None:
            filename, data = data, None
        super().__init__(data=data, url=url, filename=filename, metadata=metadata)
        if format is None:
            format = "jpeg" if bytes(self.data or b"")[:3] == b"\xff\xd8\xff" else "png"
        self.format = {"jpg": "jpeg"}.get(format.lower(), format.lower())
        self.width, self.height = width, height

    def _repr_png_(self):
        return self.data if self.format == "png" else None

    def _repr_jpeg_(self):
        return self.data if self.format == "jpeg" else None


def clear_output(wait=False):
    """Accepted for compatibility: display items are never replaced."""


def get_ipython():
    """There is no IPython shell here."""
    return None


_SHIM = {
    "display": display,
    "DisplayObject": DisplayObject,
    "HTML": HTML,
    "Markdown": Markdown,
    "Latex": Latex,
    "SVG": SVG,
    "JSON": JSON,
    "Image": Image,
    "clear_output": clear_output,
}


class _ShimFinder:
    """Provides ``IPython`` and ``IPython.display`` when no real IPython is
    installed (it sits after every other finder)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name not in ("IPython", "IPython.display"):
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(name, cls, is_package=name == "IPython")

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        module.__dict__.update(_SHIM)
        if module.__name__ == "IPython":
            module.get_ipython = get_ipython
        else:
            sys.modules["IPython"].display = module


def install():
    """The import hooks and the ``eryx.display`` name."""
    eryx.display = display
    _eryx_hooks.on_import("matplotlib.pyplot", _pyplot_show, _pyplot_backend)
    sys.meta_path.append(_ShimFinder)


def configure(environ):
    """Per-instance switches from the host (see after_restore)."""
    global hook_enabled, show_open_figures, item_limit
    hook_enabled = environ.pop("ERYX_DISPLAY_HOOK", "1") != "0"
    show_open_figures = environ.pop("ERYX_OPEN_FIGURES", "1") != "0"
    limit = environ.pop("ERYX_DISPLAY_ITEM_LIMIT", "")
    item_limit = int(limit) if limit.isdigit() else None
