//! `--upload HOST:GUEST` and `--download GUEST:HOST`: files copied into the
//! sandbox's own filesystem before the program (no mount: the guest gets
//! a copy, the host file is never reachable from it) and out of it after
//! the program ran — also when it failed or hit a limit. The library's
//! files API does the sandbox side (`..`, host mounts and files past the
//! caps are refused with a clear message).
use eryx::Sandbox;

/// Split `--upload HOST:GUEST` at its last `:` (a host path may hold one).
pub fn upload_spec(spec: &str) -> Result<(String, String), String> {
    match spec.rsplit_once(':') {
        Some((host, guest)) if !host.is_empty() && !guest.is_empty() => {
            Ok((host.into(), guest.into()))
        }
        _ => Err(format!("--upload expects HOST:GUEST, got {spec:?}")),
    }
}

/// Split `--download GUEST:HOST` at its first `:`.
pub fn download_spec(spec: &str) -> Result<(String, String), String> {
    match spec.split_once(':') {
        Some((guest, host)) if !guest.is_empty() && !host.is_empty() => {
            Ok((guest.into(), host.into()))
        }
        _ => Err(format!("--download expects GUEST:HOST, got {spec:?}")),
    }
}

/// Copy every `(host, guest)` file in; the first failure is the error.
pub fn upload(sb: &mut Sandbox, files: &[(String, String)]) -> Result<(), String> {
    for (host, guest) in files {
        let bytes =
            std::fs::read(host).map_err(|e| format!("--upload: can't read '{host}': {e}"))?;
        sb.write_file(guest, &bytes)
            .map_err(|e| format!("--upload {host}:{guest}: {e}"))?;
    }
    Ok(())
}

/// Copy every `(guest, host)` file out; each failure is reported on
/// stderr. Whether all were copied.
pub fn download(sb: &mut Sandbox, files: &[(String, String)]) -> bool {
    let mut ok = true;
    for (guest, host) in files {
        let r = sb
            .read_file(guest)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                std::fs::write(host, b).map_err(|e| format!("can't write '{host}': {e}"))
            });
        if let Err(msg) = r {
            eprintln!("eryx: --download {guest}:{host}: {msg}");
            ok = false;
        }
    }
    ok
}
