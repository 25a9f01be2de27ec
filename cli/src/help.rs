//! `--help-env`, `--help-xoptions` and `--help-all`: python's help topics,
//! told for eryx (the usage text itself is `args::USAGE`).

/// What `--help-env` prints.
pub const ENV: &str = "\
Environment variables that change eryx's behavior (read by eryx on the host,
not by the program):
ERYX_CACHE_DIR: where the compiled sandbox image and the standard library's
                bytecode are cached (default: $XDG_CACHE_HOME/eryx, else
                ~/.cache/eryx)
ERYX_CACHE_MAX: the cache's size cap (default 2G; K/M/G suffixes); least
               recently used entries are evicted, never one in use
ERYX_PIP     : the pip executable that resolves --with requirements
               (default: a venv with pip 26.3 in the cache, set up on first use
               with python3, or $ERYX_PYTHON)
ERYX_WHEELHOUSE: a directory of WASI wheels pip also resolves from
               (default: <repo>/target/wheelhouse when it exists)
ERYX_LOG     : a tracing level (error, warn, info, debug, trace) for eryx's
               own log on stderr, e.g. engine detail behind a fault message
ERYX_PERFMAP : if set, write /tmp/perf-PID.map so that `perf` names the
               guest's functions
ERYX_MCP_TOKEN: the bearer token `eryx mcp --listen` requires of every
               request (as --token)

The program does not see this process's environment: PYTHONPATH,
PYTHONSTARTUP, PYTHONHOME and the other PYTHON* variables are not read
(as with -E). A variable named in `--secret NAME@HOST` is read from this
environment for its value; the program sees only a placeholder.";

/// What `--help-xoptions` prints.
pub const XOPTIONS: &str = "\
The following implementation-specific options are available with -X:
-X int_max_str_digits=N: limit the size of int<->str conversions (as
      sys.set_int_max_str_digits(N)); 0 disables the limit

Every -X option, known or not, is recorded in sys._xoptions. CPython's
other options (dev, utf8, importtime, faulthandler, tracemalloc,
frozen_modules, warn_default_encoding, no_debug_ranges, ...) have no effect:
the interpreter's configuration is fixed when the sandbox image is built.
Their effect can often be had from the program itself, e.g.
`import tracemalloc; tracemalloc.start()` or `import faulthandler;
faulthandler.enable()`.";

/// The help topics a command line asked for, in python's order (usage,
/// environment, -X options), joined by blank lines.
pub fn text(usage: bool, env: bool, xoptions: bool) -> String {
    let parts = [
        (usage, super::args::USAGE),
        (env, ENV),
        (xoptions, XOPTIONS),
    ];
    let chosen: Vec<&str> = parts.iter().filter(|p| p.0).map(|p| p.1).collect();
    chosen.join("\n\n")
}
