//! Tests of the `python`-like command-line grammar (cli/args.rs).
use super::*;

fn p(v: &[&str]) -> Result<Args, String> {
    parse(v.iter().map(|s| s.to_string()))
}

#[test]
fn program_ends_options_and_the_rest_is_argv() {
    let a = p(&["--timeout", "2", "prog.py", "a", "b c", "--timeout", "-c"]).unwrap();
    assert_eq!(a.program, Program::File("prog.py".into()));
    assert_eq!(a.timeout, Some(2.0));
    assert_eq!(a.argv(), vec!["prog.py", "a", "b c", "--timeout", "-c"]);
    let a = p(&["-c", "print(1)", "x", "y"]).unwrap();
    assert_eq!(a.argv(), vec!["-c", "x", "y"]);
    let a = p(&["-m", "json.tool", "--sort-keys"]).unwrap();
    assert_eq!(a.program, Program::Module("json.tool".into()));
    assert_eq!(a.argv(), vec!["-m", "json.tool", "--sort-keys"]);
    let a = p(&["-", "z"]).unwrap();
    assert_eq!(
        (a.program.clone(), a.argv()),
        (Program::Stdin, vec!["-".into(), "z".into()])
    );
    assert_eq!(p(&[]).unwrap().argv(), vec![""]);
    let a = p(&["--", "-weird.py", "q"]).unwrap();
    assert_eq!(a.argv(), vec!["-weird.py", "q"]);
}

#[test]
fn repeated_dash_c_is_one_chain() {
    let a = p(&["-c", "x=1", "-c", "print(x)", "arg"]).unwrap();
    assert_eq!(
        a.program,
        Program::Code(vec!["x=1".into(), "print(x)".into()])
    );
    assert_eq!(a.argv(), vec!["-c", "arg"]);
}

#[test]
fn short_options_combine_and_take_attached_values() {
    let a = p(&[
        "-iqu",
        "-OO",
        "-Wignore",
        "-X",
        "int_max_str_digits=99",
        "-cpass",
    ])
    .unwrap();
    assert!(a.inspect && a.quiet && a.unbuffered);
    assert_eq!(a.optimize, 2);
    assert_eq!(a.warnoptions, vec!["ignore"]);
    assert_eq!(a.xoptions, vec!["int_max_str_digits=99"]);
    assert_eq!(a.program, Program::Code(vec!["pass".into()]));
    let a = p(&["-Esm", "json.tool"]).unwrap();
    assert_eq!(a.program, Program::Module("json.tool".into()));
    assert!(p(&["-V"]).unwrap().version && p(&["--version"]).unwrap().version);
}

#[test]
fn errors() {
    assert!(p(&["-c"]).is_err());
    assert!(p(&["-m"]).is_err());
    assert_eq!(p(&["-Z"]).unwrap_err(), "unknown option -Z");
    assert_eq!(p(&["--nope"]).unwrap_err(), "unknown option --nope");
    assert!(p(&["--timeout", "x"]).is_err());
    assert!(p(&["--quiet=1"]).is_err());
    assert!(p(&["--help=x"]).is_err());
}

#[test]
fn sandbox_options() {
    let a = p(&[
        "--timeout=1.5",
        "--max-memory",
        "64",
        "--fuel",
        "9",
        "--mount",
        "/a:/b:ro",
        "--mount=/c:/d",
        "--package",
        "a",
        "--package=b.whl",
        "--preimport",
        "json",
        "--load-state=s",
        "--save-state",
        "t",
        "--trace=f",
        "--no-stdin",
        "-c",
        "1",
    ])
    .unwrap();
    assert_eq!(
        (a.timeout, a.max_memory_mb, a.fuel),
        (Some(1.5), Some(64), Some(9))
    );
    assert_eq!(
        a.mounts,
        vec![
            ("/a".into(), "/b".into(), false),
            ("/c".into(), "/d".into(), true)
        ]
    );
    assert_eq!(a.packages, vec!["a".to_string(), "b.whl".to_string()]);
    assert_eq!(a.preimports, vec!["json".to_string()]);
    assert_eq!(
        (a.load_state.as_deref(), a.save_state.as_deref()),
        (Some("s"), Some("t"))
    );
    assert_eq!(a.trace, Some(Some("f".into())));
    assert!(a.no_stdin);
    assert!(p(&["--mount", "nodst"]).is_err());
    assert!(p(&["--package"]).is_err());
}

#[test]
fn dash_x_is_a_flag_before_any_program() {
    let a = p(&["-x", "prog.py", "-x"]).unwrap();
    assert!(a.skip_first_line);
    assert_eq!(a.argv(), vec!["prog.py", "-x"]);
    let a = p(&["-ixq", "-c", "pass"]).unwrap();
    assert!(a.skip_first_line && a.inspect && a.quiet);
    // After the program it is the program's argument.
    assert!(!p(&["prog.py", "-x"]).unwrap().skip_first_line);
    assert!(!p(&["-c", "pass", "-x"]).unwrap().skip_first_line);
}

#[test]
fn eryx_options_after_the_program_stay_argv_with_a_note() {
    let a = p(&["-c", "pass", "--save-state", "s.bin", "--trace=t", "x"]).unwrap();
    assert_eq!(a.save_state, None);
    assert_eq!(
        a.argv(),
        vec!["-c", "--save-state", "s.bin", "--trace=t", "x"]
    );
    let note = a.misplaced_options().expect("a note");
    assert!(!note.contains('\n'), "{note}");
    assert!(
        note.contains("--save-state, --trace") && note.contains("eryx --save-state VALUE -c CODE"),
        "{note}"
    );
    assert_eq!(
        p(&["prog.py", "a", "--verbose"])
            .unwrap()
            .misplaced_options(),
        None
    );
    assert_eq!(
        p(&["--save-state", "s", "-c", "pass"])
            .unwrap()
            .misplaced_options(),
        None
    );
}
