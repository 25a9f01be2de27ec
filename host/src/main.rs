//! The `eryx` command: run Python in the sandbox like `python` does.
//! See `eryx --help` (text in cli/args.rs) for flags and exit codes.
mod cli {
    pub mod args;
    pub mod callbacks;
    pub mod mcp;
    pub mod repl;
    pub mod sandbox;
}

use cli::args::{self, Args, Source};
use eryx::{Error, Stream};
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

fn read_source(src: &Source) -> Result<String, String> {
    match src {
        Source::Code(c) => Ok(c.clone()),
        Source::File(f) => {
            let bytes = std::fs::read(f).map_err(|e| format!("can't open file '{f}': {e}"))?;
            String::from_utf8(bytes).map_err(|_| format!("file '{f}' is not valid UTF-8"))
        }
        Source::Stdin => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|_| "standard input is not valid UTF-8".to_string())?;
            Ok(s)
        }
    }
}

fn print_live(stream: Stream, text: &str) {
    let _ = match stream {
        Stream::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
        Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
    };
}

/// Exit status and one-line reason for an error that ends a program.
fn failure(e: &Error) -> u8 {
    match e {
        Error::Exit(_) => {}
        Error::Python { traceback, .. } => eprint!("{traceback}"),
        Error::Interrupted => eprintln!("KeyboardInterrupt"),
        e if e.is_limit() => eprintln!("eryx: limit exceeded: {e}"),
        e => eprintln!("eryx: {e}"),
    }
    e.exit_code() as u8
}

async fn run(args: &Args, programs: &[String], repl: bool) -> Result<u8, String> {
    let mut sb = cli::sandbox::builder(args)?
        .on_output(print_live)
        .interactive(repl)
        .build()
        .await
        .map_err(|e| e.to_string())?;
    if let Some(path) = &args.load_state {
        let bytes = std::fs::read(path).map_err(|e| format!("can't read state '{path}': {e}"))?;
        sb.restore(&bytes)
            .await
            .map_err(|e| format!("can't load state '{path}': {e}"))?;
    }
    let mut status = 0;
    if repl {
        status = cli::repl::run(&mut sb).await;
    } else {
        let interrupt = sb.interrupt_handle();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                interrupt.interrupt();
            }
        });
    }
    for code in programs {
        if let Err(e) = sb.execute(code).await {
            status = failure(&e);
            break;
        }
    }
    let _ = std::io::stdout().flush();
    if let Some(path) = &args.save_state {
        let bytes = sb.snapshot().await.map_err(|e| e.to_string())?;
        std::fs::write(path, bytes).map_err(|e| format!("can't write state '{path}': {e}"))?;
    }
    Ok(status)
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("mcp") {
        return cli::mcp::main(std::env::args().skip(2).collect());
    }
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) if a.help => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(a) => a,
        Err(msg) => {
            eprintln!("eryx: error: {msg}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let mut args = args;
    let repl = args.sources.is_empty() && std::io::stdin().is_terminal();
    if args.sources.is_empty() && !repl && args.load_state.is_none() {
        args.sources.push(Source::Stdin);
    }
    let programs = match args
        .sources
        .iter()
        .map(read_source)
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("eryx: error: {msg}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(&args, &programs, repl)) {
        Ok(status) => ExitCode::from(status),
        Err(msg) => {
            eprintln!("eryx: {msg}");
            ExitCode::from(1)
        }
    }
}
