//! The one place that knows how the sandbox component is linked: the WIT
//! bindings from wit-dylib, then every library in dependency order, then the
//! WASI preview1 adapter. Native extensions come last, dl-openable under the
//! exact guest path Python will `dlopen` (wit-component's built-in libdl
//! looks libraries up by that name).
use crate::embedded as e;
use wit_component::{Linker, StringEncoding};
use wit_parser::Resolve;

/// Shared libraries in link order (dependencies first). An imported symbol
/// resolves to its first exporter in this order, which is how
/// `liberyx_write.so`'s `write()` (ENOSPC instead of libc's EIO,
/// `c/write_enospc.c`) wins over libc's for every library importing it.
const LINK_ORDER: &[(&str, &[u8])] = &[
    ("libwasi-emulated-mman.so", e::WASI_MMAN),
    ("libwasi-emulated-process-clocks.so", e::WASI_CLOCKS),
    ("libwasi-emulated-getpid.so", e::WASI_GETPID),
    ("libwasi-emulated-signal.so", e::WASI_SIGNAL),
    ("liberyx_write.so", e::WRITE),
    ("libc.so", e::LIBC),
    ("libc++abi.so", e::LIBCXXABI),
    ("libc++.so", e::LIBCXX),
    ("libpython3.14.so", e::LIBPYTHON),
    (RUNTIME_NAME, e::RUNTIME),
];

const RUNTIME_NAME: &str = "liberyx_runtime.so";

/// Generate the wit-dylib bindings library for the sandbox world.
fn bindings() -> anyhow::Result<Vec<u8>> {
    let mut resolve = Resolve::default();
    let pkg = resolve.push_str("sandbox.wit", e::WIT)?;
    let world = resolve.select_world(&[pkg], Some("sandbox"))?;
    let mut opts = wit_dylib::DylibOpts {
        interpreter: Some(RUNTIME_NAME.into()),
        ..Default::default()
    };
    let mut bytes = wit_dylib::create(&resolve, world, Some(&mut opts))?;
    wit_component::embed_component_metadata(
        &mut bytes,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )?;
    Ok(bytes)
}

/// Link the sandbox component. `extensions` are (guest path, bytes) of WASI
/// extension modules, linked dl-openable after everything else.
pub fn link(extensions: &[(String, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let run = || -> anyhow::Result<Vec<u8>> {
        let bindings = bindings()?;
        let mut linker = Linker::default();
        linker.use_built_in_libdl(true);
        linker.encoder().validate(true);
        for (name, bytes) in LINK_ORDER {
            linker.library(name, bytes, false)?;
        }
        linker.library("liberyx_bindings.so", &bindings, false)?;
        for (guest_path, bytes) in extensions {
            linker.library(guest_path, bytes, true)?;
        }
        linker
            .encoder()
            .adapter("wasi_snapshot_preview1", e::ADAPTER)?;
        linker.encode()
    };
    // wit-component panics on some inputs (e.g. 0.263 on a weak symbol that
    // several extensions import): a bad package must not take the host down.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(linked) => {
            linked.map_err(|err| format!("linking the sandbox component failed: {err:#}"))
        }
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            Err(format!(
                "linking the sandbox component failed: the component linker rejected the \
                 extension modules ({why})"
            ))
        }
    }
}
