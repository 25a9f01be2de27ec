//! Measures what native extensions cost: link time and component size with
//! and without the given packages, time to create the first sandbox (link +
//! compile on a cold cache, deserialise on a warm one), and the import time
//! of each module in a fresh sandbox.
//!
//! ```text
//! ERYX_CACHE_DIR=$(mktemp -d) cargo run --release -p eryx --example extension_timings -- \
//!     target/extensions/markupsafe target/extensions/simplejson -- markupsafe simplejson
//! ```
//! Run it twice with the same `ERYX_CACHE_DIR` to see the cached numbers.
use std::path::PathBuf;
use std::time::Instant;

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn builder(pkgs: &[PathBuf]) -> eryx::SandboxBuilder {
    pkgs.iter()
        .fold(eryx::Sandbox::builder(), |b, p| b.package(p))
}

#[tokio::main]
async fn main() -> Result<(), eryx::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let pkgs: Vec<PathBuf> = args[..split].iter().map(PathBuf::from).collect();
    let modules: Vec<&String> = args.get(split + 1..).unwrap_or_default().iter().collect();

    let t = Instant::now();
    let base = eryx::link_component(&[])?;
    println!(
        "link, no packages:     {:8.1} ms  {:6.2} MB",
        ms(t),
        base.len() as f64 / 1e6
    );
    let t = Instant::now();
    let with = eryx::link_component(&pkgs)?;
    println!(
        "link, with packages:   {:8.1} ms  {:6.2} MB",
        ms(t),
        with.len() as f64 / 1e6
    );

    let t = Instant::now();
    let mut sb = builder(&pkgs).build().await?;
    println!(
        "first sandbox (link + compile, or load the cached code): {:8.1} ms",
        ms(t)
    );
    sb.execute("pass").await?;
    let t = Instant::now();
    builder(&pkgs).build().await?;
    println!(
        "next sandbox in this process:                          {:8.1} ms",
        ms(t)
    );

    for m in modules {
        // Total, in a fresh sandbox (includes the stdlib modules it pulls in).
        let mut sb = builder(&pkgs).build().await?;
        let timed = format!(
            "t = time.perf_counter()\nimport {m}\nprint(round((time.perf_counter() - t) * 1e3, 2))"
        );
        let deps = format!(
            "import sys, time\nb = set(sys.modules)\n{timed}\n\
             print(' '.join(sorted(x for x in set(sys.modules) - b if x.split('.')[0] != {top:?})))",
            top = m.split('.').next().unwrap_or_default()
        );
        let out = sb.execute(&deps).await?;
        let (total, stdlib_deps) = out.split_once('\n').unwrap_or((&out, ""));
        // Own cost: a fresh sandbox with those stdlib modules imported first.
        let mut sb = builder(&pkgs).build().await?;
        let pre = stdlib_deps
            .split_whitespace()
            .map(|d| format!("import {d}\n"))
            .collect::<String>();
        let own = sb.execute(&format!("import time\n{pre}{timed}")).await?;
        println!(
            "import {m}: {total} ms in a fresh sandbox, {} ms with its stdlib imports done",
            own.trim()
        );
        // The extension module alone (dlopen + PyInit + module exec), if `m` is one.
        let so = format!("{}.cpython-314-wasm32-wasi.so", m.replace('.', "/"));
        if pkgs.iter().any(|p| p.join(&so).is_file()) {
            let mut sb = builder(&pkgs).build().await?;
            let parent = m
                .rsplit_once('.')
                .map(|(p, _)| format!("import {p}\n"))
                .unwrap_or_default();
            let code = format!(
                "{pre}{parent}import time, importlib.util\n\
                 spec = importlib.util.spec_from_file_location({m:?}, '/site-packages/{so}')\n\
                 t = time.perf_counter()\n\
                 spec.loader.exec_module(importlib.util.module_from_spec(spec))\n\
                 print(round((time.perf_counter() - t) * 1e3, 3))"
            );
            println!(
                "  {so} alone (dlopen + PyInit + exec, its imports done): {} ms",
                sb.execute(&code).await?.trim()
            );
        }
    }
    Ok(())
}
