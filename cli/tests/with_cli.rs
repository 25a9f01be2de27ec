//! `eryx --with`: packages by name, resolved by pip (real PyPI), locked and
//! cached (a second run starts no pip and needs no index), pre-imported by
//! default; native-only packages and an unreachable index are one clear line;
//! native packages (regex, pydantic-core) come from the wheelhouse of WASI
//! builds (scripts/build-packages.sh).
use std::path::PathBuf;
use std::process::{Command, Output};

fn eryx() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_eryx"));
    c.stdin(std::process::Stdio::null());
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn here(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/with")
        .join(rel)
        .display()
        .to_string()
}

fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", text(&o.stderr));
    text(&o.stdout)
}

/// A requirement string no earlier run has locked (so pip must resolve it).
fn fresh(name: &str, salt: u32) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}!=0.0.{}{salt}{}", std::process::id(), n % 1_000_000)
}

#[test]
fn first_packages_import_and_work() {
    let mut cmd = eryx();
    for p in [
        "requests",
        "beautifulsoup4",
        "tabulate",
        "python-dateutil",
        "pytz",
        "jinja2",
        "pyyaml",
        "attrs",
        "more-itertools",
        "rich",
    ] {
        cmd.args(["--with", p]);
    }
    let out = ok(&cmd.arg(here("first_packages.py")).output().unwrap());
    let expected = [
        "bs4 there",
        "tabulate |   1 |   2 |",
        "dateutil 2025-02-28",
        "pytz +0200",
        "jinja2 OK!",
        "yaml {'a': [1, 2], 'b': {'c': True}}",
        "attrs Point(x=1, y=2)",
        "more_itertools [[0, 1], [2, 3], [4]]",
        "requests https://example.org/x?q=1",
        "rich rich text",
        "zoneinfo 1:00:00",
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected, "{out}");
}

#[test]
fn second_run_starts_no_pip_and_needs_no_index() {
    let req = fresh("tabulate", 1);
    let code = "import tabulate; print(tabulate.tabulate([[1]], tablefmt='plain'))";
    let first = eryx().args(["--with", &req, "-c", code]).output().unwrap();
    assert_eq!(ok(&first), "1\n");
    assert!(
        text(&first.stderr).contains("resolving"),
        "{}",
        text(&first.stderr)
    );
    // Same requirements: neither pip nor the index is needed.
    let second = eryx()
        .args(["--with", &req, "-c", code])
        .env("ERYX_PIP", "/nonexistent/pip")
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/")
        .output()
        .unwrap();
    assert_eq!(ok(&second), "1\n");
    assert!(!text(&second.stderr).contains("resolving"));
    // ...which is a real check: new requirements would need that pip.
    let other = eryx()
        .args(["--with", &fresh("tabulate", 2), "-c", code])
        .env("ERYX_PIP", "/nonexistent/pip")
        .output()
        .unwrap();
    assert_ne!(other.status.code(), Some(0));
    assert!(
        text(&other.stderr).contains("could not run pip"),
        "{}",
        text(&other.stderr)
    );
}

#[test]
fn unreachable_index_and_native_packages_are_one_clear_line() {
    let dead = eryx()
        .args(["--with", &fresh("six", 3), "-c", "pass"])
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/")
        .env("PIP_RETRIES", "0")
        .env_remove("PIP_FIND_LINKS")
        .output()
        .unwrap();
    let err = text(&dead.stderr);
    assert_eq!(dead.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap_or("");
    assert!(last.contains("could not reach the package index"), "{err}");
    assert!(
        !err.contains("Traceback") && !err.contains("ERROR:"),
        "{err}"
    );

    let empty = std::env::temp_dir().join(format!("eryx-empty-house-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let native = eryx()
        .args(["--with", "orjson==3.11.4", "-c", "import orjson"])
        .env("ERYX_WHEELHOUSE", &empty)
        .output()
        .unwrap();
    let err = text(&native.stderr);
    assert_eq!(native.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("eryx: resolving"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("orjson 3.11.4 has only CPython-native wheels")
            && lines[0].contains("WASI build"),
        "{err}"
    );
    assert!(!err.contains("Traceback"), "{err}");

    // A native-only dependency of every candidate (pip's
    // ResolutionImpossible) is named, with its version and its dependent.
    let dep = eryx()
        .args(["--with", "pydantic>=2", "-c", "import pydantic"])
        .env("ERYX_WHEELHOUSE", &empty)
        .output()
        .unwrap();
    let err = text(&dep.stderr);
    assert_eq!(dep.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.contains("pydantic-core 2.")
            && last.contains("(needed by pydantic 2.")
            && last.contains("has only CPython-native wheels"),
        "{err}"
    );

    // A bare name pip can only satisfy with an older release (the newer
    // ones need pydantic-core) works, with a note naming both versions.
    let older = eryx()
        .args(["--with", "pydantic", "--with", &fresh("six", 4)])
        .args([
            "--no-preimport-with",
            "-c",
            "import pydantic; print(pydantic.VERSION)",
        ])
        .env("ERYX_WHEELHOUSE", &empty)
        .output()
        .unwrap();
    let err = text(&older.stderr);
    assert_eq!(older.status.code(), Some(0), "{err}");
    assert!(text(&older.stdout).starts_with("1."), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("eryx: note: pip chose pydantic 1.")
                && l.contains("not the newest release 2.")),
        "{err}"
    );

    // No such project on the index: not "unreachable", one line saying so.
    let missing = eryx()
        .args(["--with", "eryx-test-no-such-project-on-pypi", "-c", "pass"])
        .output()
        .unwrap();
    let err = text(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.contains("no wheel of eryx-test-no-such-project-on-pypi for CPython 3.14"),
        "{err}"
    );
    assert!(!err.contains("could not reach"), "{err}");
}

#[test]
fn with_preimports_by_default_and_reads_requirements_files() {
    let code = "import sys; print('tabulate' in sys.modules)";
    let file = here("reqs.txt");
    let o = eryx()
        .args(["--with-requirements", &file, "-c", code])
        .output()
        .unwrap();
    assert_eq!(ok(&o), "True\n");
    let o = eryx()
        .args(["--with-requirements", &file, "--no-preimport-with", "-c"])
        .arg(format!("{code}\nimport tabulate; print(tabulate.__name__)"))
        .output()
        .unwrap();
    assert_eq!(ok(&o), "False\ntabulate\n");
    let bad = eryx()
        .args(["--with", "pkg @ https://example.org/p.whl", "-c", "pass"])
        .output()
        .unwrap();
    assert_ne!(bad.status.code(), Some(0));
    assert!(
        text(&bad.stderr).contains("no URL"),
        "{}",
        text(&bad.stderr)
    );
}

/// The issue's Done-when. sympy imports `ctypes` at top level (the
/// sandbox's data-type `_ctypes`).
#[test]
fn sympy_by_name() {
    let o = eryx()
        .args([
            "--with",
            "sympy",
            "-c",
            "import sympy; print(sympy.factor('x**2-1'))",
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&o), "(x - 1)*(x + 1)\n");
}

/// networkx imports `bz2` at top level (the sandbox's builtin `_bz2`).
#[test]
fn networkx_by_name() {
    let o = eryx()
        .args([
            "--with",
            "networkx",
            "-c",
            "import networkx as nx; print(nx.shortest_path(nx.path_graph(4), 0, 3))",
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&o), "[0, 1, 2, 3]\n");
}

/// Whether scripts/build-packages.sh has put a WASI wheel of `dist` into
/// the wheelhouse `--with` reads ($ERYX_WHEELHOUSE, else target/wheelhouse).
/// scripts/test.sh builds them first; a test without it says so and stops.
fn wasi_wheel_built(dist: &str) -> bool {
    let house = std::env::var_os("ERYX_WHEELHOUSE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wheelhouse"),
        PathBuf::from,
    );
    let built = std::fs::read_dir(&house)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let f = e.file_name().to_string_lossy().into_owned();
            f.starts_with(&format!("{dist}-")) && f.ends_with("-wasi_0_0_0_wasm32.whl")
        });
    if !built {
        eprintln!(
            "SKIPPED: no WASI wheel of {dist} in {}: run scripts/build-packages.sh",
            house.display()
        );
    }
    built
}

/// regex (a C extension) by name: pip takes the WASI wheel from the
/// wheelhouse, its `.so` is linked, the C engine matches.
#[test]
fn regex_by_name_from_the_wheelhouse() {
    if !wasi_wheel_built("regex") {
        return;
    }
    let o = eryx()
        .args(["--with", "regex", "-c"])
        .arg(
            "import regex\n\
             print(regex._regex.__file__)\n\
             print(regex.search(r'(?:color){e<=1}', 'a colour here').group())\n\
             print(regex.findall(r'\\p{Lu}\\w+', 'Élan and Über'))",
        )
        .output()
        .unwrap();
    assert_eq!(
        ok(&o),
        "/site-packages/regex/_regex.cpython-314-wasm32-wasi.so\ncolou\n['Élan', 'Über']\n"
    );
}

/// pydantic by name: pydantic-core (Rust/PyO3) from the wheelhouse, the
/// pure-Python rest from PyPI; pydantic's own ValidationError. Unpinned,
/// pip now picks pydantic 2 (it fell back to 1.10 while no pydantic-core
/// could be had).
#[test]
fn pydantic_by_name_reports_its_validation_error() {
    if !wasi_wheel_built("pydantic_core") {
        return;
    }
    let code = "from pydantic import BaseModel\n\
                class M(BaseModel):\n    x: int\n\
                M(x='no')";
    let o = eryx()
        .args(["--with", "pydantic==2.14.4", "-c", code])
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for M\n\
             x\n  Input should be a valid integer, unable to parse string as an integer \
             [type=int_parsing, input_value='no', input_type=str]"
        ),
        "{err}"
    );
    let o = eryx()
        .args(["--with", "pydantic", "-c"])
        .arg("import pydantic, pydantic_core; print(pydantic.VERSION[0], pydantic_core._pydantic_core.__file__)")
        .output()
        .unwrap();
    assert_eq!(
        ok(&o),
        "2 /site-packages/pydantic_core/_pydantic_core.cpython-314-wasm32-wasi.so\n"
    );
}

/// tzdata is in the stdlib of every sandbox: no flags, no packages.
#[test]
fn zoneinfo_works_without_flags() {
    let o = eryx()
        .args([
            "-c",
            "import zoneinfo, datetime\n\
             z = zoneinfo.ZoneInfo('Europe/Paris')\n\
             print(datetime.datetime(2024, 7, 1, tzinfo=z).utcoffset())",
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&o), "2:00:00\n");
}

/// `eryx mcp --with`: the tool description lists each distribution with
/// its version and import names.
#[test]
fn mcp_description_lists_the_with_packages() {
    use std::io::{BufRead, BufReader, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_eryx"))
        .args(["mcp", "--with", "tabulate", "--with", "requests"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for msg in [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    ] {
        writeln!(stdin, "{msg}").unwrap();
    }
    let list = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .find(|l| l.contains(r#""id":2"#))
        .expect("a tools/list answer");
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    let desc = v["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "run_python")
        .and_then(|t| t["description"].as_str())
        .unwrap_or_else(|| panic!("no run_python in {list}"))
        .to_string();
    for want in ["tabulate 0.", "(import tabulate)", "requests 2.", "idna 3."] {
        assert!(desc.contains(want), "{want:?} not in {desc}");
    }
}
