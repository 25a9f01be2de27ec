//! The FFI layer: the only module tree with `unsafe`. `sys` is bindgen output
//! (CPython + wit-dylib types), `py` wraps CPython objects in RAII owners and
//! exposes a small safe API, `abi` implements the wit-dylib interpreter ABI
//! (the `wit_dylib_*` exports), `host` backs the `eryx` module's host
//! calls, `net` the network imports behind `eryx._net_*`, `meta` reads the
//! world metadata and `wasi` resets the WASI state held in the guest
//! (pre-initialisation), `trashcan` bounds the native stack of deep
//! container deallocations; `alloc` is CPython's small-object allocator.
pub mod abi;
mod alloc;
pub mod async_abi;
pub mod host;
pub mod meta;
pub mod net;
pub mod py;
pub mod sys;
pub mod trashcan;
pub mod wasi;
