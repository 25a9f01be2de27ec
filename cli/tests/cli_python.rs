//! `eryx` behaves like `python` on the command line: sys.argv, -m, stdin,
//! __file__, source encodings, -i, Python's flags and exit statuses. Every
//! test runs the real binary (real CPython in real wasmtime).
mod common;
use common::{eryx_cli as eryx, native_python};
use std::path::PathBuf;
use std::process::Output;

fn out(o: &Output) -> (Option<i32>, String) {
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A file in a fresh temporary directory.
fn script(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "eryx-cli-{}-{}",
        std::process::id(),
        name.replace('.', "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn script_arguments_are_sys_argv() {
    let p = script("prog.py", b"import sys\nprint(sys.argv)\n");
    let o = eryx(
        &[
            "--timeout",
            "20",
            p.to_str().unwrap(),
            "a",
            "b c",
            "--timeout",
        ],
        b"",
    );
    let expected = format!("['{}', 'a', 'b c', '--timeout']\n", p.display());
    assert_eq!(out(&o), (Some(0), expected), "{}", err(&o));
}

#[test]
fn dash_c_argv_is_like_python() {
    let o = eryx(&["-c", "import sys; print(sys.argv)"], b"");
    assert_eq!(out(&o), (Some(0), "['-c']\n".into()));
    let o = eryx(&["-c", "import sys; print(sys.argv)", "x", "y"], b"");
    assert_eq!(out(&o), (Some(0), "['-c', 'x', 'y']\n".into()));
    let o = eryx(
        &["-c", "x = 1", "-c", "import sys; print(x, sys.argv)", "z"],
        b"",
    );
    assert_eq!(out(&o), (Some(0), "1 ['-c', 'z']\n".into()));
}

#[test]
fn stdin_reaches_the_program() {
    let o = eryx(&["-c", "print(input())"], b"hello\n");
    assert_eq!(out(&o), (Some(0), "hello\n".into()), "{}", err(&o));
    let o = eryx(
        &["-c", "import sys; print(repr(sys.stdin.read()))"],
        b"a\nb\n",
    );
    assert_eq!(out(&o), (Some(0), "'a\\nb\\n'\n".into()));
    let code = "import sys\nfor line in sys.stdin: print(line.strip().upper())";
    let o = eryx(&["-c", code], b"x\ny\n");
    assert_eq!(out(&o), (Some(0), "X\nY\n".into()));
    let o = eryx(
        &["-c", "import sys; print(len(sys.stdin.buffer.read()))"],
        &[7u8; 300_000],
    );
    assert_eq!(out(&o), (Some(0), "300000\n".into()));
    // EOF is EOFError, as in Python.
    let o = eryx(&["-c", "input()"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("EOFError"), "{}", err(&o));
    // --no-stdin: the program sees an empty stdin.
    let o = eryx(
        &[
            "--no-stdin",
            "-c",
            "import sys; print(repr(sys.stdin.read()))",
        ],
        b"secret",
    );
    assert_eq!(out(&o), (Some(0), "''\n".into()));
}

#[test]
fn dash_m_runs_a_module_as_main() {
    let o = eryx(&["-m", "json.tool"], b"{\"a\":1}");
    assert_eq!(
        out(&o),
        (Some(0), "{\n    \"a\": 1\n}\n".into()),
        "{}",
        err(&o)
    );
    let o = eryx(&["-m", "json.tool", "--compact"], b"{\"a\": [1, 2]}");
    assert_eq!(out(&o), (Some(0), "{\"a\":[1,2]}\n".into()));
    // A package with __main__.py, from --package; argv[0] is the module's file.
    let pkg = script("__main__.py", b"import sys\nprint(__name__, sys.argv)\n");
    std::fs::write(pkg.with_file_name("__init__.py"), b"").unwrap();
    let dir = pkg.parent().unwrap();
    let renamed = dir.with_file_name("eryxdemo");
    let _ = std::fs::remove_dir_all(&renamed);
    std::fs::rename(dir, &renamed).unwrap();
    let o = eryx(
        &[
            "--package",
            renamed.to_str().unwrap(),
            "-m",
            "eryxdemo",
            "q",
        ],
        b"",
    );
    assert_eq!(
        out(&o),
        (
            Some(0),
            "__main__ ['/site-packages/eryxdemo/__main__.py', 'q']\n".into()
        ),
        "{}",
        err(&o)
    );
    let o = eryx(&["-m", "no_such_module_xyz"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("No module named no_such_module_xyz"),
        "{}",
        err(&o)
    );
}

#[test]
fn scripts_have_file_and_honour_encodings() {
    let p = script("f.py", b"print(__file__, __name__)\n");
    let o = eryx(&[p.to_str().unwrap()], b"");
    assert_eq!(out(&o), (Some(0), format!("{} __main__\n", p.display())));
    let p = script("latin.py", b"# -*- coding: latin-1 -*-\nprint('caf\xe9')\n");
    assert_eq!(
        out(&eryx(&[p.to_str().unwrap()], b"")),
        (Some(0), "caf\u{e9}\n".into())
    );
    let p = script("bom.py", b"\xef\xbb\xbfprint('bom')\n");
    assert_eq!(
        out(&eryx(&[p.to_str().unwrap()], b"")),
        (Some(0), "bom\n".into())
    );
    // Tracebacks show the script's lines, and no wrapper frame.
    let p = script("boom.py", b"x = 1\nraise ValueError('boom')\n");
    let o = eryx(&[p.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(1));
    let tb = err(&o);
    assert!(
        tb.contains(&format!("File \"{}\", line 2, in <module>", p.display())),
        "{tb}"
    );
    assert!(
        tb.contains("raise ValueError('boom')") && !tb.contains("_eryx_main"),
        "{tb}"
    );
    // A program on stdin is compiled from bytes too.
    let o = eryx(&["-", "arg"], b"import sys\nprint(sys.argv)\n");
    assert_eq!(out(&o), (Some(0), "['-', 'arg']\n".into()));
}

#[test]
fn a_sibling_import_explains_the_sandbox() {
    let p = script("main.py", b"import helper_mod\n");
    std::fs::write(p.with_file_name("helper_mod.py"), b"X = 1\n").unwrap();
    let o = eryx(&[p.to_str().unwrap()], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err(&o).contains("not visible inside the sandbox"),
        "{}",
        err(&o)
    );
    let dir = p.parent().unwrap().to_str().unwrap().to_string();
    let p2 = script("main2.py", b"import helper_mod\nprint(helper_mod.X)\n");
    std::fs::write(p2.with_file_name("helper_mod.py"), b"X = 7\n").unwrap();
    let dir2 = p2.parent().unwrap().to_str().unwrap();
    let o = eryx(&["--package", dir2, p2.to_str().unwrap()], b"");
    assert_eq!(out(&o), (Some(0), "7\n".into()), "{} {dir}", err(&o));
}

#[test]
fn exit_statuses_match_python() {
    let o = eryx(&["-c", "import sys; sys.exit('bye')"], b"");
    assert_eq!((o.status.code(), err(&o)), (Some(1), "bye\n".into()));
    let o = eryx(&["-c", "import sys; sys.exit(5)"], b"");
    assert_eq!(o.status.code(), Some(5));
    let o = eryx(
        &["-c", "import os; print('x', flush=True); os._exit(4)"],
        b"",
    );
    assert_eq!((o.status.code(), err(&o)), (Some(4), String::new()));
    let o = eryx(&["-c", "raise KeyboardInterrupt"], b"");
    assert_eq!(o.status.code(), Some(130));
    assert!(err(&o).ends_with("KeyboardInterrupt\n"), "{}", err(&o));
}

#[test]
fn python_flags() {
    let o = eryx(&["-Z"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("unknown option -Z") && err(&o).contains("usage: eryx"));
    let o = eryx(&["-V"], b"");
    assert!(
        out(&o).1.starts_with("eryx ") && out(&o).1.contains("Python 3.14"),
        "{:?}",
        out(&o)
    );
    let o = eryx(
        &["-O", "-c", "assert False; print('skipped', __debug__)"],
        b"",
    );
    assert_eq!(out(&o), (Some(0), "skipped False\n".into()), "{}", err(&o));
    let o = eryx(
        &["-W", "error", "-c", "import warnings; warnings.warn('w')"],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("UserWarning: w"), "{}", err(&o));
    let o = eryx(
        &[
            "-X",
            "int_max_str_digits=700",
            "-c",
            "import sys; print(sys.get_int_max_str_digits())",
        ],
        b"",
    );
    assert_eq!(out(&o), (Some(0), "700\n".into()), "{}", err(&o));
    let o = eryx(&["-EsSIB", "-u", "-q", "-c", "print('ok')"], b"");
    assert_eq!(out(&o), (Some(0), "ok\n".into()));
}

#[test]
fn dash_i_runs_the_program_then_the_prompt_in_one_session() {
    // stdin is not a terminal here: -i still forces the prompt (as python -i).
    let o = eryx(&["-i", "-q", "-c", "x = 41\n1 + 1"], b"print(x + 1)\n");
    assert_eq!(out(&o), (Some(0), "42\n".into()), "{}", err(&o));
    let p = script("crash.py", b"y = 5\nraise RuntimeError('late')\n");
    let o = eryx(&["-i", "-q", p.to_str().unwrap()], b"print(y * 2)\n");
    assert_eq!(out(&o), (Some(0), "10\n".into()), "{}", err(&o));
    assert!(err(&o).contains("RuntimeError: late"));
}

/// The traceback's frame lines (`File ..., line N` and the source shown)
/// and its last line: what python's output and eryx's must agree on.
fn traceback_gist(stderr: &str) -> Vec<&str> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut gist: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[0].trim_start().starts_with("File "))
        .flat_map(|w| [w[0], w[1]])
        .collect();
    gist.extend(lines.last());
    gist
}

#[test]
fn dash_x_skips_a_scripts_first_line_like_python() {
    let p = script(
        "dosish.py",
        b"@echo off & eryx -x %0 & goto :eof\nprint('two')\nraise ValueError('three')\n",
    );
    let path = p.to_str().unwrap();
    let (ours, theirs) = (eryx(&["-x", path], b""), native_python(&["-x", path], b""));
    assert_eq!(out(&ours), out(&theirs), "{}", err(&ours));
    assert_eq!(out(&ours), (Some(1), "two\n".into()));
    // Line numbers stay the file's: the raise is on line 3, shown as written.
    let tb = err(&ours);
    assert_eq!(traceback_gist(&tb), traceback_gist(&err(&theirs)), "{tb}");
    assert!(tb.contains(", line 3, in <module>"), "{tb}");
    // A coding cookie on the second line still applies; a one-line file is empty.
    let cookie = script(
        "cookie.py",
        b"not python\n# -*- coding: latin-1 -*-\nprint('caf\xe9')\n",
    );
    let one = script("oneline.py", b"not python at all");
    for f in [&cookie, &one] {
        let args = ["-x", f.to_str().unwrap()];
        assert_eq!(out(&eryx(&args, b"")), out(&native_python(&args, b"")));
    }
    // Without -x the first line is code (a SyntaxError, status 1).
    assert_eq!(eryx(&[path], b"").status.code(), Some(1));
    // -x has no effect on -c, -m or a program on stdin, as in python.
    let stdin = b"bad = 'first line'\nprint(bad)\n";
    for args in [&["-x", "-c", "print('c')"][..], &["-x", "-"], &["-x"]] {
        let (ours, theirs) = (eryx(args, stdin), native_python(args, stdin));
        assert_eq!(out(&ours), out(&theirs), "{args:?}: {}", err(&ours));
    }
    let args = ["-x", "-m", "json.tool"];
    assert_eq!(
        out(&eryx(&args, b"[1]")),
        out(&native_python(&args, b"[1]"))
    );
}
