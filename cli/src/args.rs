//! Command-line parsing for `eryx`, with `python`'s grammar: options come
//! first; `-c CMD`, `-m MOD`, `FILE` and `-` end option parsing and
//! everything after them is `sys.argv[1:]`. Short options combine (`-iq`,
//! `-cCODE`); eryx's own long options (`--timeout`, `--mount`, ...) work
//! before the program. `eryx -c A -c B` keeps running both in one session.
//! The flag table of docs/cli.md lists what every `python` flag does here.

/// What to run.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Program {
    /// Nothing named: the prompt on a terminal, else the program on stdin.
    #[default]
    None,
    /// `-c CMD` (repeated `-c` options run in order in one session).
    Code(Vec<String>),
    /// `-m MOD`.
    Module(String),
    /// A script file.
    File(String),
    /// `-`: the program is read from standard input.
    Stdin,
}

/// Parsed command line.
#[derive(Debug, Default, PartialEq)]
pub struct Args {
    /// The program.
    pub program: Program,
    /// `sys.argv[1:]`: everything after the program.
    pub rest: Vec<String>,
    /// `-i`: the prompt after the program, in the same session.
    pub inspect: bool,
    /// `-q`: no banner at the prompt.
    pub quiet: bool,
    /// `-u`: write output through at every write.
    pub unbuffered: bool,
    /// `-O` (1) / `-OO` (2).
    pub optimize: u8,
    /// `-x`: a script file's first line is skipped (its newline is kept,
    /// so line numbers stay those of the file); no effect on other programs.
    pub skip_first_line: bool,
    /// `-W ARG` (repeatable), as `sys.warnoptions`.
    pub warnoptions: Vec<String>,
    /// `-X OPT` (repeatable), as `sys._xoptions`.
    pub xoptions: Vec<String>,
    /// `-V` / `--version`.
    pub version: bool,
    /// `--no-stdin`: the guest's stdin is empty.
    pub no_stdin: bool,
    /// `--load-state FILE`: restore this snapshot before running.
    pub load_state: Option<String>,
    /// `--save-state FILE`: write a snapshot after running.
    pub save_state: Option<String>,
    /// `--callback NAME=COMMAND` (repeatable).
    pub callbacks: Vec<String>,
    /// `--trace` (Some(None): stderr) or `--trace=FILE`.
    pub trace: Option<Option<String>>,
    /// `--timeout SECS` per execute.
    pub timeout: Option<f64>,
    /// `--max-memory MB`.
    pub max_memory_mb: Option<u64>,
    /// `--fuel N`.
    pub fuel: Option<u64>,
    /// `--mount SRC:DST[:ro]` (repeatable): (source, guest path, writable).
    pub mounts: Vec<(String, String, bool)>,
    /// `--package PATH` (repeatable).
    pub packages: Vec<String>,
    /// `--preimport MODULE` (repeatable).
    pub preimports: Vec<String>,
    /// `--with REQUIREMENT` (repeatable) and the lines of every
    /// `--with-requirements FILE`, in order.
    pub with: Vec<String>,
    /// `--with-requirements FILE` (repeatable), read when the sandbox is built.
    pub with_files: Vec<String>,
    /// `--no-preimport-with`: do not pre-import the `--with` packages.
    pub no_preimport_with: bool,
    /// `--vfs-max-mb MB`: cap on the bytes of the virtual tree's files.
    pub vfs_max_mb: Option<u64>,
    /// `--vfs-max-entries N`: cap on the virtual tree's entries.
    pub vfs_max_entries: Option<u64>,
    /// `--display-dir DIR`: write display items there as numbered files.
    pub display_dir: Option<String>,
    /// `--allow-host PATTERN[:PORT]` (repeatable).
    pub allow_hosts: Vec<String>,
    /// `--secret NAME=VALUE@HOST[,HOST...]` or `--secret NAME@HOST...`
    /// (value from this process's environment), repeatable.
    pub secrets: Vec<String>,
    /// `--ca-cert FILE` (repeatable): extra TLS roots (PEM).
    pub ca_certs: Vec<String>,
    /// `--upload HOST:GUEST` (repeatable): (host file, guest path).
    pub uploads: Vec<(String, String)>,
    /// `--download GUEST:HOST` (repeatable): (guest path, host file).
    pub downloads: Vec<(String, String)>,
    /// `-h` / `--help`.
    pub help: bool,
    /// `--help-env` (or `--help-all`).
    pub help_env: bool,
    /// `--help-xoptions` (or `--help-all`).
    pub help_xoptions: bool,
}

/// The one-line usage (as `python` prints it on a usage error).
pub const USAGE_LINE: &str = "usage: eryx [option] ... [-c cmd | -m mod | file | -] [arg] ...";

/// The help text.
pub const USAGE: &str = "\
usage: eryx [option] ... [-c cmd | -m mod | file | -] [arg] ...
       eryx mcp [options]   (an MCP tool server on stdio: `eryx mcp --help`)
       eryx cache {info|list|prune|clear}   (the on-disk cache: `eryx cache --help`)

Run Python (CPython 3.14) inside a WebAssembly sandbox, the way `python`
runs it. With no program and a terminal on stdin, starts an interactive
prompt (line editing, history, pasted blocks, Ctrl-C interrupts the running
code, Ctrl-D or exit() leaves).

Program (ends the options; the arguments after it are sys.argv[1:]):
  -c cmd              run cmd (sys.argv[0] is '-c'); `-c A -c B ...` runs
                      each in order in one session
  -m mod              run library module mod as __main__ (stdlib, --package
                      directories, mounts on sys.path); sys.argv[0] is its file
  file                run the Python file (PEP 263 coding cookies and a BOM
                      work); sys.argv[0] is file
  -                   read the program from standard input

Python options:
  -i                  after the program, start the prompt in the same session
                      (also after an uncaught exception)
  -q                  no banner at the prompt
  -u                  write stdout/stderr through at every write (default:
                      at each newline)
  -O, -OO             compile user code without asserts (-OO: and docstrings)
  -x                  skip the first line of a script file (for non-Unix #!cmd
                      forms); line numbers stay those of the file
  -W arg              warning filter, as python's -W (repeatable)
  -X opt              implementation option, in sys._xoptions (repeatable);
                      int_max_str_digits=N takes effect, others are recorded
  -V, --version       print the eryx and Python versions and exit
  -E -s -S -I -B -P   accepted, no effect: the sandbox already behaves that way
                      (no host environment, no user site, isolated paths, the
                      stdlib is read-only)
  -b -d -v -R         accepted, no effect (fixed when the image was built)

Sandbox options:
  --no-stdin          give the program an empty stdin (default: the program
                      reads this process's stdin, unless the program came from it)
  --load-state FILE   restore a snapshot (from --save-state) before running
  --save-state FILE   save the session's variables to FILE after running
  --callback NAME=COMMAND
                      offer `await NAME(**kwargs)` to Python: runs COMMAND with
                      `sh -c`, JSON arguments on stdin; its stdout (JSON or a
                      plain string) is the result, a non-zero exit an error
  --trace[=FILE]      write one JSON line per traced line/call/return/exception
                      of user code to stderr (or FILE)
  --timeout SECS      wall-clock limit for each program (and prompt entry)
  --max-memory MB     cap on the sandbox's memory (Python sees MemoryError)
  --fuel N            instruction budget per program (slows execution)
  --mount SRC:DST[:ro]
                      make host directory SRC visible at DST (read-write
                      unless :ro); nothing outside it is reachable
  --package PATH      make a package importable (repeatable): a directory,
                      a .whl, a .py or a WASI .so; WASI extension modules
                      are linked into the sandbox (compiled once, cached)
  --with REQUIREMENT  make a package importable by name, e.g. 'rich' or
                      'jinja2>=3' (repeatable): pip resolves it for the sandbox
                      (pure-Python wheels plus WASI builds in $ERYX_WHEELHOUSE),
                      locked and cached (later runs need no network); its
                      top-level modules are pre-imported into the image
  --with-requirements FILE
                      every requirement in FILE (one a line, # comments)
  --no-preimport-with do not pre-import the --with packages' modules
  --vfs-max-mb MB     cap on the bytes of the sandbox's scratch files (default 64)
  --vfs-max-entries N cap on its files, directories and symlinks (default 10000)
  --display-dir DIR   write display items (display(), plt.show(), figures left
                      open) to DIR as display-001.png, display-002.html, ...
                      with one line each on stderr (default: dropped)
  --preimport MODULE  import MODULE into the pre-initialised image (repeatable),
                      so importing it costs nothing; each distinct set is
                      its own image, built once and cached
  --allow-host PATTERN[:PORT]
                      let the program connect to hosts matching PATTERN
                      (api.example.com, *.example.org, 203.0.113.7, [::1]),
                      on PORT or else 80/443 (repeatable; default: no network).
                      Private/loopback/link-local addresses only when listed
                      as addresses
  --secret NAME=VALUE@HOST[,HOST...]
                      os.environ[NAME] is a placeholder; the host puts VALUE in
                      its place only in bytes sent to HOST, and output shows
                      [REDACTED] (NAME@HOST takes VALUE from this process's
                      environment variable NAME)
  --ca-cert FILE      trust the PEM certificate(s) in FILE for TLS, besides
                      the built-in roots (repeatable)
  --upload HOST:GUEST copy host file HOST into the sandbox at GUEST before the
                      program (a copy, no mount; relative GUEST: from
                      /home/user) (repeatable)
  --download GUEST:HOST
                      copy the sandbox's file GUEST to host file HOST after
                      the program, also when it failed or hit a limit; a
                      missing GUEST is reported and makes the status 1
                      (unless the program already failed) (repeatable)
  -h, --help          show this help; --help-env: the environment variables
                      eryx reads; --help-xoptions: the -X options;
                      --help-all: all three

Exit status: 0 success, 1 uncaught exception (or SystemExit with a message),
n for SystemExit(n) and os._exit(n), 2 usage error or unreadable program,
3 limit exceeded (reason on stderr), 130 interrupted (Ctrl-C or an uncaught
KeyboardInterrupt).";

/// eryx's long options that take a value.
const VALUED: &[&str] = &[
    "--load-state",
    "--save-state",
    "--callback",
    "--timeout",
    "--max-memory",
    "--fuel",
    "--mount",
    "--package",
    "--preimport",
    "--with",
    "--with-requirements",
    "--vfs-max-mb",
    "--vfs-max-entries",
    "--display-dir",
    "--allow-host",
    "--secret",
    "--ca-cert",
    "--upload",
    "--download",
];

/// eryx's own options that `python` does not have: after the program they
/// are the program's arguments, which is worth a note (they look like ours).
const OWN: &[&str] = &["--no-stdin", "--trace"];

fn number<T: std::str::FromStr>(v: &str, flag: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("argument {flag}: invalid number {v:?}"))
}

fn mount(spec: &str) -> Result<(String, String, bool), String> {
    let (spec, writable) = match spec.strip_suffix(":ro") {
        Some(s) => (s, false),
        None => (spec.strip_suffix(":rw").unwrap_or(spec), true),
    };
    match spec.split_once(':') {
        Some((src, dst)) if !src.is_empty() && dst.starts_with('/') => {
            Ok((src.into(), dst.into(), writable))
        }
        _ => Err(format!(
            "--mount expects SRC:DST[:ro] with an absolute DST, got {spec:?}"
        )),
    }
}

impl Args {
    /// Apply one of eryx's long options (`name` without `=value`).
    fn long(&mut self, name: &str, value: Option<String>) -> Result<(), String> {
        let v = || {
            value
                .clone()
                .ok_or_else(|| format!("argument {name} expects a value"))
        };
        match name {
            "--help" => self.help = true,
            "--help-env" => self.help_env = true,
            "--help-xoptions" => self.help_xoptions = true,
            "--help-all" => (self.help, self.help_env, self.help_xoptions) = (true, true, true),
            "--version" => self.version = true,
            "--no-stdin" => self.no_stdin = true,
            "--trace" => self.trace = Some(value.clone()),
            "--load-state" => self.load_state = Some(v()?),
            "--save-state" => self.save_state = Some(v()?),
            "--callback" => self.callbacks.push(v()?),
            "--timeout" => self.timeout = Some(number(&v()?, name)?),
            "--max-memory" => self.max_memory_mb = Some(number(&v()?, name)?),
            "--fuel" => self.fuel = Some(number(&v()?, name)?),
            "--mount" => self.mounts.push(mount(&v()?)?),
            "--package" => self.packages.push(v()?),
            "--preimport" => self.preimports.push(v()?),
            "--with" => self.with.push(v()?),
            "--with-requirements" => self.with_files.push(v()?),
            "--no-preimport-with" => self.no_preimport_with = true,
            "--vfs-max-mb" => self.vfs_max_mb = Some(number(&v()?, name)?),
            "--vfs-max-entries" => self.vfs_max_entries = Some(number(&v()?, name)?),
            "--display-dir" => self.display_dir = Some(v()?),
            "--allow-host" => self.allow_hosts.push(v()?),
            "--secret" => self.secrets.push(v()?),
            "--ca-cert" => self.ca_certs.push(v()?),
            "--upload" => self.uploads.push(super::transfer::upload_spec(&v()?)?),
            "--download" => self.downloads.push(super::transfer::download_spec(&v()?)?),
            _ => return Err(format!("unknown option {name}")),
        }
        if value.is_some() && !VALUED.contains(&name) && name != "--trace" {
            return Err(format!("argument {name} takes no value"));
        }
        Ok(())
    }
}

/// Parse `args` (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args::default();
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        if a == "-" {
            out.program = Program::Stdin;
            break;
        }
        if a == "--" {
            if let Some(f) = it.next() {
                out.program = Program::File(f);
            }
            break;
        }
        if a.starts_with("--") {
            let long = a.as_str();
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None if VALUED.contains(&long) => (long.to_string(), Some(next(&mut it, long)?)),
                None => (long.to_string(), None),
            };
            out.long(&name, value)?;
            continue;
        }
        let Some(flags) = a.strip_prefix('-') else {
            out.program = Program::File(a);
            break;
        };
        // A cluster of short options; c, m, W and X take the rest of the
        // cluster or the next argument as their value.
        let mut ends = false;
        for (i, c) in flags.char_indices() {
            let attached = &flags[i + c.len_utf8()..];
            let mut value = || -> Result<String, String> {
                if attached.is_empty() {
                    next(&mut it, &format!("-{c}"))
                } else {
                    Ok(attached.to_string())
                }
            };
            match c {
                'c' => {
                    let mut chain = vec![value()?];
                    while it.peek().map(String::as_str) == Some("-c") {
                        it.next();
                        chain.push(next(&mut it, "-c")?);
                    }
                    out.program = Program::Code(chain);
                    ends = true;
                }
                'm' => {
                    out.program = Program::Module(value()?);
                    ends = true;
                }
                'W' => out.warnoptions.push(value()?),
                'X' => out.xoptions.push(value()?),
                'i' => out.inspect = true,
                'q' => out.quiet = true,
                'u' => out.unbuffered = true,
                'O' => out.optimize = (out.optimize + 1).min(2),
                'x' => out.skip_first_line = true,
                'V' => out.version = true,
                'h' | '?' => out.help = true,
                'E' | 's' | 'S' | 'I' | 'B' | 'P' | 'b' | 'd' | 'v' | 'R' => {}
                _ => return Err(format!("unknown option -{c}")),
            }
            if matches!(c, 'c' | 'm' | 'W' | 'X') {
                break; // the rest of the cluster was the value
            }
        }
        if ends {
            break;
        }
    }
    out.rest = it.collect();
    Ok(out)
}

fn next(it: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    it.next()
        .ok_or_else(|| format!("argument expected for the {flag} option"))
}

impl Args {
    /// `--timeout` as a duration (a negative number is no time at all).
    pub fn time_limit(&self) -> Option<std::time::Duration> {
        self.timeout
            .map(|t| std::time::Duration::from_secs_f64(t.max(0.0)))
    }

    /// One line for stderr when an argument after the program is one of
    /// eryx's own options (it went to `sys.argv`, as python's grammar says),
    /// saying how to make it eryx's; `None` when there is none.
    pub fn misplaced_options(&self) -> Option<String> {
        if matches!(self.program, Program::None) {
            return None;
        }
        let mut found: Vec<&str> = Vec::new();
        for a in &self.rest {
            let name = a.split_once('=').map_or(a.as_str(), |(n, _)| n);
            if (VALUED.contains(&name) || OWN.contains(&name)) && !found.contains(&name) {
                found.push(name);
            }
        }
        let first = found.first()?;
        let example = if VALUED.contains(first) {
            format!("{first} VALUE")
        } else {
            first.to_string()
        };
        Some(format!(
            "eryx: {} after the program went to the program's sys.argv, not to eryx; \
             to use {} put {} before the program (e.g. `eryx {example} -c CODE`)",
            found.join(", "),
            if found.len() == 1 { "it" } else { "them" },
            if found.len() == 1 { "it" } else { "them" },
        ))
    }

    /// The guest's `sys.argv` for this command line.
    pub fn argv(&self) -> Vec<String> {
        let first: Vec<String> = match &self.program {
            Program::None => vec![String::new()],
            Program::Code(_) => vec!["-c".into()],
            Program::Module(m) => vec!["-m".into(), m.clone()],
            Program::File(f) => vec![f.clone()],
            Program::Stdin => vec!["-".into()],
        };
        first.into_iter().chain(self.rest.iter().cloned()).collect()
    }
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
