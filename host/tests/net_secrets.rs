//! Secrets: the guest holds a placeholder; the host puts the real value on
//! the wire only to the secret's hosts, swaps it back on the way in, and
//! scrubs value and placeholder from every output channel.
mod net_support;
use eryx::{Error, Sandbox, Stream};
use net_support::{start, TestCa};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const VALUE: &str = "s3cr3t-Value-7f2a9c";

#[tokio::test]
async fn secret_goes_only_to_its_host_and_never_back_into_the_guest() {
    let ca = TestCa::new();
    let allowed = start(Some(&ca)).await;
    let other = start(None).await;
    let (a, o) = (allowed.port, other.port);
    let mut sb = Sandbox::builder()
        .timeout(Duration::from_secs(30))
        .allow_host(&format!("127.0.0.1:{a}"))
        .allow_host(&format!("127.0.0.1:{o}"))
        .add_root_certificate(ca.ca_pem.as_bytes())
        .secret("API_TOKEN", VALUE, &[&format!("127.0.0.1:{a}")])
        .build()
        .await
        .unwrap();
    let out = sb
        .execute(&format!(
            "import os, urllib.request, socket, ssl\n\
             tok = os.environ['API_TOKEN']\n\
             print(tok.startswith('ERYX_'), len(tok) == {n}, tok != {VALUE:?})\n\
             def fetch(url):\n\
             \x20   req = urllib.request.Request(url, data=('token=' + tok).encode(),\n\
             \x20                                headers={{'Authorization': 'Bearer ' + tok}})\n\
             \x20   return urllib.request.urlopen(req, timeout=10).read()\n\
             body = fetch('https://127.0.0.1:{a}/echo')\n\
             # The echo carries the real value; the guest gets the placeholder.\n\
             print(tok.encode() in body, body.count(tok.encode()))\n\
             body = fetch('http://127.0.0.1:{o}/echo')\n\
             print(tok.encode() in body)\n\
             # The placeholder split across two writes is still replaced.\n\
             t = ssl.create_default_context().wrap_socket(\n\
             \x20   socket.create_connection(('127.0.0.1', {a})), server_hostname='127.0.0.1')\n\
             t.sendall(b'GET /echo HTTP/1.1\\r\\nHost: x\\r\\nX-Split: ' + tok[:15].encode())\n\
             t.sendall(tok[15:].encode() + b'\\r\\nConnection: close\\r\\n\\r\\n')\n\
             data = b''\n\
             while chunk := t.recv(65536):\n\
             \x20   data += chunk\n\
             print(tok.encode() in data)",
            n = VALUE.len()
        ))
        .await
        .unwrap();
    assert_eq!(out, "True True True\nTrue 2\nTrue\nTrue\n");
    let to_allowed = allowed.requests();
    assert_eq!(to_allowed.len(), 2);
    for r in &to_allowed {
        assert!(
            r.head.contains(VALUE),
            "the allowed host got the value: {r:?}"
        );
        assert!(!r.head.contains("Bearer ERYX_"), "{r:?}");
    }
    assert_eq!(to_allowed[0].body, format!("token={VALUE}").into_bytes());
    assert!(to_allowed[0]
        .head
        .contains(&format!("Authorization: Bearer {VALUE}")));
    assert!(to_allowed[1].head.contains(&format!("X-Split: {VALUE}")));
    let to_other = other.requests();
    assert_eq!(to_other.len(), 1);
    assert!(
        !to_other[0].head.contains(VALUE)
            && !String::from_utf8_lossy(&to_other[0].body).contains(VALUE)
    );
    let placeholder = to_other[0]
        .head
        .lines()
        .find_map(|l| l.strip_prefix("Authorization: Bearer "))
        .expect("the other host got an Authorization header");
    assert!(
        placeholder.starts_with("ERYX_") && placeholder.len() == VALUE.len(),
        "{placeholder}"
    );
    assert_eq!(
        to_other[0].body,
        format!("token={placeholder}").into_bytes()
    );
}

#[tokio::test]
async fn secret_and_placeholder_are_scrubbed_from_every_output_channel() {
    let log = Arc::new(Mutex::new(Vec::<(Stream, String)>::new()));
    let traces = Arc::new(Mutex::new(Vec::<String>::new()));
    let placeholder = Arc::new(Mutex::new(String::new()));
    let (l, t, ph) = (log.clone(), traces.clone(), placeholder.clone());
    let mut sb = Sandbox::builder()
        .callback("keep", "", move |v| {
            *ph.lock().unwrap() = v["tok"].as_str().unwrap_or("").to_string();
            async { Ok(serde_json::Value::Null) }
        })
        .allow_host("127.0.0.1:9")
        .secret("TOKEN", VALUE, &["api.example.com"])
        .on_output(move |s, text| l.lock().unwrap().push((s, text.to_string())))
        .on_trace(move |ev| t.lock().unwrap().push(ev.raw.to_string()))
        .build()
        .await
        .unwrap();
    let ex = sb
        .run(&format!(
            "import os, sys\n\
             tok = os.environ['TOKEN']\n\
             await keep(tok=tok)\n\
             print('out', tok)\n\
             print('err', tok, file=sys.stderr)\n\
             os.write(1, ('fd1 ' + tok + '\\n').encode())\n\
             print('guessed', {VALUE:?})\n\
             exec(f'def {{tok}}(): pass')\n\
             globals()[tok]()\n\
             raise ValueError('leak ' + tok)"
        ))
        .await;
    let shown = format!("{}{}", ex.stdout, ex.stderr);
    for line in [
        "out [REDACTED]",
        "err [REDACTED]",
        "fd1 [REDACTED]",
        "guessed [REDACTED]",
    ] {
        assert!(shown.contains(line), "{line:?} missing from {shown:?}");
    }
    let live: String = log.lock().unwrap().iter().map(|(_, t)| t.clone()).collect();
    let traced = traces.lock().unwrap().join("\n");
    let Some(Error::Python {
        message, traceback, ..
    }) = ex.error.clone()
    else {
        panic!("{:?}", ex.error)
    };
    assert_eq!(message, "leak [REDACTED]");
    assert!(
        traced.contains("[REDACTED]"),
        "the function named by the placeholder: {traced}"
    );
    let json = ex.to_json().to_string();
    let placeholder = placeholder.lock().unwrap().clone();
    assert_eq!(placeholder.len(), VALUE.len(), "{placeholder:?}");
    for (name, text) in [
        ("stdout+stderr", &shown),
        ("live output", &live),
        ("traceback", &traceback),
        ("trace events", &traced),
        ("json", &json),
    ] {
        assert!(!text.contains(VALUE), "{name} shows the value: {text}");
        assert!(
            !text.contains(&placeholder),
            "{name} shows the placeholder: {text}"
        );
    }
}
