//! The `eryx` command: run Python in the sandbox like `python` does.
//! See `eryx --help` (text in cli/args.rs) for flags and exit codes;
//! cli/program.rs runs the program, cli/repl.rs is the prompt.
mod cli {
    pub mod args;
    pub mod callbacks;
    pub mod help;
    pub mod mcp;
    pub mod program;
    pub mod repl;
    pub mod sandbox;
    pub mod watchdog;
}

use cli::args;
use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("mcp") {
        return cli::mcp::main(std::env::args().skip(2).collect());
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
            cli::help::text(args.help, args.help_env, args.help_xoptions)
        );
        return ExitCode::SUCCESS;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    ExitCode::from(rt.block_on(cli::program::main(args)))
}
