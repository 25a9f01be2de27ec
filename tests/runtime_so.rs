//! The linked runtime `.so` is a real wasm shared object: it has a `dylink.0`
//! section, needs libpython, and exports every wit-dylib intrinsic the
//! generated bindings import.
use std::collections::HashSet;
use std::path::PathBuf;
use wasmparser::{Parser, Payload};

const INTRINSICS: &[&str] = &[
    "initialize",
    "dealloc_bytes",
    "export_start",
    "export_call",
    "export_async_call",
    "export_async_callback",
    "export_finish",
    "resource_dtor",
    "pop_u8",
    "pop_u16",
    "pop_u32",
    "pop_u64",
    "pop_s8",
    "pop_s16",
    "pop_s32",
    "pop_s64",
    "pop_bool",
    "pop_char",
    "pop_f32",
    "pop_f64",
    "pop_flags",
    "pop_enum",
    "pop_borrow",
    "pop_own",
    "pop_future",
    "pop_stream",
    "pop_record",
    "pop_tuple",
    "pop_variant",
    "pop_option",
    "pop_result",
    "pop_string",
    "pop_list",
    "pop_list_iter_next",
    "pop_list_iter",
    "pop_map",
    "pop_map_iter_next",
    "pop_map_iter",
    "push_bool",
    "push_char",
    "push_u8",
    "push_s8",
    "push_u16",
    "push_s16",
    "push_u32",
    "push_s32",
    "push_u64",
    "push_s64",
    "push_f32",
    "push_f64",
    "push_string",
    "push_record",
    "push_tuple",
    "push_flags",
    "push_enum",
    "push_borrow",
    "push_own",
    "push_future",
    "push_stream",
    "push_variant",
    "push_option",
    "push_result",
    "push_list",
    "list_append",
    "push_map",
    "map_append",
];

fn runtime_so() -> Vec<u8> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/eryx-artifacts/liberyx_runtime.so");
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/build-guest.sh)", p.display()))
}

#[test]
fn runtime_is_a_shared_object_exporting_every_intrinsic() {
    let bytes = runtime_so();
    let mut customs = Vec::new();
    let mut exports = HashSet::new();
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.expect("valid wasm") {
            Payload::CustomSection(c) => customs.push(c.name().to_string()),
            Payload::ExportSection(s) => {
                for e in s {
                    exports.insert(e.unwrap().name.to_string());
                }
            }
            _ => {}
        }
    }
    assert!(
        customs.iter().any(|c| c == "dylink.0"),
        "no dylink.0 section: {customs:?}"
    );
    let missing: Vec<_> = INTRINSICS
        .iter()
        .map(|i| format!("wit_dylib_{i}"))
        .filter(|name| !exports.contains(name))
        .collect();
    assert!(missing.is_empty(), "missing intrinsic exports: {missing:?}");
}

#[test]
fn runtime_needs_libpython() {
    let bytes = runtime_so();
    let needle = b"libpython3.14.so";
    assert!(
        bytes.windows(needle.len()).any(|w| w == needle),
        "dylink.0 does not list libpython3.14.so as needed"
    );
}
