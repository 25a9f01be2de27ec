//! Sandboxes start from a pre-initialised image (CPython started and
//! snapshotted once): per-instance state must still be the instance's own
//! (environment, `random`), and everything the snapshot dropped (WASI
//! handles: preopens, stdio) must come back from the new store.
mod common;
use common::{extension, sandbox};
use eryx::{Error, Sandbox, TraceEvent};
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn environment_is_the_instances_own() {
    let mut sb = sandbox().await;
    let out = sb
        .execute("import os\nprint(sorted(k for k in os.environ if k.startswith('ERYX')))")
        .await
        .unwrap();
    assert_eq!(out, "[]\n", "the pre-init marker leaked into the sandbox");
    let mut sb = Sandbox::builder().interactive(true).build().await.unwrap();
    let out = sb
        .execute("import os; print(os.environ.get('ERYX_INTERACTIVE'))")
        .await
        .unwrap();
    assert_eq!(out, "1\n");
}

#[tokio::test]
async fn interactive_mode_is_seen_after_restore() {
    let mut sb = Sandbox::builder().interactive(true).build().await.unwrap();
    assert_eq!(sb.execute("1 + 1").await.unwrap(), "2\n");
    let mut plain = sandbox().await;
    assert_eq!(plain.execute("1 + 1").await.unwrap(), "");
}

#[tokio::test]
async fn tracing_is_seen_after_restore() {
    let events: Arc<Mutex<Vec<TraceEvent>>> = Arc::default();
    let log = events.clone();
    let mut sb = Sandbox::builder()
        .on_trace(move |e| log.lock().unwrap().push(e))
        .build()
        .await
        .unwrap();
    sb.execute("x = 1\ny = 2").await.unwrap();
    assert!(!events.lock().unwrap().is_empty(), "no trace events");
}

#[tokio::test]
async fn random_differs_between_sandboxes() {
    let code = "import random\nprint(random.random(), random.getrandbits(64))";
    let a = sandbox().await.execute(code).await.unwrap();
    let b = sandbox().await.execute(code).await.unwrap();
    assert_ne!(a, b, "two sandboxes drew the same random numbers");
}

#[tokio::test]
async fn stdlib_files_are_reachable() {
    let mut sb = sandbox().await;
    let code = "import sys\nassert 'fractions' not in sys.modules\n\
                import fractions\nprint(fractions.Fraction(1, 3) + 1)\n\
                print(open('/lib/python3.14/os.py').read(3) != '')";
    assert_eq!(sb.execute(code).await.unwrap(), "4/3\nTrue\n");
}

#[tokio::test]
async fn stdio_file_descriptors_work() {
    let mut sb = sandbox().await;
    let out = sb
        .execute("import os\nos.write(1, b'raw\\n')\nprint('done')")
        .await
        .unwrap();
    assert!(out.contains("raw\n") && out.contains("done\n"), "{out:?}");
}

#[tokio::test]
async fn user_mounts_are_visible() {
    let dir = std::env::temp_dir().join(format!("eryx-preinit-mount-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), "hello from the host").unwrap();
    let mut sb = Sandbox::builder()
        .mount(&dir, "/data", false)
        .build()
        .await
        .unwrap();
    let out = sb.execute("print(open('/data/hello.txt').read())").await;
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.unwrap(), "hello from the host\n");
}

#[tokio::test]
async fn first_error_is_formatted() {
    let mut sb = sandbox().await;
    match sb.execute("1/0").await {
        Err(Error::Python { type_name, .. }) => assert_eq!(type_name, "ZeroDivisionError"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        sb.execute("print('still fine')").await.unwrap(),
        "still fine\n"
    );
}

#[tokio::test]
async fn preimported_modules_are_in_the_image() {
    let mut sb = Sandbox::builder()
        .preimport(&["fractions"])
        .build()
        .await
        .unwrap();
    let out = sb
        .execute("import sys\nprint('fractions' in sys.modules)")
        .await
        .unwrap();
    assert_eq!(out, "True\n");
    let out = sb
        .execute("import fractions\nprint(fractions.Fraction(2, 4))")
        .await
        .unwrap();
    assert_eq!(out, "1/2\n");
}

#[tokio::test]
async fn bad_preimports_are_refused() {
    match Sandbox::builder()
        .preimport(&["os; import sys"])
        .build()
        .await
    {
        Err(Error::Setup(msg)) => assert!(msg.contains("not a module name"), "{msg}"),
        other => panic!("{:?}", other.err()),
    }
    match Sandbox::builder()
        .preimport(&["no_such_module_xyz"])
        .build()
        .await
    {
        Err(Error::Setup(msg)) => assert!(msg.contains("ModuleNotFoundError"), "{msg}"),
        other => panic!("{:?}", other.err()),
    }
}

/// A package directory holding `name/__init__.py` with `source`.
fn package_dir(test: &str, name: &str, source: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("eryx-preinit-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(name)).unwrap();
    std::fs::write(dir.join(name).join("__init__.py"), source).unwrap();
    dir.join(name)
}

#[tokio::test]
async fn packages_work_with_and_without_preimport() {
    let pkg = package_dir("plain", "preinit_pkg_a", "VALUE = 41\n");
    let mut sb = Sandbox::builder().package(&pkg).build().await.unwrap();
    let out = sb
        .execute("import preinit_pkg_a\nprint(preinit_pkg_a.VALUE + 1)")
        .await;
    assert_eq!(out.unwrap(), "42\n");

    let pkg = package_dir(
        "pre",
        "preinit_pkg_b",
        "import json\nVALUE = json.dumps([1])\n",
    );
    let mut sb = Sandbox::builder()
        .package(&pkg)
        .preimport(&["preinit_pkg_b"])
        .build()
        .await
        .unwrap();
    let code = "import sys\nprint('preinit_pkg_b' in sys.modules)\nimport preinit_pkg_b\nprint(preinit_pkg_b.VALUE)";
    assert_eq!(sb.execute(code).await.unwrap(), "True\n[1]\n");
}

#[tokio::test]
async fn preimported_extension_survives_restore() {
    let mut sb = Sandbox::builder()
        .package(extension("simplejson"))
        .preimport(&["simplejson", "simplejson._speedups"])
        .build()
        .await
        .unwrap();
    let code = "import sys\nprint('simplejson._speedups' in sys.modules)\n\
                import simplejson, simplejson._speedups as sp\n\
                print(simplejson.encoder.c_make_encoder is sp.make_encoder)\n\
                print(simplejson.dumps({'b': [1, 2.5, None], 'a': 'é'}, sort_keys=True))\n\
                print(simplejson.loads('{\"x\": [1, {\"y\": null}]}'))";
    let out = sb.execute(code).await.unwrap();
    assert_eq!(
        out,
        "True\nTrue\n{\"a\": \"\\u00e9\", \"b\": [1, 2.5, null]}\n{'x': [1, {'y': None}]}\n"
    );
}
