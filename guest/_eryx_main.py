"""The main program of a ``python``-like command line (``eryx FILE``,
``eryx -m MOD``, ``eryx -`` ...), run the way CPython's own ``main`` runs it.

The host calls these through a fixed one-line program (never with user
code formatted into it): ``__import__('_eryx_main').run_file(globals())``.
What to run comes from the process itself: ``sys.argv`` (the WASI
arguments) and, for a file, its bytes at ``SOURCE`` (a read-only directory
the host mounts). The code runs in the session's namespace, so ``-i`` and
later calls see its variables.
"""

import sys

SOURCE = "/eryx/main/source"


def _entered():
    """Hide the one-line program that called us from tracebacks; the
    runtime module (loaded after this one)."""
    import _eryx_runtime

    _eryx_runtime.entry_codes.add(sys._getframe(2).f_code)
    return _eryx_runtime


def _run(runtime, code, namespace):
    """Run a compiled program; a top-level-await coroutine is handed to the
    runtime, which drives it like any top-level ``await``."""
    result = eval(code, namespace)
    if code.co_flags & runtime._CO_COROUTINE:
        runtime.pending_main = result


def run_file(namespace, skip_first_line=False):
    """Run the program whose bytes are at ``SOURCE`` as ``sys.argv[0]``:
    compiled from bytes (PEP 263 coding cookies and a UTF-8 BOM work, bad
    bytes are a SyntaxError), with ``__file__`` set like CPython does.

    ``skip_first_line`` (``-x``): like CPython, everything before the first
    newline is dropped and the newline kept, so line numbers stay those of
    the file; tracebacks still show the file's own lines."""
    runtime = _entered()
    name = sys.argv[0] if sys.argv and sys.argv[0] else "<stdin>"
    with open(SOURCE, "rb") as f:
        source = f.read()
    program = source
    if skip_first_line:
        newline = source.find(b"\n")
        program = source[newline:] if newline >= 0 else b""
    if name in ("-", "<stdin>"):
        name = "<stdin>"
    elif name != "-c":
        namespace["__file__"] = name
    if name == "-c":
        name = "<string>"
    _cache_lines(name, source)
    code = compile(
        program,
        name,
        "exec",
        flags=runtime._TOP_LEVEL_AWAIT,
        dont_inherit=True,
        optimize=runtime.optimize,
    )
    _run(runtime, code, namespace)


def run_module(namespace):
    """``-m MOD``: ``sys.argv`` is ``['-m', MOD, args...]``; run MOD (or the
    ``__main__`` submodule of a package) as ``__main__`` with runpy's
    rules, ``sys.argv[0]`` becoming the module's file."""
    runtime = _entered()
    import runpy

    module = sys.argv.pop(1)
    try:
        mod_name, spec, code = runpy._get_module_details(module, runpy._Error)
    except runpy._Error as e:
        sys.exit("eryx: %s" % e)  # like CPython: message on stderr, status 1
    sys.argv[0] = spec.origin or module
    namespace.update(
        __name__="__main__",
        __file__=spec.origin,
        __cached__=spec.cached,
        __loader__=spec.loader,
        __package__=spec.parent,
        __spec__=spec,
    )
    _run(runtime, code, namespace)


def _cache_lines(name, source):
    """Let tracebacks show the program's lines (the host file itself is not
    visible inside the sandbox)."""
    import io
    import linecache
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)  # cookie / BOM
        text = source.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
