//! Finding and running pip, the resolver eryx uses (it never resolves
//! anything itself). The command is, in order: the one given to
//! [`crate::SandboxBuilder::pip`], `$ERYX_PIP` (a pip executable), or a
//! private venv in the cache (`<cache>/pip-26.3/`), created on first use
//! with `python3 -m venv` (`$ERYX_PYTHON` picks another interpreter) and
//! the pinned pip installed into it with its sha256 checked.
use crate::cache;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The pip release eryx's own venv gets.
pub const PIP_VERSION: &str = "26.3";
/// sha256 of `pip-26.3-py3-none-any.whl` on PyPI.
const PIP_SHA256: &str = "f3b60b20ffaadd4415ed7957212a38ac63fa4c5fa375bd0f4a797777940fad13";

/// How to run pip: a program and the arguments before pip's own.
#[derive(Debug, Clone)]
pub struct Pip {
    program: PathBuf,
    prefix: Vec<OsString>,
}

impl Pip {
    /// A command for pip, creating eryx's venv if needed (`explicit`: the
    /// builder's choice, which wins over `$ERYX_PIP`).
    pub fn find(explicit: Option<&Path>, progress: bool) -> Result<Pip, String> {
        if let Some(p) = explicit
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("ERYX_PIP").map(PathBuf::from))
        {
            return Ok(Pip {
                program: p,
                prefix: Vec::new(),
            });
        }
        let venv = venv_dir();
        if !venv.join(".complete").exists() {
            create_venv(&venv, progress)?;
        }
        Ok(Pip {
            program: venv.join("bin/python"),
            prefix: vec!["-m".into(), "pip".into()],
        })
    }

    /// A pip command with `args`, never asking questions.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut c = Command::new(&self.program);
        c.args(&self.prefix)
            .args(["--disable-pip-version-check", "--no-input"])
            .args(args.into_iter().map(Into::into))
            .stdin(std::process::Stdio::null());
        c
    }

    /// Run `cmd`, failing on a start error (naming the program).
    pub fn run(&self, mut cmd: Command) -> Result<Output, String> {
        cmd.output().map_err(|e| {
            format!(
                "could not run pip ({}): {e}; set ERYX_PIP to a pip executable",
                self.program.display()
            )
        })
    }
}

/// Where eryx's own pip venv lives.
pub fn venv_dir() -> PathBuf {
    cache::dir().join(format!("pip-{PIP_VERSION}"))
}

/// The last `ERROR:` line pip printed (or its last line), for messages.
pub fn last_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("ERROR:"))
        .or(lines.last())
        .map(|l| l.trim_start_matches("ERROR:").trim().to_string())
        .unwrap_or_else(|| "no message".into())
}

fn create_venv(dest: &Path, progress: bool) -> Result<(), String> {
    if progress {
        eprintln!(
            "eryx: setting up pip {PIP_VERSION} in {} (first use only)...",
            dest.display()
        );
    }
    let python = std::env::var_os("ERYX_PYTHON").unwrap_or_else(|| "python3".into());
    let tmp = cache::tmp_sibling(dest);
    let fail = |what: &str, out: &Output| {
        format!(
            "setting up pip: {what} failed: {}",
            last_error(&String::from_utf8_lossy(&out.stderr))
        )
    };
    std::fs::create_dir_all(dest.parent().unwrap_or(dest)).map_err(|e| e.to_string())?;
    let out = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&tmp)
        .output()
        .map_err(|e| {
            format!(
                "setting up pip needs Python 3.9+ on the host ({}: {e}); \
                 set ERYX_PYTHON, or ERYX_PIP to a pip executable",
                python.to_string_lossy()
            )
        })?;
    if !out.status.success() {
        return Err(fail("python3 -m venv", &out));
    }
    let req = tmp.join("eryx-pip-requirements.txt");
    std::fs::write(
        &req,
        format!("pip=={PIP_VERSION} --hash=sha256:{PIP_SHA256}\n"),
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new(tmp.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-deps", "--require-hashes", "-r"])
        .arg(&req)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("setting up pip: {e}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(fail(&format!("installing pip=={PIP_VERSION}"), &out));
    }
    std::fs::write(tmp.join(".complete"), b"").map_err(|e| e.to_string())?;
    match std::fs::rename(&tmp, dest) {
        Ok(()) => Ok(()),
        Err(_) if dest.join(".complete").exists() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => Err(format!("setting up pip in {}: {e}", dest.display())),
    }
}
