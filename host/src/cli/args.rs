//! Command-line parsing for `eryx` (kept dependency-free and python-like).

/// Where a program comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `-c CODE`.
    Code(String),
    /// A file path.
    File(String),
    /// `-`: standard input.
    Stdin,
}

/// Parsed command line.
#[derive(Debug, Default, PartialEq)]
pub struct Args {
    /// Programs to run, in order, in one session.
    pub sources: Vec<Source>,
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
    /// `--vfs-max-mb MB`: cap on the bytes of the virtual tree's files.
    pub vfs_max_mb: Option<u64>,
    /// `--vfs-max-entries N`: cap on the virtual tree's entries.
    pub vfs_max_entries: Option<u64>,
    /// `-h` / `--help`.
    pub help: bool,
}

/// The help text.
pub const USAGE: &str = "\
usage: eryx [options] [-c CODE]... [FILE | -]

Run Python (CPython 3.14) inside a WebAssembly sandbox. With no program and
a terminal on stdin, starts an interactive prompt (line editing, history,
Ctrl-C interrupts the running code, Ctrl-D exits).

  -c CODE             run CODE (repeatable: all run in order in one session)
  FILE                run the Python file FILE
  -                   read the program from standard input
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
  --preimport MODULE  import MODULE into the pre-initialised image (repeatable),
                      so importing it costs nothing; each distinct set is
                      its own image, built once and cached
  -h, --help          show this help

Exit status: 0 success, 1 uncaught exception, n for SystemExit(n),
2 usage error, 3 limit exceeded (reason on stderr), 130 interrupted.";

fn value(it: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    it.next()
        .ok_or_else(|| format!("argument {flag} expects a value"))
}

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

/// Parse `args` (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args::default();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => out.help = true,
            "-c" => out.sources.push(Source::Code(value(&mut it, "-c")?)),
            "--load-state" => out.load_state = Some(value(&mut it, "--load-state")?),
            "--save-state" => out.save_state = Some(value(&mut it, "--save-state")?),
            "-" => out.sources.push(Source::Stdin),
            "--callback" => out.callbacks.push(value(&mut it, "--callback")?),
            "--timeout" => out.timeout = Some(number(&value(&mut it, "--timeout")?, "--timeout")?),
            "--max-memory" => {
                out.max_memory_mb = Some(number(&value(&mut it, "--max-memory")?, "--max-memory")?)
            }
            "--fuel" => out.fuel = Some(number(&value(&mut it, "--fuel")?, "--fuel")?),
            "--mount" => out.mounts.push(mount(&value(&mut it, "--mount")?)?),
            "--package" => out.packages.push(value(&mut it, "--package")?),
            "--preimport" => out.preimports.push(value(&mut it, "--preimport")?),
            "--trace" => out.trace = Some(None),
            "--vfs-max-mb" => {
                out.vfs_max_mb = Some(number(&value(&mut it, "--vfs-max-mb")?, "--vfs-max-mb")?)
            }
            "--vfs-max-entries" => {
                let v = value(&mut it, "--vfs-max-entries")?;
                out.vfs_max_entries = Some(number(&v, "--vfs-max-entries")?)
            }
            s if s.starts_with("--callback=") => out.callbacks.push(s[11..].to_string()),
            s if s.starts_with("--trace=") => out.trace = Some(Some(s[8..].to_string())),
            s if s.starts_with("--package=") => out.packages.push(s[10..].to_string()),
            s if s.starts_with("--preimport=") => out.preimports.push(s[12..].to_string()),
            s if s.starts_with("--load-state=") => out.load_state = Some(s[13..].to_string()),
            s if s.starts_with("--save-state=") => out.save_state = Some(s[13..].to_string()),
            s if s.starts_with('-') => return Err(format!("unrecognised option: {s}")),
            _ => out.sources.push(Source::File(a)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Args, String> {
        parse(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn repeated_dash_c_keeps_order() {
        let a = p(&["-c", "x=1", "-c", "print(x)"]).unwrap();
        assert_eq!(
            a.sources,
            vec![Source::Code("x=1".into()), Source::Code("print(x)".into())]
        );
    }

    #[test]
    fn state_flags_and_errors() {
        let a = p(&["--load-state", "a", "--save-state=b", "f.py"]).unwrap();
        assert_eq!(
            (a.load_state.as_deref(), a.save_state.as_deref()),
            (Some("a"), Some("b"))
        );
        assert!(p(&["-c"]).is_err());
        assert!(p(&["--nope"]).is_err());
        assert!(p(&["--timeout", "x"]).is_err());
    }

    #[test]
    fn limits_and_mounts() {
        let a = p(&[
            "--timeout",
            "1.5",
            "--max-memory",
            "64",
            "--fuel",
            "9",
            "--mount",
            "/a:/b:ro",
            "--mount",
            "/c:/d",
        ])
        .unwrap();
        assert_eq!(
            (a.timeout, a.max_memory_mb, a.fuel),
            (Some(1.5), Some(64), Some(9))
        );
        assert_eq!(
            a.mounts,
            vec![
                ("/a".into(), "/b".into(), false),
                ("/c".into(), "/d".into(), true)
            ]
        );
        assert!(p(&["--mount", "nodst"]).is_err());
        let a = p(&["--package", "a", "--package=b.whl", "-c", "1"]).unwrap();
        assert_eq!(a.packages, vec!["a".to_string(), "b.whl".to_string()]);
        assert!(p(&["--package"]).is_err());
        let a = p(&["--preimport", "json", "--preimport=numpy", "-c", "1"]).unwrap();
        assert_eq!(a.preimports, vec!["json".to_string(), "numpy".to_string()]);
        assert!(p(&["--preimport"]).is_err());
    }
}
