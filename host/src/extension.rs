//! Telling a WASI extension module from everything else that can hide behind
//! a `.so` name: the guest can only load WebAssembly shared libraries (a core
//! module whose first section is `dylink.0`, as `wasm-ld -shared
//! --experimental-pic` writes). Anything else gets a reason a person can act
//! on, never a linker backtrace.

const WASM_MAGIC: &[u8] = b"\0asm";
const CORE_VERSION: &[u8] = &[1, 0, 0, 0];
const REBUILD_HINT: &str = "rebuild it for wasm32-wasi (see scripts/build-extension.sh)";

/// Read an unsigned LEB128 (u32) at `*at`, advancing it.
fn leb_u32(b: &[u8], at: &mut usize) -> Option<u32> {
    let mut value: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        value |= ((byte & 0x7f) as u32).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Whether the module's first section is the custom section `dylink.0`.
fn has_dylink(b: &[u8]) -> bool {
    let mut at = 8;
    if b.get(at) != Some(&0) {
        return false;
    }
    at += 1;
    let Some(_size) = leb_u32(b, &mut at) else {
        return false;
    };
    let Some(len) = leb_u32(b, &mut at) else {
        return false;
    };
    b.get(at..at + len as usize) == Some(b"dylink.0".as_slice())
}

/// `Ok` if `bytes` is a WebAssembly shared library the sandbox can link;
/// otherwise why not (to be prefixed with the file's name).
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let head = &bytes[..bytes.len().min(8)];
    if head.starts_with(WASM_MAGIC) {
        if bytes.get(4..8) != Some(CORE_VERSION) {
            return Err("is a WebAssembly component, not a shared library (core module)".into());
        }
        if !has_dylink(bytes) {
            return Err(format!(
                "is a WebAssembly module without a dylink.0 section, not a shared library \
                 (it must be linked with `wasm-ld -shared --experimental-pic`); {REBUILD_HINT}"
            ));
        }
        return Ok(());
    }
    let kind = if head.starts_with(b"\x7fELF") {
        "a native ELF shared object (built for Linux, e.g. from a manylinux wheel)"
    } else if [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xcf, 0xfa, 0xed, 0xfe],
        [0xca, 0xfe, 0xba, 0xbe],
    ]
    .iter()
    .any(|m| head.starts_with(m))
    {
        "a native Mach-O library (built for macOS)"
    } else if head.starts_with(b"MZ") {
        "a native Windows DLL"
    } else {
        "not a WebAssembly module"
    };
    Err(format!(
        "is {kind}, not a WASI extension module; {REBUILD_HINT}"
    ))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_a_dylink_module() {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.push(0); // custom section
        m.push(9 + 4); // size: name (1 + 8) + payload (4)
        m.push(8);
        m.extend_from_slice(b"dylink.0");
        m.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(check(&m), Ok(()));
    }

    #[test]
    fn names_what_it_found() {
        let elf = check(b"\x7fELF\x02\x01\x01\0rest").unwrap_err();
        assert!(
            elf.contains("native ELF") && elf.contains("wasm32-wasi"),
            "{elf}"
        );
        let plain = check(b"\0asm\x01\0\0\0\x01\x04\x01\x60\0\0").unwrap_err();
        assert!(plain.contains("dylink.0"), "{plain}");
        let comp = check(b"\0asm\x0d\0\x01\0").unwrap_err();
        assert!(comp.contains("component"), "{comp}");
        assert!(check(b"").unwrap_err().contains("not a WebAssembly module"));
        assert!(check(b"\xcf\xfa\xed\xfe....")
            .unwrap_err()
            .contains("Mach-O"));
    }
}
