//! The interactive prompt (`eryx` with no program on a terminal): line
//! editing and history (rustyline), continuation lines, expression values
//! echoed, Ctrl-C interrupts the running snippet without losing the session,
//! Ctrl-D exits.
use eryx::{Error, Sandbox};
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

/// Whether `src` still needs more lines (an open block, bracket, string or
/// backslash continuation), the way Python's prompt decides.
pub fn needs_more(src: &str) -> bool {
    if unfinished(src) {
        return true;
    }
    let code = |l: &str| l.split('#').next().unwrap_or("").trim_end().to_string();
    let last = src.rsplit('\n').next().unwrap_or("");
    // Inside a compound statement, an empty line ends it.
    let in_block = src.lines().any(|l| code(l).ends_with(':'));
    in_block && src.contains('\n') && !last.trim().is_empty()
}

/// Whether a block pasted whole (bracketed paste: one read holding several
/// lines) still needs more: only an open bracket, string, backslash or a
/// last line opening a block; a complete block runs at once, like Python's
/// prompt runs a pasted block.
pub fn paste_needs_more(src: &str) -> bool {
    unfinished(src.trim_end_matches('\n'))
}

/// An open bracket or triple-quoted string, or a last line ending in `:` or
/// a backslash.
fn unfinished(src: &str) -> bool {
    let mut depth: i32 = 0;
    let mut chars = src.chars().peekable();
    let mut in_str: Option<(char, bool)> = None;
    while let Some(c) = chars.next() {
        match in_str {
            Some((q, triple)) => {
                if c == '\\' {
                    chars.next();
                } else if c == q {
                    if !triple {
                        in_str = None;
                    } else if chars.peek() == Some(&q) {
                        chars.next();
                        if chars.peek() == Some(&q) {
                            chars.next();
                            in_str = None;
                        }
                    }
                } else if c == '\n' && !triple {
                    in_str = None;
                }
            }
            None => match c {
                '#' => {
                    for n in chars.by_ref() {
                        if n == '\n' {
                            break;
                        }
                    }
                }
                '"' | '\'' => {
                    let mut ahead = chars.clone();
                    let triple = ahead.next() == Some(c) && ahead.next() == Some(c);
                    if triple {
                        chars.next();
                        chars.next();
                    }
                    in_str = Some((c, triple));
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            },
        }
    }
    if depth > 0 || matches!(in_str, Some((_, true))) {
        return true;
    }
    let code = |l: &str| l.split('#').next().unwrap_or("").trim_end().to_string();
    let last = src.rsplit('\n').next().unwrap_or("");
    code(last).ends_with(':') || code(last).ends_with('\\')
}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".eryx_history"))
}

/// Run the prompt until Ctrl-D or `exit()`; returns the exit status.
/// `quiet` (`-q`) leaves out the banner.
pub async fn run(sb: &mut Sandbox, quiet: bool) -> u8 {
    let mut ed = match DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("eryx: cannot start the prompt: {e}");
            return 1;
        }
    };
    let history = history_path();
    if let Some(p) = &history {
        let _ = ed.load_history(p);
    }
    if !quiet {
        eprintln!("Python 3.14 in the eryx sandbox. Ctrl-D or exit() leaves, Ctrl-C interrupts.");
    }
    let status = loop {
        let mut src = match ed.readline(">>> ") {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => {
                println!("KeyboardInterrupt");
                continue;
            }
            Err(_) => break 0,
        };
        // One read holding several lines is a bracketed paste.
        let pasted = src.contains('\n');
        let more = |s: &str| {
            if pasted {
                paste_needs_more(s)
            } else {
                needs_more(s)
            }
        };
        while more(&src) {
            match ed.readline("... ") {
                Ok(l) => {
                    src.push('\n');
                    src.push_str(&l);
                }
                Err(ReadlineError::Interrupted) => {
                    src.clear();
                    println!("KeyboardInterrupt");
                    break;
                }
                Err(_) => break,
            }
        }
        if src.trim().is_empty() {
            continue;
        }
        let _ = ed.add_history_entry(src.as_str());
        match sb.execute(&src).await {
            Ok(_) => {}
            Err(Error::Exit(code)) => break (code & 0xff) as u8,
            Err(Error::Python { traceback, .. }) => eprint!("{traceback}"),
            Err(e) => eprintln!("{e}"),
        }
    };
    if let Some(p) = &history {
        let _ = ed.save_history(p);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::needs_more;

    #[test]
    fn continuation_rules() {
        assert!(!needs_more("x = 1"));
        assert!(needs_more("def f():"));
        assert!(needs_more("def f():\n    return 1"));
        assert!(!needs_more("def f():\n    return 1\n"));
        assert!(needs_more("x = (1,"));
        assert!(!needs_more("x = (1,\n 2)"));
        assert!(needs_more("s = '''abc"));
        assert!(!needs_more("s = ':'"));
        assert!(!needs_more("x = 1  # comment:"));
        assert!(needs_more("x = 1 + \\"));
    }

    #[test]
    fn pasted_blocks_run_whole() {
        use super::paste_needs_more;
        assert!(!paste_needs_more("def f():\n    return 5\n\nprint(f())"));
        assert!(!paste_needs_more("for i in range(2):\n    print(i)\n"));
        assert!(paste_needs_more("x = (1,\n 2,"));
        assert!(paste_needs_more("if x:\n    y = 1\nelse:"));
    }
}
