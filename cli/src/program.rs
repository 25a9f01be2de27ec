//! Running the command line's program the way `python` does: which
//! program (`-c`, `-m`, a file, stdin), `sys.argv`, the guest's stdin, the
//! prompt after it (`-i`), state files and the exit status.
//!
//! A script's bytes reach the guest through a private, read-only host
//! directory mounted at [`GUEST_DIR`]; a fixed one-line program then asks
//! the guest helper `_eryx_main` to compile and run them (no user code is
//! ever formatted into the code the host sends).
use super::args::{Args, Program};
use super::watchdog::Watchdog;
use eryx::{Error, Sandbox, Stream};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Where the guest sees the program's directory (see `guest/_eryx_main.py`).
const GUEST_DIR: &str = "/eryx/main";
/// Runs the bytes at `GUEST_DIR/source` as `sys.argv[0]`.
const RUN_FILE: &str = "__import__('_eryx_main').run_file(globals())";
/// [`RUN_FILE`] without the source's first line (`-x`).
const RUN_FILE_SKIP: &str = "__import__('_eryx_main').run_file(globals(), skip_first_line=True)";
/// Runs `sys.argv[1]` as a module (`-m`).
const RUN_MODULE: &str = "__import__('_eryx_main').run_module(globals())";

/// The fixed program that runs a staged file or stdin program: `-x` skips
/// the first line of a script file only (python ignores it for stdin, `-c`
/// and `-m`).
fn file_runner(args: &Args) -> &'static str {
    match args.program {
        Program::File(_) if args.skip_first_line => RUN_FILE_SKIP,
        _ => RUN_FILE,
    }
}

/// A private host directory holding the program's source, removed on drop.
struct MainDir(PathBuf);

impl MainDir {
    fn create() -> std::io::Result<MainDir> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!("eryx-main-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(MainDir(path))
    }

    fn write(&self, source: &[u8]) -> Result<(), String> {
        std::fs::write(self.0.join("source"), source)
            .map_err(|e| format!("cannot stage the program: {e}"))
    }
}

impl Drop for MainDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn print_live(stream: Stream, text: &str) {
    let _ = match stream {
        Stream::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
        Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
    };
}

/// Print what ends a program and return its exit status.
fn failure(e: &Error, script: Option<&Path>) -> u8 {
    match e {
        Error::Exit(_) => {}
        Error::Python {
            traceback,
            type_name,
            message,
        } => {
            eprint!("{traceback}");
            if type_name == "ModuleNotFoundError" {
                sibling_hint(script, message);
            }
        }
        Error::Interrupted => eprintln!("KeyboardInterrupt"),
        e if e.is_limit() => eprintln!("eryx: limit exceeded: {e}"),
        e => eprintln!("eryx: {e}"),
    }
    e.exit_code() as u8
}

/// `import sibling` failed in a script whose directory holds `sibling`:
/// say that the script's directory is not visible in the sandbox.
fn sibling_hint(script: Option<&Path>, message: &str) {
    let (Some(script), Some(name)) = (script, message.strip_prefix("No module named ")) else {
        return;
    };
    let top = name.trim_matches('\'').split('.').next().unwrap_or("");
    let dir = script
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !top.is_empty() && (dir.join(format!("{top}.py")).is_file() || dir.join(top).is_dir()) {
        eprintln!(
            "eryx: note: '{top}' is next to the script on the host, but the script's directory \
             is not visible inside the sandbox; make it importable with --package {} \
             (or --mount it and add it to sys.path)",
            dir.display()
        );
    }
}

/// Read the program's bytes (a file or stdin).
fn read_program(program: &Program, from_stdin: bool) -> Result<Option<Vec<u8>>, String> {
    if from_stdin {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("can't read the program from stdin: {e}"))?;
        return Ok(Some(bytes));
    }
    match program {
        Program::File(f) => std::fs::read(f).map(Some).map_err(|e| {
            let abs = std::path::absolute(f).unwrap_or_else(|_| PathBuf::from(f));
            let errno = e.raw_os_error().unwrap_or(0);
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            format!(
                "can't open file '{}': [Errno {errno}] {text}",
                abs.display()
            )
        }),
        _ => Ok(None),
    }
}

/// `-V`: the eryx version and the guest's Python version.
async fn version(args: &Args) -> u8 {
    let mut sb = match super::sandbox::builder(args, true).map(|b| b.build()) {
        Ok(b) => match b.await {
            Ok(sb) => sb,
            Err(e) => return failure(&e, None),
        },
        Err(msg) => {
            eprintln!("eryx: {msg}");
            return 2;
        }
    };
    let python = sb
        .execute("import sys; print(sys.version.split()[0], end='')")
        .await
        .unwrap_or_else(|_| "3.14".into());
    println!(
        "eryx {} (Python {python}, wasm32-wasi)",
        env!("CARGO_PKG_VERSION")
    );
    0
}

/// Run the command line: returns the process exit status.
pub async fn main(args: Args) -> u8 {
    if args.version {
        return version(&args).await;
    }
    let tty = std::io::stdin().is_terminal();
    let none = args.program == Program::None;
    let from_stdin = args.program == Program::Stdin
        || (none && !tty && !args.inspect && args.load_state.is_none());
    let repl = args.inspect || (none && tty);
    let source = match read_program(&args.program, from_stdin) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("eryx: {msg}");
            return 2;
        }
    };
    match run(&args, source, from_stdin, repl).await {
        Ok(status) => status,
        Err(msg) => {
            eprintln!("eryx: {msg}");
            1
        }
    }
}

async fn run(
    args: &Args,
    source: Option<Vec<u8>>,
    from_stdin: bool,
    repl: bool,
) -> Result<u8, String> {
    // Code under -i goes through the helper too: the prompt's sandbox echoes
    // expression values, a program must not.
    let staged = source.is_some() || (repl && matches!(args.program, Program::Code(_)));
    let dir = if staged {
        Some(MainDir::create().map_err(|e| format!("cannot stage the program: {e}"))?)
    } else {
        None
    };
    // A one-shot run needs no interruption checks (~20-30% faster on
    // CPU-bound code): Ctrl-C then ends the process, and so does a time
    // limit (the watchdog). The prompt and --save-state need the session
    // after an interrupt or timeout, so they keep the checks.
    // --download too: it reads the session after a timeout.
    let interruptible = repl || args.save_state.is_some() || !args.downloads.is_empty();
    let watchdog = match args.time_limit() {
        Some(t) if !interruptible => {
            Some(Watchdog::start(t).map_err(|e| format!("cannot start the time limit: {e}"))?)
        }
        _ => None,
    };
    let mut builder = super::sandbox::builder(args, watchdog.is_none())?
        .on_output(print_live)
        .interactive(repl)
        .interruptible(interruptible)
        // The per-call checkpoint (the state a fault rolls back to) is for
        // sessions that go on after a fault: the prompt and --save-state. A
        // one-shot run stops at its first error, so it skips the checkpoint's
        // pickling of everything the program keeps (1 GiB kept in a variable
        // cost seconds and 3x the memory).
        .keep_state_on_fault(repl || args.save_state.is_some())
        .args(args.argv())
        .inherit_stdin(!args.no_stdin && !from_stdin);
    if let Some(d) = &dir {
        builder = builder.mount(&d.0, GUEST_DIR, false);
    }
    let mut sb = builder.build().await.map_err(|e| e.to_string())?;
    if let Some(path) = &args.load_state {
        let bytes = std::fs::read(path).map_err(|e| format!("can't read state '{path}': {e}"))?;
        sb.restore(&bytes)
            .await
            .map_err(|e| format!("can't load state '{path}': {e}"))?;
    }
    if let Err(msg) = super::transfer::upload(&mut sb, &args.uploads) {
        eprintln!("eryx: {msg}");
        return Ok(2);
    }
    // Ctrl-C interrupts the running code. The handler is registered now,
    // before the prompt's line editor saves (and later restores) SIGINT's.
    let interrupt = sb.interrupt_handle();
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| format!("cannot handle Ctrl-C: {e}"))?;
    tokio::spawn(async move {
        while sigint.recv().await.is_some() {
            if !interruptible {
                let _ = std::io::stdout().flush();
                eprintln!("KeyboardInterrupt");
                std::process::exit(130);
            }
            interrupt.interrupt();
        }
    });
    let script = match &args.program {
        Program::File(f) => Some(Path::new(f)),
        _ => None,
    };
    let mut status = 0;
    let outcome = match (&args.program, &dir, source) {
        (Program::Code(chain), None, _) => {
            let steps = chain.iter().map(|c| (c.as_str(), None));
            run_chain(&mut sb, steps, watchdog.as_ref()).await
        }
        (Program::Code(chain), Some(d), _) => {
            let steps = chain.iter().map(|c| (RUN_FILE, Some((d, c.as_bytes()))));
            run_chain(&mut sb, steps, watchdog.as_ref()).await
        }
        (Program::Module(_), _, _) => {
            run_chain(&mut sb, [(RUN_MODULE, None)].into_iter(), watchdog.as_ref()).await
        }
        (_, Some(d), Some(bytes)) => {
            let steps = [(file_runner(args), Some((d, bytes.as_slice())))].into_iter();
            run_chain(&mut sb, steps, watchdog.as_ref()).await
        }
        _ => Ok(()),
    };
    if let Err(e) = outcome {
        status = failure(&e, script);
    }
    if repl {
        status = super::repl::run(&mut sb, args.quiet).await;
    }
    let _ = std::io::stdout().flush();
    if !super::transfer::download(&mut sb, &args.downloads) && status == 0 {
        status = 1;
    }
    if let Some(path) = &args.save_state {
        let bytes = sb.snapshot().await.map_err(|e| e.to_string())?;
        std::fs::write(path, bytes).map_err(|e| format!("can't write state '{path}': {e}"))?;
    }
    Ok(status)
}

/// Run programs in order in one session, stopping at the first error; a
/// staged program's bytes are written to the main directory first.
/// Each call is timed by `watchdog` when there is one.
async fn run_chain<'a>(
    sb: &mut Sandbox,
    programs: impl Iterator<Item = (&'a str, Option<(&'a MainDir, &'a [u8])>)>,
    watchdog: Option<&Watchdog>,
) -> Result<(), Error> {
    for (code, staged) in programs {
        if let Some((dir, bytes)) = staged {
            dir.write(bytes).map_err(Error::Setup)?;
        }
        watchdog.inspect(|w| w.arm());
        let r = sb.execute(code).await;
        watchdog.inspect(|w| w.disarm());
        r?;
    }
    Ok(())
}
