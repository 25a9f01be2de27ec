//! Python semantics users rely on: separate namespaces, output streams,
//! top-level await, SystemExit, unicode, a whole CONFIG_ARGS.
mod common;
use common::{expect_py_err, recording_sandbox, sandbox, text_of};
use eryx::{Error, Stream};

#[tokio::test]
async fn user_namespace_holds_only_user_names() {
    let mut sb = sandbox().await;
    assert_eq!(
        sb.execute("print(sorted(dir()))").await.unwrap(),
        "['__builtins__', '__name__']\n"
    );
    // Rebinding names cannot break the runtime.
    sb.execute("print = None\nsys = None\nasyncio = None")
        .await
        .unwrap();
    sb.execute("del print").await.unwrap();
    assert_eq!(
        sb.execute("print('still fine')").await.unwrap(),
        "still fine\n"
    );
}

#[tokio::test]
async fn stderr_is_separate_and_streamed() {
    let (mut sb, log) = recording_sandbox().await;
    let out = sb
        .execute(
            "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.stderr.write('e2\\n')",
        )
        .await
        .unwrap();
    assert_eq!(out, "out\n");
    assert_eq!(text_of(&log, Stream::Stderr), "err\ne2\n");
    assert_eq!(text_of(&log, Stream::Stdout), "out\n");
}

#[tokio::test]
async fn writes_to_fd_1_and_2_are_captured() {
    let (mut sb, log) = recording_sandbox().await;
    let out = sb
        .execute("import os\nos.write(1, b'raw-out\\n')\nos.write(2, b'raw-err\\n')")
        .await
        .unwrap();
    assert_eq!(out, "raw-out\n");
    assert_eq!(text_of(&log, Stream::Stderr), "raw-err\n");
}

#[tokio::test]
async fn output_before_an_exception_is_kept() {
    let (mut sb, log) = recording_sandbox().await;
    expect_py_err(
        sb.execute("print('before')\n1/0").await,
        "ZeroDivisionError",
    );
    assert_eq!(text_of(&log, Stream::Stdout), "before\n");
}

#[tokio::test]
async fn top_level_await_sleep_and_gather() {
    let mut sb = sandbox().await;
    let code = "import asyncio\n\
                await asyncio.sleep(0.01)\n\
                print('ok')\n\
                async def f(i):\n    await asyncio.sleep(0.01 * (3 - i))\n    return i\n\
                print(await asyncio.gather(*(f(i) for i in range(3))))";
    assert_eq!(sb.execute(code).await.unwrap(), "ok\n[0, 1, 2]\n");
}

#[tokio::test]
async fn asyncio_run_inside_user_code() {
    let mut sb = sandbox().await;
    let code = "import asyncio\nasync def main():\n    await asyncio.sleep(0)\n    return 5\nprint(asyncio.run(main()))";
    assert_eq!(sb.execute(code).await.unwrap(), "5\n");
    // Also after an execute that used top-level await.
    sb.execute("await asyncio.sleep(0)").await.unwrap();
    assert_eq!(
        sb.execute("print(asyncio.run(main()))").await.unwrap(),
        "5\n"
    );
}

#[tokio::test]
async fn exception_inside_awaited_code_has_user_frames() {
    let mut sb = sandbox().await;
    let code = "import asyncio\nasync def bad():\n    await asyncio.sleep(0)\n    raise KeyError('k')\nawait bad()";
    let tb = expect_py_err(sb.execute(code).await, "KeyError");
    assert!(tb.contains("line 4, in bad"), "{tb}");
    assert!(!tb.contains("asyncio/tasks.py"), "{tb}");
}

#[tokio::test]
async fn system_exit_reports_code_and_keeps_session() {
    let mut sb = sandbox().await;
    sb.execute("kept = 1").await.unwrap();
    assert_eq!(
        sb.execute("import sys; sys.exit(3)").await,
        Err(Error::Exit(3))
    );
    assert_eq!(sb.execute("raise SystemExit").await, Err(Error::Exit(0)));
    assert_eq!(sb.execute("print(kept)").await.unwrap(), "1\n");
}

#[tokio::test]
async fn system_exit_with_message_goes_to_stderr() {
    let (mut sb, log) = recording_sandbox().await;
    assert_eq!(
        sb.execute("raise SystemExit('bye')").await,
        Err(Error::Exit(1))
    );
    assert_eq!(text_of(&log, Stream::Stderr), "bye\n");
}

#[tokio::test]
async fn unicode_round_trips() {
    let mut sb = sandbox().await;
    let out = sb
        .execute("s = 'héllo 🎉 ✓ 日本'\nprint(s, len(s))")
        .await
        .unwrap();
    assert_eq!(out, "héllo 🎉 ✓ 日本 12\n");
}

#[tokio::test]
async fn text_files_and_file_names_are_utf8_by_default() {
    // As CPython under a UTF-8 locale: open() without an encoding, and
    // non-ASCII file names (the guest has no LANG; UTF-8 mode, PEP 540).
    let mut sb = sandbox().await;
    let out = sb
        .execute(
            "import os, sys\n\
             open('/tmp/é.txt', 'w').write('héllo ✓')\n\
             print(open('/tmp/é.txt').read(), os.listdir('/tmp'), open('/tmp/é.txt', 'rb').read())\n\
             print(sys.flags.utf8_mode, sys.getfilesystemencoding())",
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "héllo ✓ ['é.txt'] b'h\\xc3\\xa9llo \\xe2\\x9c\\x93'\n1 utf-8\n"
    );
}

#[tokio::test]
async fn the_installation_layout_is_cpythons() {
    // prefix / with the stdlib at /lib/python3.14, as getpath lays it out.
    let mut sb = sandbox().await;
    let out = sb
        .execute(
            "import sys
print(sys.prefix, sys.exec_prefix, sys._stdlib_dir, sys.path[0])",
        )
        .await
        .unwrap();
    assert_eq!(out, "/ / /lib/python3.14 /lib/python3.14\n");
}

#[tokio::test]
async fn sysconfig_config_args_is_whole() {
    // CPython's test.support runs shlex.split(CONFIG_ARGS) at import; the
    // build shipped it cut mid-quote (scripts/fix_sysconfigdata.py).
    let mut sb = sandbox().await;
    let out = sb
        .execute(
            "import shlex, sysconfig\n\
             print(shlex.split(sysconfig.get_config_var('CONFIG_ARGS')))",
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "['-C', '--host=wasm32-unknown-wasip2', '--build=x86_64-pc-linux-gnu']\n"
    );
}
