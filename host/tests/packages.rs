//! Packages in the sandbox, with real CPython in real wasmtime: C extensions
//! cross-built from pinned PyPI sdists by scripts/build-extension.sh
//! (markupsafe, simplejson) linked into the component and really used;
//! pure-Python directories and wheels on `sys.path`; clear errors for native
//! (non-WASI) extension modules, in the library and in the CLI.
mod common;
use common::extension;
use eryx::{Error, Sandbox};
use std::path::PathBuf;
use std::process::Command;

/// A sandbox with both extensions (one component for every test here).
async fn with_extensions() -> Sandbox {
    Sandbox::builder()
        .package(extension("markupsafe"))
        .package(extension("simplejson"))
        .build()
        .await
        .expect("sandbox with markupsafe and simplejson")
}

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eryx-pkg-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn markupsafe_uses_its_c_speedups() {
    let mut sb = with_extensions().await;
    let code = r#"
import markupsafe, markupsafe._speedups as sp
print(markupsafe._escape_inner is sp._escape_inner, type(sp._escape_inner).__name__)
print(sp.__file__)
print(markupsafe.escape('<a href="x">&\'</a>'))
print(markupsafe.Markup('<b>%s</b>') % '<i>')
print(markupsafe.escape('\u00e9' * 3 + '<'))
"#;
    assert_eq!(
        sb.execute(code).await.unwrap(),
        "True builtin_function_or_method\n\
         /site-packages/markupsafe/_speedups.cpython-314-wasm32-wasi.so\n\
         &lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;\n\
         <b>&lt;i&gt;</b>\n\
         \u{e9}\u{e9}\u{e9}&lt;\n"
    );
}

#[tokio::test]
async fn simplejson_uses_its_c_speedups() {
    let mut sb = with_extensions().await;
    let code = r#"
import simplejson, simplejson._speedups as sp
from simplejson import encoder, decoder, scanner
print(encoder.c_make_encoder is sp.make_encoder, decoder.scanstring is sp.scanstring,
      scanner.make_scanner is sp.make_scanner)
print(simplejson.dumps({"b": [1, 2.5, None, True, "\u00e9\n"], "a": {}}, sort_keys=True))
print(simplejson.loads('{"x": [1, -2e3, {"y": "\\u00e9"}], "z": null}'))
print(repr(simplejson.loads('[1.1]', use_decimal=True)[0]))
try:
    simplejson.loads('{"a": }')
except simplejson.JSONDecodeError as e:
    print(type(e).__name__, e.pos)
"#;
    assert_eq!(
        sb.execute(code).await.unwrap(),
        "True True True\n\
         {\"a\": {}, \"b\": [1, 2.5, null, true, \"\\u00e9\\n\"]}\n\
         {'x': [1, -2000.0, {'y': '\u{e9}'}], 'z': None}\n\
         Decimal('1.1')\n\
         JSONDecodeError 6\n"
    );
}

#[tokio::test]
async fn extension_modules_are_read_only_and_isolated_per_sandbox() {
    let mut a = with_extensions().await;
    let mut b = with_extensions().await;
    a.execute("import simplejson; simplejson.marker = 1")
        .await
        .unwrap();
    assert_eq!(
        b.execute("import simplejson; print(hasattr(simplejson, 'marker'))")
            .await
            .unwrap(),
        "False\n"
    );
    // Refused as not permitted, and nothing written.
    let out = a
        .execute(
            "import errno\ntry: open('/site-packages/evil.py', 'w')\n\
             except OSError as e: print(type(e).__name__, errno.errorcode[e.errno])\n\
             else: print('written')\n\
             import os; print(os.path.exists('/site-packages/evil.py'))",
        )
        .await
        .unwrap();
    assert_eq!(
        out, "PermissionError EPERM\nFalse\n",
        "/site-packages must be read-only"
    );
}

#[tokio::test]
async fn pure_python_directories_modules_and_wheels_import() {
    let dir = scratch("pure");
    // A package directory itself, and a site-packages style root.
    std::fs::create_dir_all(dir.join("greet")).unwrap();
    std::fs::write(dir.join("greet/__init__.py"), "WORD = 'hello'\n").unwrap();
    std::fs::create_dir_all(dir.join("root/deep/inner")).unwrap();
    std::fs::write(dir.join("root/deep/__init__.py"), "").unwrap();
    std::fs::write(dir.join("root/deep/inner/__init__.py"), "N = 42\n").unwrap();
    std::fs::write(dir.join("single.py"), "def f():\n    return 'single'\n").unwrap();
    // A wheel with a deflated module and a .data/purelib entry.
    let wheel = dir.join("wheely-1.0-py3-none-any.whl");
    let made = Command::new("python3")
        .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n    z.writestr('wheely/__init__.py', 'VALUE = ' + repr('w' * 500) + '\\n')\n    z.writestr('wheely-1.0.data/purelib/wheely_extra.py', 'X = 7\\n')\n    z.writestr('wheely-1.0.data/scripts/tool', '#!/bin/sh\\n')\n    z.writestr('wheely-1.0.dist-info/METADATA', 'Name: wheely\\nVersion: 1.0\\n')\n"])
        .arg(&wheel)
        .status()
        .expect("python3 makes the test wheel");
    assert!(made.success());
    let mut sb = Sandbox::builder()
        .package(dir.join("greet"))
        .package(dir.join("root"))
        .package(dir.join("single.py"))
        .package(&wheel)
        .build()
        .await
        .expect("sandbox with pure packages");
    let code = "import greet, deep.inner, single, wheely, wheely_extra, importlib.metadata as md\n\
                print(greet.WORD, deep.inner.N, single.f(), len(wheely.VALUE), wheely_extra.X)\n\
                print(greet.__file__, md.version('wheely'))";
    assert_eq!(
        sb.execute(code).await.unwrap(),
        "hello 42 single 500 7\n/site-packages/greet/__init__.py 1.0\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_native_elf_extension_is_a_clear_error_naming_the_file() {
    let dir = scratch("elf");
    let pkg = dir.join("fastthing");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("__init__.py"), "").unwrap();
    let so = pkg.join("_speed.cpython-314-x86_64-linux-gnu.so");
    // The start of a real x86-64 ELF shared object header.
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0".to_vec();
    elf.resize(256, 0);
    std::fs::write(&so, elf).unwrap();
    match Sandbox::builder().package(&pkg).build().await {
        Err(Error::Setup(msg)) => {
            assert!(msg.contains(&so.display().to_string()), "{msg}");
            assert!(msg.contains("native ELF shared object"), "{msg}");
            assert!(msg.contains("wasm32-wasi"), "{msg}");
        }
        Err(e) => panic!("expected a setup error, got {e:?}"),
        Ok(_) => panic!("a native .so must be refused"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A minimal WASI shared library (dylink.0 + one imported function).
fn wasm_so_importing(symbol: &str) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    // dylink.0 with an all-zero WASM_DYLINK_MEM_INFO subsection.
    let payload = [1u8, 4, 0, 0, 0, 0];
    m.extend([0, (1 + 8 + payload.len()) as u8, 8]);
    m.extend(b"dylink.0");
    m.extend(payload);
    m.extend([1, 4, 1, 0x60, 0, 0]); // type section: () -> ()
    let mut imports = vec![1u8, 3];
    imports.extend(b"env");
    imports.push(symbol.len() as u8);
    imports.extend(symbol.as_bytes());
    imports.extend([0, 0]); // function of type 0
    m.extend([2, imports.len() as u8]);
    m.extend(imports);
    m
}

#[tokio::test]
async fn an_extension_with_unresolved_symbols_fails_to_link_clearly() {
    let dir = scratch("unresolved");
    let so = dir.join("needy.cpython-314-wasm32-wasi.so");
    std::fs::write(&so, wasm_so_importing("eryx_no_such_symbol")).unwrap();
    match Sandbox::builder().package(&so).build().await {
        Err(Error::Setup(msg)) => {
            assert!(msg.contains("eryx_no_such_symbol"), "{msg}");
            assert!(
                msg.contains("/site-packages/needy.cpython-314-wasm32-wasi.so"),
                "{msg}"
            );
        }
        Err(e) => panic!("expected a setup error, got {e:?}"),
        Ok(_) => panic!("an unresolvable extension must not link"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_missing_package_path_is_an_error() {
    match Sandbox::builder()
        .package("/nonexistent/eryx-pkg")
        .build()
        .await
    {
        Err(Error::Setup(msg)) => assert!(msg.contains("/nonexistent/eryx-pkg"), "{msg}"),
        Err(e) => panic!("expected a setup error, got {e:?}"),
        Ok(_) => panic!("a missing package must be refused"),
    }
}

/// A warm start skips reading file inputs again (packages.rs `memo_key`);
/// a changed file must still be seen.
#[tokio::test]
async fn a_changed_module_file_is_seen_on_the_next_build() {
    let dir = scratch("memo");
    let module = dir.join("memo_mod.py");
    let mut seen = Vec::new();
    for version in ["1", "22", "333"] {
        std::fs::write(&module, format!("V = '{version}'\n")).unwrap();
        for _ in 0..2 {
            let mut sb = Sandbox::builder()
                .package(&module)
                .build()
                .await
                .expect("sandbox with a module");
            seen.push(
                sb.execute("import memo_mod\nprint(memo_mod.V)")
                    .await
                    .unwrap(),
            );
        }
    }
    assert_eq!(seen, ["1\n", "1\n", "22\n", "22\n", "333\n", "333\n"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
