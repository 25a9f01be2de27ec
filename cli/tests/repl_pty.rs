//! The interactive prompt through a real terminal (a pty driven by
//! tests/pty/drive.py): typed-ahead and pasted lines are never lost, pasted
//! blocks run whole, exit() and Ctrl-D leave, Ctrl-C clears a line and
//! interrupts a running snippet without losing the session.
use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};

/// Run `eryx -q` in a pty with these steps; the transcript and the exit status.
fn drive(steps: serde_json::Value) -> (String, String) {
    drive_with(&["-q"], steps)
}

/// Run `eryx ARGS...` in a pty with these steps.
fn drive_with(args: &[&str], steps: serde_json::Value) -> (String, String) {
    let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pty/drive.py");
    let mut child = Command::new("python3")
        .arg(driver)
        .arg(env!("CARGO_BIN_EXE_eryx"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the pty driver");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(steps.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "driver failed:\n{text}");
    let status = text
        .rsplit("exit: ")
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    (text, status)
}

#[test]
fn typed_ahead_lines_all_run() {
    let (out, status) = drive(json!([
        ["expect", ">>> "],
        ["send", "a = 1\rb = 2\rc = 3\rprint(a+b+c)\r"],
        ["expect", "6\r\n"],
        ["send", "print(b * 10)\r"],
        ["expect", "20\r\n"],
        ["send", "exit()\r"],
    ]));
    assert_eq!(status, "0", "{out}");
}

#[test]
fn pasted_blocks_run_like_pythons_prompt() {
    let (out, status) = drive(json!([
        ["expect", ">>> "],
        [
            "send",
            "\u{1b}[200~def f():\r    return 5\r\rprint(f() * 3)\u{1b}[201~\r"
        ],
        ["expect", "15\r\n"],
        [
            "send",
            "\u{1b}[200~for i in range(3):\r    print('i', i)\r\u{1b}[201~\r"
        ],
        ["expect", "i 2\r\n"],
        // Typed block: an empty line ends it.
        ["send", "if True:\r    print('typed')\r\r"],
        ["expect", "typed\r\n"],
        // Ctrl-D at the next prompt (sent earlier, the terminal could drop it).
        ["expect", ">>> "],
        ["send", "\u{4}"],
    ]));
    assert_eq!(status, "0", "{out}");
}

#[test]
fn ctrl_c_clears_input_and_interrupts_a_run() {
    let (out, status) = drive(json!([
        ["expect", ">>> "],
        ["send", "kept = 7\r"],
        ["send", "half a line"],
        ["wait", 0.3],
        ["send", "\u{3}"],
        ["expect", "KeyboardInterrupt"],
        ["send", "while True: pass\r\r"],
        ["wait", 1.0],
        ["send", "\u{3}"],
        ["expect", "KeyboardInterrupt"],
        ["send", "print(kept * 6)\r"],
        ["expect", "42\r\n"],
        ["send", "import sys; sys.exit(3)\r"],
    ]));
    assert_eq!(status, "3", "{out}");
}

#[test]
fn ctrl_c_ends_a_one_shot_run_like_python() {
    // No --timeout: the CLI runs without interruption checks; Ctrl-C ends
    // the process with Python's status.
    let (out, status) = drive_with(
        &["-c", "print('started', flush=True)\nwhile True: pass"],
        json!([
            ["expect", "started"],
            ["wait", 0.5],
            ["send", "\u{3}"],
            ["expect", "KeyboardInterrupt"]
        ]),
    );
    assert_eq!(status, "130", "{out}");
}
