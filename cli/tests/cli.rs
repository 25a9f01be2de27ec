//! The `eryx` command line: sources (-c, FILE, -) and exit codes.
mod common;
use std::process::Output;

fn eryx(args: &[&str], stdin: Option<&str>) -> Output {
    common::eryx_cli(args, stdin.unwrap_or("").as_bytes())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn dash_c_prints_and_exits_zero() {
    let o = eryx(&["-c", "print(1+1)"], None);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "2\n");
}

#[test]
fn uncaught_exception_exits_one_with_traceback_on_stderr() {
    let o = eryx(&["-c", "raise ValueError('boom')"], None);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("Traceback") && err.contains("ValueError: boom"),
        "{err}"
    );
    assert_eq!(text(&o.stdout), "");
}

#[test]
fn runs_a_file_and_stdin() {
    let dir = std::env::temp_dir().join(format!("eryx-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("prog.py");
    std::fs::write(&file, "import math\nprint(math.factorial(5))\n").unwrap();
    let o = eryx(&[file.to_str().unwrap()], None);
    assert_eq!(
        (o.status.code(), text(&o.stdout)),
        (Some(0), "120\n".into()),
        "{}",
        text(&o.stderr)
    );
    let o = eryx(&["-"], Some("print('from stdin')\n"));
    assert_eq!(
        (o.status.code(), text(&o.stdout)),
        (Some(0), "from stdin\n".into())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_exit_two() {
    for args in [&["--bogus"][..], &["-c"][..], &["--timeout", "soon"][..]] {
        let o = eryx(args, None);
        assert_eq!(
            o.status.code(),
            Some(2),
            "args {args:?}: {}",
            text(&o.stderr)
        );
        assert!(text(&o.stderr).contains("usage"), "args {args:?}");
    }
}

#[test]
fn missing_file_and_undecodable_file_are_clear_errors() {
    let o = eryx(&["/nonexistent/prog.py"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("can't open file"),
        "{}",
        text(&o.stderr)
    );
    let p = std::env::temp_dir().join(format!("eryx-bad-{}.py", std::process::id()));
    std::fs::write(&p, b"print('\xff')\n").unwrap();
    let o = eryx(&[p.to_str().unwrap()], None);
    // Like python: invalid bytes are a SyntaxError (exit 1).
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("SyntaxError") && text(&o.stderr).contains("codec can't decode"),
        "{}",
        text(&o.stderr)
    );
    std::fs::remove_file(&p).unwrap();
}

#[test]
fn chained_dash_c_share_one_session() {
    let o = eryx(&["-c", "x=41", "-c", "x+=1", "-c", "print(x)"], None);
    assert_eq!(
        (o.status.code(), text(&o.stdout)),
        (Some(0), "42\n".into()),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn system_exit_code_becomes_exit_status() {
    let o = eryx(
        &[
            "-c",
            "import sys; print('bye'); sys.exit(7)",
            "-c",
            "print('not run')",
        ],
        None,
    );
    assert_eq!(
        (o.status.code(), text(&o.stdout)),
        (Some(7), "bye\n".into())
    );
}

#[test]
fn stderr_goes_to_stderr() {
    let o = eryx(
        &["-c", "import sys; print('o'); print('e', file=sys.stderr)"],
        None,
    );
    assert_eq!(
        (text(&o.stdout), text(&o.stderr)),
        ("o\n".into(), "e\n".into())
    );
}

#[test]
fn save_and_load_state() {
    let p = std::env::temp_dir().join(format!("eryx-state-{}.bin", std::process::id()));
    let ps = p.to_str().unwrap();
    let o = eryx(
        &[
            "--save-state",
            ps,
            "-c",
            "x = 41\ndef f():\n    return x + 1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = eryx(&["--load-state", ps, "-c", "print(f())"], None);
    assert_eq!(
        (o.status.code(), text(&o.stdout)),
        (Some(0), "42\n".into()),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(&p, b"not a snapshot").unwrap();
    let o = eryx(&["--load-state", ps, "-c", "print(1)"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("bad magic"), "{}", text(&o.stderr));
    std::fs::remove_file(&p).unwrap();
}

#[test]
fn eryx_option_after_the_program_is_argv_and_said_on_stderr() {
    let p = std::env::temp_dir().join(format!("eryx-late-state-{}.bin", std::process::id()));
    let ps = p.to_str().unwrap();
    let o = eryx(
        &["-c", "import sys; print(sys.argv)", "--save-state", ps],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), format!("['-c', '--save-state', '{ps}']\n"));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--save-state after the program")
            && err.contains("eryx --save-state VALUE -c CODE"),
        "{err}"
    );
    assert!(!p.exists(), "nothing is saved from sys.argv");
    let o = eryx(&["-c", "pass", "--verbose"], None);
    assert_eq!((o.status.code(), text(&o.stderr)), (Some(0), String::new()));
}

#[test]
fn no_program_and_piped_stdin_runs_stdin() {
    let o = eryx(&[], Some("print('piped')\n"));
    assert_eq!(
        (o.status.code(), text(&o.stdout)),
        (Some(0), "piped\n".into()),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn limits_exit_three_with_a_reason() {
    let o = eryx(&["--timeout", "0.3", "-c", "while True: pass"], None);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("limit exceeded: timeout"),
        "{}",
        text(&o.stderr)
    );
    let o = eryx(&["--max-memory", "64", "-c", "x = bytearray(2**30)"], None);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
}

/// A one-shot run's time limit is enforced from outside the sandbox (the
/// watchdog): per call, also while blocked in a host call, with output
/// written before the limit kept; the prompt and --save-state keep the
/// in-sandbox limit (the session must survive it).
#[test]
fn one_shot_time_limits_hold_from_outside() {
    let start = std::time::Instant::now();
    let o = eryx(
        &[
            "--timeout",
            "0.3",
            "-c",
            "print('before', flush=True)\nimport time\ntime.sleep(30)",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "before\n");
    assert!(text(&o.stderr).contains("limit exceeded: timeout"));
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    // Each -c of a chain has its own limit: two 0.4 s sleeps under 0.7 s.
    let nap = "import time; time.sleep(0.4); print('ok')";
    let o = eryx(&["--timeout", "0.7", "-c", nap, "-c", nap], None);
    assert_eq!(
        (o.status.code(), text(&o.stdout)),
        (Some(0), "ok\nok\n".into()),
        "{}",
        text(&o.stderr)
    );
    // With --save-state the state after a timeout is still saved.
    let state = std::env::temp_dir().join(format!("eryx-cli-{}.state", std::process::id()));
    let state = state.to_str().unwrap();
    let o = eryx(
        &[
            "--timeout",
            "0.3",
            "--save-state",
            state,
            "-c",
            "x = 5",
            "-c",
            "while True: pass",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let o = eryx(&["--load-state", state, "-c", "print(x)"], None);
    let _ = std::fs::remove_file(state);
    assert_eq!(text(&o.stdout), "5\n", "{}", text(&o.stderr));
}

/// python's help topics: `--help-env`, `--help-xoptions`, and
/// `--help-all` (usage, environment, -X options, in python's order).
#[test]
fn help_topics_like_python() {
    let env = eryx(&["--help-env"], None);
    assert_eq!(env.status.code(), Some(0));
    let env = text(&env.stdout);
    assert!(
        env.contains("ERYX_CACHE_DIR") && env.contains("PYTHONPATH"),
        "{env}"
    );
    assert!(!env.contains("usage:"), "{env}");
    let x = eryx(&["--help-xoptions"], None);
    assert_eq!(x.status.code(), Some(0));
    let x = text(&x.stdout);
    assert!(x.contains("-X int_max_str_digits=N"), "{x}");
    let all = eryx(&["--help-all"], None);
    assert_eq!(all.status.code(), Some(0));
    let all = text(&all.stdout);
    let at = |s: &str| {
        all.find(s)
            .unwrap_or_else(|| panic!("--help-all lacks {s:?}"))
    };
    assert!(at("usage: eryx") < at("ERYX_CACHE_DIR") && at("ERYX_CACHE_DIR") < at("-X int_max"));
    let bad = eryx(&["--help-env=yes"], None);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

#[test]
fn help_documents_the_flags() {
    let o = eryx(&["--help"], None);
    let help = text(&o.stdout);
    for flag in [
        "-c cmd",
        "-m mod",
        "-i ",
        "--no-stdin",
        "--timeout",
        "--max-memory",
        "--fuel",
        "--mount",
        "--callback",
        "--trace",
        "--save-state",
        "--load-state",
        "--package",
        "--preimport",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn callback_and_trace_flags() {
    let o = eryx(
        &[
            "--callback",
            "double=python3 -c 'import json,sys; print(json.load(sys.stdin)[\"x\"] * 2)'",
            "--callback",
            "bad=echo nope >&2; exit 4",
            "-c",
            "print(await double(x=21))\ntry:\n    await bad()\nexcept Exception as e:\n    print(type(e).__name__, e)",
        ],
        None,
    );
    assert_eq!(
        text(&o.stdout),
        "42\nCallbackError nope\n",
        "{}",
        text(&o.stderr)
    );
    let o = eryx(&["--trace", "-c", "def f():\n    return 1\nf()"], None);
    let events: Vec<serde_json::Value> = text(&o.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "call" && e["function"] == "f"),
        "{events:?}"
    );
}

#[test]
fn bad_preimport_is_refused_with_its_name() {
    let o = eryx(&["--preimport", "os; import x", "-c", "pass"], None);
    // A sandbox that cannot be built is exit status 1 (2 is a usage error).
    assert_eq!(o.status.code(), Some(1), "stderr: {}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("cannot pre-import \"os; import x\""),
        "stderr: {}",
        text(&o.stderr)
    );
}
