//! The `eryx` command: run Python in the sandbox like `python` does.
//! `eryx -c CODE`, `eryx FILE`, `eryx -` (stdin). Exit codes: 0 ok,
//! 1 uncaught exception, 2 usage error.
use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: eryx [-c CODE | FILE | -]\n\
  -c CODE   run CODE\n\
  FILE      run the Python file FILE\n\
  -         read the program from stdin\n\
  -h, --help  show this help";

enum Source {
    Code(String),
    File(String),
    Stdin,
}

fn parse(args: &[String]) -> Result<Source, String> {
    match args {
        [flag] if flag == "-h" || flag == "--help" => Err(String::new()),
        [flag, code] if flag == "-c" => Ok(Source::Code(code.clone())),
        [flag] if flag == "-c" => Err("argument -c expects a value".into()),
        [dash] if dash == "-" => Ok(Source::Stdin),
        [file] if !file.starts_with('-') => Ok(Source::File(file.clone())),
        [] => Err("no program given (interactive mode is not available yet)".into()),
        _ => Err(format!("unrecognised arguments: {}", args.join(" "))),
    }
}

fn read_source(src: Source) -> Result<String, String> {
    match src {
        Source::Code(c) => Ok(c),
        Source::File(f) => {
            let bytes = std::fs::read(&f).map_err(|e| format!("can't open file '{f}': {e}"))?;
            String::from_utf8(bytes).map_err(|_| format!("file '{f}' is not valid UTF-8"))
        }
        Source::Stdin => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("reading stdin failed: {e}"))?;
            Ok(s)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match parse(&args).and_then(read_source) {
        Ok(c) => c,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("eryx: error: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let mut sandbox = match eryx::Sandbox::builder().progress(true).build().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("eryx: {e}");
                return ExitCode::from(1);
            }
        };
        match sandbox.execute(&code).await {
            Ok(out) => {
                print!("{out}");
                let _ = std::io::stdout().flush();
                ExitCode::SUCCESS
            }
            Err(eryx::Error::Python(tb)) => {
                eprint!("{tb}");
                ExitCode::from(1)
            }
            Err(e) => {
                eprintln!("eryx: {e}");
                ExitCode::from(1)
            }
        }
    })
}
