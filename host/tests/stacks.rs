//! CPython's own behaviour at the edges of its C stack (docs/stacks.md):
//! deep C recursion raises CPython's `RecursionError` (not an engine
//! trap), deep structures are freed, a 10^6-deep traceback is formatted
//! like CPython's, and traps are reported in user terms. After each case
//! the session is intact — including what the failing call itself did
//! before raising (`marker`), which a trap would have rolled back.
mod common;
use common::expect_py_err;
use eryx::{Error, Sandbox};

const NESTED_LIST: &str = "l = []\nfor _ in range(10**6):\n    l = [l]\n";

async fn sandbox() -> Sandbox {
    let mut sb = Sandbox::builder().build().await.expect("sandbox");
    sb.execute("keep = 'alive'").await.unwrap();
    sb
}

/// `code` raises `RecursionError` with CPython's stack message `what`, and
/// the session (with the call's own effects) survives.
async fn raises_stack_overflow(sb: &mut Sandbox, code: &str, what: &str) {
    let code = format!("marker = 'ran'\n{code}");
    let tb = expect_py_err(sb.execute(&code).await, "RecursionError");
    // The exception line (json adds a note per level after it, as natively).
    let line = tb
        .lines()
        .find(|l| l.starts_with("RecursionError: "))
        .unwrap_or_default();
    assert!(
        line.starts_with("RecursionError: Stack overflow (used ") && line.ends_with(what),
        "unexpected message: {line}"
    );
    assert_eq!(
        sb.execute("print(keep, marker)").await.unwrap(),
        "alive ran\n"
    );
}

#[tokio::test]
async fn deep_c_recursion_raises_cpythons_recursion_error() {
    let mut sb = sandbox().await;
    let cases = [
        (
            format!("{NESTED_LIST}repr(l)"),
            "while getting the repr of an object",
        ),
        (
            format!("import json\n{NESTED_LIST}json.dumps(l)"),
            "while encoding a JSON object",
        ),
        (
            format!("import pickle\n{NESTED_LIST}pickle.dumps(l)"),
            "while pickling an object",
        ),
        (
            "eval('+'.join(['1'] * 100000))".to_string(),
            "during compilation",
        ),
        (
            "x = {}\ny = {}\nfor _ in range(10**5):\n    x = {1: x}\n    y = {1: y}\nx == y"
                .to_string(),
            "in comparison",
        ),
        (
            "import json\njson.loads('[' * 100000 + ']' * 100000)".to_string(),
            "while decoding a JSON array from a unicode string",
        ),
        (
            "import json\njson.loads('{\"a\":' * 500000 + '1' + '}' * 500000)".to_string(),
            "while decoding a JSON object from a unicode string",
        ),
    ];
    for (code, what) in &cases {
        raises_stack_overflow(&mut sb, code, what).await;
    }
}

#[tokio::test]
async fn deep_structures_are_freed() {
    let mut sb = sandbox().await;
    let kinds = [
        "lambda x: [x]",
        "lambda x: (x,)",
        "lambda x: {1: x}",
        "lambda x: {frozenset([1]): [x, (x,)]}",
    ];
    for make in kinds {
        let code = format!(
            "make = {make}\nv = None\nfor _ in range(10**6):\n    v = make(v)\n\
             del v\nmarker = 'freed'\nprint(marker)"
        );
        assert_eq!(sb.execute(&code).await.unwrap(), "freed\n", "{make}");
    }
    // Freed for real: building and dropping it again does not grow memory.
    let again = format!("{NESTED_LIST}del l");
    sb.execute(&again).await.unwrap();
    let after_one = sb.memory_size();
    for _ in 0..3 {
        sb.execute(&again).await.unwrap();
    }
    assert!(
        sb.memory_size() <= after_one + (8 << 20),
        "memory grew from {after_one} to {}",
        sb.memory_size()
    );
    assert_eq!(sb.execute("print(keep)").await.unwrap(), "alive\n");
}

#[tokio::test]
async fn a_million_deep_recursion_error_is_formatted_like_cpython() {
    let mut sb = sandbox().await;
    let code = "import sys\nsys.setrecursionlimit(10**6)\n\
                def f(n):\n    return f(n + 1)\nmarker = 'ran'\nf(0)";
    let tb = expect_py_err(sb.execute(code).await, "RecursionError");
    let lines: Vec<&str> = tb.lines().collect();
    assert_eq!(lines[0], "Traceback (most recent call last):");
    assert_eq!(
        *lines.last().unwrap(),
        "RecursionError: maximum recursion depth exceeded"
    );
    // The module frame, three frames of f, then the count of the rest.
    assert_eq!(tb.matches("in f\n").count(), 3, "{tb}");
    let repeated = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("[Previous line repeated "))
        .and_then(|r| r.strip_suffix(" more times]"))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no repetition line in {tb}"));
    assert!((999_000..1_000_000).contains(&repeated), "{repeated}");
    assert!(lines.len() < 20, "{tb}");
    assert_eq!(
        sb.execute("print(keep, marker)").await.unwrap(),
        "alive ran\n"
    );
}

#[tokio::test]
async fn chained_deep_tracebacks_are_compressed_too() {
    let mut sb = sandbox().await;
    let code = "import sys\nsys.setrecursionlimit(10**5)\n\
                def f(n):\n    return f(n + 1)\n\
                try:\n    f(0)\nexcept RecursionError:\n    raise ValueError('after')";
    let tb = expect_py_err(sb.execute(code).await, "ValueError");
    assert!(
        tb.contains("RecursionError: maximum recursion depth exceeded"),
        "{tb}"
    );
    assert!(
        tb.contains("During handling of the above exception, another exception occurred:"),
        "{tb}"
    );
    assert!(tb.contains("[Previous line repeated 99"), "{tb}");
    assert!(tb.lines().count() < 30, "{tb}");
}

#[tokio::test]
async fn a_short_repetition_matches_cpythons_cutoff() {
    let mut sb = sandbox().await;
    // Four frames of one line: CPython shows three and "repeated 1 more time".
    let code = "def g(n):\n    if n == 0:\n        raise KeyError(n)\n    return g(n - 1)\ng(4)";
    let tb = expect_py_err(sb.execute(code).await, "KeyError");
    assert!(
        tb.contains("  [Previous line repeated 1 more time]\n"),
        "{tb}"
    );
    assert_eq!(tb.matches("in g\n").count(), 4, "{tb}");
}

#[tokio::test]
async fn traps_are_reported_in_user_terms() {
    let mut sb = sandbox().await;
    for (code, says) in [
        ("import faulthandler\nfaulthandler._sigabrt()", "aborted"),
        (
            "import faulthandler\nfaulthandler._sigfpe()",
            "arithmetic fault",
        ),
    ] {
        let r = sb.execute(code).await;
        let Err(Error::Trap(msg)) = &r else {
            panic!("{code:?} gave {r:?}")
        };
        assert!(msg.contains(says), "{msg}");
        let shown = r.as_ref().unwrap_err().to_string();
        for internal in ["wasm", "backtrace", ".so", "!", "0x", "wit_dylib"] {
            assert!(!shown.contains(internal), "{internal:?} in {shown:?}");
        }
        assert_eq!(sb.execute("print(keep)").await.unwrap(), "alive\n");
    }
}
