//! HTTPS with `requests`: the sandbox vs native python3, in one run.
//!
//!     cargo +1.95.0 run --release -p eryx --example net_bench [-- N ROUNDS]
//!
//! Starts a local HTTPS server (test CA, tests/net_support), runs
//! bench/net/requests_bench.py in the sandbox (requests from the pinned
//! wheels of scripts/fetch-net-wheels.sh as packages, the CA added as a
//! root) and with native python3 (the same wheels unpacked on PYTHONPATH),
//! alternating for ROUNDS rounds (default 3), and prints a Markdown table
//! of medians with the ratio sandbox/native: N (default 100) sequential
//! GETs of 64 B and of 1 MiB on one keep-alive session, N GETs each on a
//! new connection, and the time to the first byte of a new TLS connection.
#[path = "../tests/net_support/mod.rs"]
mod net_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn wheels() -> Vec<PathBuf> {
    let out = std::process::Command::new(root().join("scripts/fetch-net-wheels.sh"))
        .output()
        .expect("scripts/fetch-net-wheels.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let mut w: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    w.sort();
    w
}

/// Unpack the wheels into `dir` for native python3.
fn unpack(wheels: &[PathBuf], dir: &Path) {
    for w in wheels {
        let st = std::process::Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(w)
            .arg(dir)
            .status()
            .unwrap();
        assert!(st.success());
    }
}

type Figures = serde_json::Value;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = argv.first().and_then(|a| a.parse().ok()).unwrap_or(100);
    let rounds: usize = argv.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let ca = net_support::TestCa::new();
    let srv = net_support::start(Some(&ca)).await;
    let base = format!("https://127.0.0.1:{}", srv.port);
    let tmp = std::env::temp_dir().join(format!("eryx-net-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let ca_file = tmp.join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let wheels = wheels();
    let site = tmp.join("site");
    unpack(&wheels, &site);
    let script_path = root().join("bench/net/requests_bench.py");
    let script = std::fs::read_to_string(&script_path).unwrap();

    let mut builder = eryx::Sandbox::builder()
        .progress(true)
        .timeout(Duration::from_secs(600))
        .allow_host(&format!("127.0.0.1:{}", srv.port))
        .add_root_certificate(ca.ca_pem.as_bytes())
        .network_limits(eryx::NetworkLimits {
            max_connections: 10_000,
            max_bytes_in: 4 << 30,
            ..eryx::NetworkLimits::default()
        })
        .args(["requests_bench.py", &base, &n.to_string(), ""]);
    for w in &wheels {
        builder = builder.package(w);
    }
    let mut sb = builder.build().await.expect("sandbox");

    let mut sandbox: Vec<Figures> = Vec::new();
    let mut native: Vec<Figures> = Vec::new();
    for round in 0..rounds {
        eprintln!("net_bench: round {}/{rounds}", round + 1);
        let out = sb.execute(&script).await.expect("sandbox run");
        sandbox.push(serde_json::from_str(out.trim()).unwrap());
        let out = std::process::Command::new("python3")
            .arg(&script_path)
            .args([&base, &n.to_string(), ca_file.to_str().unwrap()])
            .env("PYTHONPATH", &site)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        native.push(serde_json::from_slice(&out.stdout).unwrap());
    }
    let _ = std::fs::remove_dir_all(&tmp);

    let py = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "HTTPS from a local server with requests 2.32.5, {rounds} rounds, medians (native: {py})\n"
    );
    println!("| measurement | eryx | native python3 | ratio |");
    println!("|---|---|---|---|");
    let rows = [
        ("small", format!("{n} GETs of 64 B, one session")),
        ("large", format!("{n} GETs of 1 MiB, one session")),
        (
            "small_new_conn",
            format!("{n} GETs of 64 B, new connection each"),
        ),
        ("ttfb", "time to first byte, new TLS connection".to_string()),
    ];
    for (key, label) in rows {
        let mut s: Vec<f64> = sandbox.iter().map(|f| f[key].as_f64().unwrap()).collect();
        let mut p: Vec<f64> = native.iter().map(|f| f[key].as_f64().unwrap()).collect();
        let (s, p) = (median(&mut s), median(&mut p));
        println!(
            "| {label} | {:.1} ms | {:.1} ms | {:.2}x |",
            s * 1e3,
            p * 1e3,
            s / p
        );
    }
}
