//! Reading a PNG back in tests: the signature, the IHDR size and the
//! inflated image data (so a display test proves the bytes are a real PNG
//! of the expected size, not just that something arrived).

/// (width, height) of `bytes` if they are a well-formed 8-bit RGB PNG whose
/// image data inflates to exactly `height` rows of `1 + 3 * width` bytes.
pub fn png_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    let body = bytes
        .strip_prefix(b"\x89PNG\r\n\x1a\n")
        .ok_or("no PNG signature")?;
    let (mut at, mut size, mut idat) = (0, None, Vec::new());
    while at + 12 <= body.len() {
        let len = u32::from_be_bytes(body[at..at + 4].try_into().unwrap()) as usize;
        let kind = &body[at + 4..at + 8];
        let data = body.get(at + 8..at + 8 + len).ok_or("chunk past the end")?;
        match kind {
            b"IHDR" => {
                let w = u32::from_be_bytes(data[0..4].try_into().unwrap());
                let h = u32::from_be_bytes(data[4..8].try_into().unwrap());
                size = Some((w, h));
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    let (w, h) = size.ok_or("no IHDR")?;
    let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&idat)
        .map_err(|e| format!("IDAT does not inflate: {e:?}"))?;
    if raw.len() != (h as usize) * (1 + 3 * w as usize) {
        return Err(format!("{} bytes of image data for {w}x{h}", raw.len()));
    }
    Ok((w, h))
}
