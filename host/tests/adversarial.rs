//! Hostile snippets: each must fail the way we expect AND leave the session
//! working with its earlier state (`keep`).
mod common;
use eryx::{Error, Sandbox, SandboxBuilder};
use std::time::{Duration, Instant};

type Check = fn(&Result<String, Error>) -> bool;
type Case = (&'static str, Box<dyn Fn(&Result<String, Error>) -> bool>);

fn py(ty: &'static str) -> impl Fn(&Result<String, Error>) -> bool {
    move |r| matches!(r, Err(Error::Python { type_name, .. }) if type_name == ty)
}

fn limited() -> SandboxBuilder {
    Sandbox::builder()
        .timeout(Duration::from_millis(1500))
        .max_memory(256 << 20)
}

async fn survives(sb: &mut Sandbox, snippet: &str, ok: &dyn Fn(&Result<String, Error>) -> bool) {
    let r = sb.execute(snippet).await;
    assert!(ok(&r), "{snippet:?} gave {r:?}");
    let after = sb.execute("print(keep)").await;
    assert_eq!(
        after.as_deref(),
        Ok("alive\n"),
        "session lost after {snippet:?}"
    );
}

#[tokio::test]
async fn hostile_snippets_fail_cleanly_and_the_session_survives() {
    let timeout: Check = |r| matches!(r, Err(Error::Timeout));
    let memory: Check = |r| matches!(r, Err(Error::MemoryLimit(_)));
    let cases: Vec<Case> = vec![
        ("while True:\n    pass", Box::new(timeout)),
        (
            "l = []\nwhile True:\n    l.append(' ' * 10**6)",
            Box::new(memory),
        ),
        ("x = bytearray(2**30)", Box::new(memory)),
        (
            "x = bytearray(2**31)",
            Box::new(move |r: &Result<String, Error>| memory(r) || py("OverflowError")(r)),
        ),
        ("def f():\n    f()\nf()", Box::new(py("RecursionError"))),
        ("import os\nos.system('ls')", Box::new(py("AttributeError"))),
        (
            "import subprocess\nsubprocess.run(['ls'])",
            Box::new(py("OSError")),
        ),
        // ctypes has the data types only: no libraries, no foreign calls,
        // no memory but the Python-owned buffers it allocated itself.
        (
            "import ctypes\nctypes.CDLL('libc.so.6')",
            Box::new(py("OSError")),
        ),
        (
            "import ctypes\nctypes.pythonapi.Py_Exit(1)",
            Box::new(py("AttributeError")),
        ),
        (
            "import ctypes\nctypes.string_at(0x7fff0000, 64)",
            Box::new(py("ValueError")),
        ),
        (
            "import socket\nsocket.create_connection(('127.0.0.1', 80))",
            Box::new(py("PermissionError")),
        ),
        (
            "open('/etc/passwd').read()",
            Box::new(py("FileNotFoundError")),
        ),
        (
            "open('/lib/python3.14/evil.py', 'w')",
            Box::new(py("PermissionError")),
        ),
        ("import time\ntime.sleep(30)", Box::new(timeout)),
        (
            "raise SystemExit(4)",
            Box::new(|r: &Result<String, Error>| matches!(r, Err(Error::Exit(4)))),
        ),
    ];
    let mut sb = limited().build().await.unwrap();
    sb.execute("keep = 'alive'").await.unwrap();
    for (snippet, check) in &cases {
        survives(&mut sb, snippet, check.as_ref()).await;
    }
}

#[tokio::test]
async fn nothing_of_the_host_is_visible() {
    let mut sb = limited().build().await.unwrap();
    let out = sb
        .execute(
            "import os\nprint(sorted(os.environ))\n\
             try:\n    print(os.listdir('/'))\nexcept OSError as e:\n    print(type(e).__name__)\n\
             print('os.py' in os.listdir('/lib/python3.14'))",
        )
        .await
        .unwrap();
    // `/` is the sandbox's own virtual tree (scratch files), not the host's.
    assert_eq!(
        out,
        "['HOME', 'TMPDIR']\n['dev', 'home', 'lib', 'tmp']\nTrue\n"
    );
}

#[tokio::test]
async fn deeply_nested_c_recursion_is_contained() {
    // Room for CPython's guard to be reached on a loaded machine.
    let mut sb = limited()
        .timeout(Duration::from_secs(60))
        .build()
        .await
        .unwrap();
    sb.execute("keep = 'alive'").await.unwrap();
    let deep = "l = []\nfor _ in range(200000):\n    l = [l]\nrepr(l)";
    // CPython's own guard fires, not the engine's (docs/stacks.md).
    survives(&mut sb, deep, &py("RecursionError")).await;
    let json = "import json\njson.loads('[' * 100000 + ']' * 100000)";
    survives(&mut sb, json, &py("RecursionError")).await;
}

#[tokio::test]
async fn timeout_returns_promptly() {
    let mut sb = Sandbox::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .await
        .unwrap();
    let start = Instant::now();
    assert_eq!(
        sb.execute("while True:\n    pass").await,
        Err(Error::Timeout)
    );
    let took = start.elapsed();
    // Deadline + one epoch tick + re-instantiation, with slack for CI.
    assert!(took < Duration::from_millis(2500), "took {took:?}");
}

#[tokio::test]
async fn interrupt_stops_the_call_and_keeps_state() {
    let mut sb = Sandbox::builder().build().await.unwrap();
    sb.execute("keep = 'alive'").await.unwrap();
    let h = sb.interrupt_handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        h.interrupt();
    });
    assert_eq!(
        sb.execute("while True:\n    pass").await,
        Err(Error::Interrupted)
    );
    assert_eq!(sb.execute("print(keep)").await.unwrap(), "alive\n");
}

#[tokio::test]
async fn interrupt_stops_a_call_blocked_in_a_host_call() {
    // Guest `time.sleep` waits in a host call, where no epoch check runs.
    let mut sb = Sandbox::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .await
        .unwrap();
    sb.execute("keep = 'slept'").await.unwrap();
    let h = sb.interrupt_handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        h.interrupt();
    });
    let start = Instant::now();
    assert_eq!(
        sb.execute("import time\ntime.sleep(30)").await,
        Err(Error::Interrupted)
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(sb.execute("print(keep)").await.unwrap(), "slept\n");
}

#[tokio::test]
async fn fuel_budget_and_output_cap() {
    let mut sb = Sandbox::builder().fuel(50_000_000).build().await.unwrap();
    sb.execute("keep = 'alive'").await.unwrap();
    survives(&mut sb, "while True:\n    pass", &|r| {
        matches!(r, Err(Error::FuelExhausted))
    })
    .await;
    let mut sb = Sandbox::builder().max_output(10_000).build().await.unwrap();
    sb.execute("keep = 'alive'").await.unwrap();
    survives(&mut sb, "while True:\n    print('x' * 100)", &|r| {
        matches!(r, Err(Error::OutputLimit))
    })
    .await;
}

#[tokio::test]
async fn mounts_are_confined() {
    let dir = std::env::temp_dir().join(format!("eryx-mount-{}", std::process::id()));
    let ro = dir.join("ro");
    let rw = dir.join("rw");
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::create_dir_all(&rw).unwrap();
    std::fs::write(ro.join("data.txt"), "hello").unwrap();
    std::fs::write(dir.join("secret.txt"), "no").unwrap();
    std::os::unix::fs::symlink(dir.join("secret.txt"), rw.join("link")).unwrap();
    // The escape checks below mean something only if the link is there and
    // leads to the secret on the host.
    assert_eq!(std::fs::read_to_string(rw.join("link")).unwrap(), "no");
    let mut sb = limited()
        .mount(&ro, "/data", false)
        .mount(&rw, "/out", true)
        .build()
        .await
        .unwrap();
    sb.execute("keep = 'alive'").await.unwrap();
    assert_eq!(
        sb.execute("print(open('/data/data.txt').read())")
            .await
            .unwrap(),
        "hello\n"
    );
    sb.execute("open('/out/new.txt', 'w').write('written')")
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(rw.join("new.txt")).unwrap(),
        "written"
    );
    for (snippet, ty) in [
        ("open('/data/x.txt', 'w')", "PermissionError"),
        ("open('/data/../secret.txt').read()", "PermissionError"),
        ("open('/out/../secret.txt').read()", "PermissionError"),
        ("open('/out/link').read()", "PermissionError"),
    ] {
        survives(&mut sb, snippet, &py(ty)).await;
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn invalid_snapshot_bytes_keep_the_session() {
    let mut sb = limited().build().await.unwrap();
    sb.execute("keep = 'alive'").await.unwrap();
    assert!(matches!(
        sb.restore(b"\x00\x01garbage").await,
        Err(Error::State(_))
    ));
    assert_eq!(sb.execute("print(keep)").await.unwrap(), "alive\n");
}

#[tokio::test]
async fn ten_thousand_executes_do_not_leak() {
    let mut sb = Sandbox::builder().build().await.unwrap();
    sb.execute("n = 0").await.unwrap();
    for _ in 0..500 {
        sb.execute("n += 1\ns = str(n) * 10").await.unwrap();
    }
    let warm = sb.memory_size();
    for _ in 0..10_000 {
        sb.execute("n += 1\ns = str(n) * 10").await.unwrap();
    }
    let after = sb.memory_size();
    assert_eq!(sb.execute("print(n)").await.unwrap(), "10500\n");
    eprintln!("guest memory: {warm} bytes after warm-up, {after} after 10k executes");
    assert!(
        after <= warm + (2 << 20),
        "guest memory grew from {warm} to {after} bytes"
    );
}
