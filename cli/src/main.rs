//! The `eryx` command: run Python in the sandbox like `python` does.
//! See `eryx --help` (text in args.rs) for flags and exit codes;
//! program.rs runs the program, repl.rs is the prompt, mcp/ is `eryx mcp`,
//! cache_cmd.rs is `eryx cache`.
//! This crate uses only the `eryx` library's public API.
mod args;
mod cache_cmd;
mod callbacks;
mod display_dir;
mod help;
mod mcp;
mod program;
mod repl;
mod sandbox;
mod transfer;
mod watchdog;

use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("mcp") {
        return mcp::main(std::env::args().skip(2).collect());
    }
    if std::env::args().nth(1).as_deref() == Some("cache") {
        return cache_cmd::main(std::env::args().skip(2).collect());
    }
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!(
                "eryx: {msg}\n{}\nTry `eryx -h' for more information.",
                args::USAGE_LINE
            );
            return ExitCode::from(2);
        }
    };
    if args.help || args.help_env || args.help_xoptions {
        println!(
            "{}",
            help::text(args.help, args.help_env, args.help_xoptions)
        );
        return ExitCode::SUCCESS;
    }
    if let Some(note) = args.misplaced_options() {
        eprintln!("{note}");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    ExitCode::from(rt.block_on(program::main(args)))
}
