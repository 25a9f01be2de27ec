//! Real CPython in real wasmtime: execute semantics of the walking skeleton.
mod common;
use common::{expect_py_err, sandbox};
use eryx::Error;

#[tokio::test]
async fn prints_two() {
    let mut sb = sandbox().await;
    assert_eq!(sb.execute("print(1+1)").await.unwrap(), "2\n");
}

#[tokio::test]
async fn runs_python_3_14() {
    let mut sb = sandbox().await;
    let out = sb
        .execute("import sys; print(sys.version_info[:2])")
        .await
        .unwrap();
    assert_eq!(out, "(3, 14)\n");
}

#[tokio::test]
async fn stdlib_modules_import() {
    let mut sb = sandbox().await;
    let code = "import json, re, asyncio, decimal\n\
                print(json.dumps({'a': [1, 2]}), re.sub(r'\\d', '#', 'a1b2'), decimal.Decimal('1.10') + 1)";
    assert_eq!(
        sb.execute(code).await.unwrap(),
        "{\"a\": [1, 2]} a#b# 2.10\n"
    );
}

#[tokio::test]
async fn uncaught_exception_is_a_traceback() {
    let mut sb = sandbox().await;
    match sb.execute("x = 1\nraise ValueError('boom')").await {
        Err(Error::Python {
            type_name,
            message,
            traceback: tb,
        }) => {
            assert_eq!(
                (type_name.as_str(), message.as_str()),
                ("ValueError", "boom")
            );
            assert!(tb.contains("Traceback (most recent call last)"), "{tb}");
            assert!(tb.contains("ValueError: boom"), "{tb}");
            assert!(
                tb.contains("line 2") && tb.contains("raise ValueError('boom')"),
                "{tb}"
            );
            assert!(!tb.contains("_eryx_runtime"), "runtime frames leaked: {tb}");
        }
        other => panic!("expected a Python error, got {other:?}"),
    }
    // The session is still usable afterwards.
    assert_eq!(sb.execute("print(x)").await.unwrap(), "1\n");
}

#[tokio::test]
async fn syntax_error_is_reported() {
    let mut sb = sandbox().await;
    let tb = expect_py_err(sb.execute("def broken(:\n  pass").await, "SyntaxError");
    assert!(tb.contains("def broken(:"), "{tb}");
}

#[tokio::test]
async fn namespace_persists_between_executes() {
    let mut sb = sandbox().await;
    assert_eq!(
        sb.execute("x = 41\ndef inc(v):\n    return v + 1")
            .await
            .unwrap(),
        ""
    );
    assert_eq!(sb.execute("print(inc(x))").await.unwrap(), "42\n");
}

#[tokio::test]
async fn sandboxes_are_isolated() {
    let mut a = sandbox().await;
    let mut b = sandbox().await;
    a.execute("secret = 7").await.unwrap();
    expect_py_err(b.execute("print(secret)").await, "NameError");
}

#[tokio::test]
async fn eryx_module_is_importable() {
    let mut sb = sandbox().await;
    assert_eq!(
        sb.execute("import eryx; print(eryx.__version__)")
            .await
            .unwrap(),
        "0.1.0\n"
    );
}

#[tokio::test]
async fn the_sandbox_user_owns_the_files_with_pwd_and_grp() {
    // WASI's CPython has no getuid, pwd or grp; packages (platformdirs,
    // getpass, tarfile) use them.
    let mut sb = sandbox().await;
    let code = "import os, pwd, grp, getpass, io, tarfile, pickle\n\
                me = pwd.getpwuid(os.getuid())\n\
                print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), me.pw_name, me.pw_dir == os.environ['HOME'])\n\
                print(getpass.getuser(), grp.getgrgid(os.getgid()).gr_name, pwd.getpwuid(0).pw_name, pickle.loads(pickle.dumps(os.getuid)) is os.getuid)\n\
                buf = io.BytesIO()\n\
                with tarfile.open(fileobj=buf, mode='w:gz') as t: t.add('/tmp', 'd')\n\
                buf.seek(0)\n\
                with tarfile.open(fileobj=buf) as t: t.extractall('out', filter='data'); print(t.getmembers()[0].uname)\n\
                print(os.path.isdir('out/d'), os.stat('out/d').st_uid == os.getuid())\n\
                os.chown('out/d', 1000, -1)\n\
                print('chown', os.stat('out/d').st_uid)\n\
                try: os.chown('missing', 0, 0)\n\
                except FileNotFoundError: print('ENOENT')";
    assert_eq!(
        sb.execute(code).await.unwrap(),
        "0 0 0 [0] root True\nroot root root True\nroot\nTrue True\nchown 0\nENOENT\n"
    );
}
