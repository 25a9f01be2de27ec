//! eryx guest runtime: a wit-dylib interpreter that runs CPython 3.14 inside
//! the eryx sandbox component.
//!
//! Layout: `ffi` is the only place with `unsafe` (CPython C API through
//! bindgen, the wit-dylib ABI entry points and component intrinsics);
//! `call` is the value stack of a call context; `exports` implements the
//! world's exports on top of `python`, the safe interpreter facade;
//! `preinit` handles the pre-initialisation snapshot's life cycle.
//!
//! On non-wasm targets the crate is empty (so a workspace-wide native build
//! does not need the WASI toolchain).
#![cfg_attr(not(target_arch = "wasm32"), allow(unused))]

#[cfg(target_arch = "wasm32")]
mod call;
#[cfg(target_arch = "wasm32")]
mod exports;
#[cfg(target_arch = "wasm32")]
mod ffi;
#[cfg(target_arch = "wasm32")]
mod preinit;
#[cfg(target_arch = "wasm32")]
mod python;
#[cfg(target_arch = "wasm32")]
mod tasks;

/// Name of the guest path where the host mounts the Python standard library.
pub const STDLIB_GUEST_PATH: &str = "/lib/python3.14";

/// The installation prefix (`sys.prefix`, CPython's `home`): the stdlib is
/// `PREFIX/lib/python3.14` ([`STDLIB_GUEST_PATH`]), the layout CPython's
/// `getpath` derives `sys._stdlib_dir` and `sysconfig`'s paths from.
pub const PREFIX_GUEST_PATH: &str = "/";

/// Guest path where the host mounts installed packages (pure Python files
/// and WASI extension modules) read-only; it is on `sys.path` after the
/// stdlib. Extension modules are linked into the component under their full
/// path below this directory, which is exactly what Python passes to `dlopen`.
pub const PACKAGES_GUEST_PATH: &str = "/site-packages";
