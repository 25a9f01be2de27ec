//! The guest artefacts built into the binary (see host/build.rs): the eryx
//! runtime, CPython-for-WASI and its libraries, the WASI adapter, the stdlib
//! tar and the WIT world, plus a content hash over all of them.
include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
