//! Helpers for the `eryx` command's tests: the library tests' shared helpers
//! (host/tests/common) plus running the real binary.
#![allow(dead_code, unused_imports)]
#[path = "../../../host/tests/common/mod.rs"]
mod shared;
pub use shared::*;
use std::process::Output;

/// Run the real `eryx` binary with `args`, feeding `stdin`, to completion.
pub fn eryx_cli(args: &[&str], stdin: &[u8]) -> Output {
    run_piped(env!("CARGO_BIN_EXE_eryx"), args, stdin)
}
