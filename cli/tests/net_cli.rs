//! The network flags of the `eryx` command line: `--allow-host`,
//! `--ca-cert`, `--secret`, against a local HTTPS server.
#[path = "../../host/tests/net_support/mod.rs"]
mod net_support;
use net_support::{start, TestCa};
use tokio::process::Command;

#[tokio::test]
async fn allow_host_ca_cert_and_secret_flags() {
    let ca = TestCa::new();
    let srv = start(Some(&ca)).await;
    let dir = std::env::temp_dir().join(format!("eryx-net-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let p = srv.port;
    let code = format!(
        "import os, urllib.request\n\
         tok = os.environ['TOKEN']\n\
         req = urllib.request.Request('https://127.0.0.1:{p}/echo', headers={{'X-Token': tok}})\n\
         body = urllib.request.urlopen(req).read().decode()\n\
         print('sent', tok, tok in body)"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_eryx"))
        .arg(format!("--allow-host=127.0.0.1:{p}"))
        .arg("--ca-cert")
        .arg(&ca_file)
        .args([
            "--secret",
            &format!("TOKEN=cli-secret-value-1234@127.0.0.1:{p}"),
        ])
        .args(["-c", &code])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "sent [REDACTED] True\n");
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 1);
    assert!(
        reqs[0].head.contains("X-Token: cli-secret-value-1234"),
        "{:?}",
        reqs[0]
    );

    // NAME@HOST: the value comes from eryx's own environment.
    let out = Command::new(env!("CARGO_BIN_EXE_eryx"))
        .arg(format!("--allow-host=127.0.0.1:{p}"))
        .arg(format!("--ca-cert={}", ca_file.display()))
        .args(["--secret", &format!("TOKEN@127.0.0.1:{p}")])
        .env("TOKEN", "from-the-environment-5678")
        .args(["-c", &code])
        .output()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "sent [REDACTED] True\n"
    );
    assert!(srv.requests()[1]
        .head
        .contains("X-Token: from-the-environment-5678"));

    // Without --allow-host: refused, exit status 1 with the reason.
    let out = Command::new(env!("CARGO_BIN_EXE_eryx"))
        .args([
            "-c",
            &format!("import socket; socket.create_connection(('127.0.0.1', {p}))"),
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("PermissionError") && stderr.contains("network access is off"),
        "{stderr}"
    );
    assert_eq!(srv.connections(), 2);

    // Bad values: the sandbox cannot be built, exit status 1 with the reason.
    for (bad, why) in [
        (vec!["--secret", "NOHOST=x"], "NOHOST"),
        (vec!["--allow-host", "a*b"], "a*b"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_eryx"))
            .args(&bad)
            .args(["-c", "pass"])
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{bad:?}: {stderr}");
        assert!(
            stderr.starts_with("eryx: ") && stderr.contains(why),
            "{bad:?}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
