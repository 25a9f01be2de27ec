//! Pre-initialisation, guest side. The host (host/src/preinit.rs) builds a
//! memory snapshot of an instance that has started CPython, loaded the
//! helpers and imported chosen modules; every sandbox then starts from that
//! image instead of paying for `Py_Initialize`.
//!
//! The pre-init instance is recognised by `ERYX_PREINIT=1` in its
//! environment. It runs exactly one `execute` (the imports). When that call
//! has delivered its result, the runtime empties the user namespace, resets
//! what the helpers cached from this instance, drops every WASI handle
//! (they belong to the pre-init store) and marks the state as *restored*;
//! then the host takes the snapshot.
//!
//! In an instance made from the snapshot the first export call sees that
//! mark and reloads what is per instance: the environment (`os.environ`,
//! which CPython copied at start-up; settings such as `ERYX_TRACE` live
//! there), the arguments (`sys.argv`) and the seed of `random`. The hash seed of `str`/`bytes` cannot
//! change after start-up: every instance made from one snapshot shares it.

use crate::ffi::wasi;
use crate::python;
use std::cell::Cell;

/// Where this instance is in the pre-initialisation life cycle.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    /// Started normally: nothing to do.
    Normal,
    /// The pre-init instance, before its snapshot.
    Preinit,
    /// Made from a snapshot; per-instance state not reloaded yet.
    Restored,
}

thread_local! {
    static MODE: Cell<Mode> = const { Cell::new(Mode::Normal) };
}

/// Environment variable the host sets only for the pre-init instance.
const PREINIT_VAR: &str = "ERYX_PREINIT";

/// At instance start-up: is this the pre-init instance?
pub fn detect() {
    if std::env::var(PREINIT_VAR).as_deref() == Ok("1") {
        MODE.with(|m| m.set(Mode::Preinit));
    }
}

/// After an export call has delivered its result: in the pre-init instance,
/// make the state ready for the snapshot.
pub fn after_call() -> Result<(), String> {
    if MODE.with(|m| m.get()) != Mode::Preinit {
        return Ok(());
    }
    python::before_snapshot()?;
    MODE.with(|m| m.set(Mode::Restored));
    wasi::forget_handles();
    Ok(())
}

/// Before an export call: in an instance made from the snapshot, reload the
/// per-instance state (once).
pub fn before_call() -> Result<(), String> {
    if MODE.with(|m| m.get()) != Mode::Restored {
        return Ok(());
    }
    MODE.with(|m| m.set(Mode::Normal));
    wasi::reload_environ();
    let env: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    python::after_restore(&env, &argv)
}
