#!/usr/bin/env python3
"""Extract CPython-for-WASI artefacts from the componentize-py wheel.

Owns: finding the zstd frames embedded in `componentize_py.abi3.so`,
identifying each one *by content* (exports / tar members, never by offset)
and writing the ones the eryx runtime needs into an output directory.

Usage: extract_cpython.py WHEEL OUTDIR   (needs the `zstandard` module)
"""
import io
import os
import sys
import tarfile
import zipfile

import zstandard

MAGIC = b"\x28\xb5\x2f\xfd"


def leb128(data, pos):
    """Decode an unsigned LEB128 integer; return (value, new_pos)."""
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def wasm_summary(data):
    """Return (custom section names, export names, import module names)."""
    customs, exports, imports = set(), set(), set()
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, pos = leb128(data, pos + 1)
        body, end = pos, pos + size
        if sid == 0:
            nlen, p = leb128(data, body)
            customs.add(data[p:p + nlen].decode("utf-8", "replace"))
        elif sid == 7:
            count, p = leb128(data, body)
            for _ in range(count):
                nlen, p = leb128(data, p)
                exports.add(data[p:p + nlen].decode("utf-8", "replace"))
                p += nlen + 1
                _, p = leb128(data, p)
        elif sid == 2:
            count, p = leb128(data, body)
            for _ in range(count):
                mlen, p = leb128(data, p)
                imports.add(data[p:p + mlen].decode())
                p += mlen
                flen, p = leb128(data, p)
                p += flen
                kind = data[p]
                p += 1
                if kind == 0:
                    _, p = leb128(data, p)
                elif kind == 1:
                    p += 1
                    flags, p = leb128(data, p)
                    _, p = leb128(data, p)
                    if flags & 1:
                        _, p = leb128(data, p)
                elif kind == 2:
                    flags, p = leb128(data, p)
                    _, p = leb128(data, p)
                    if flags & 1:
                        _, p = leb128(data, p)
                elif kind == 3:
                    p += 2
                elif kind == 4:
                    p += 1
                    _, p = leb128(data, p)
        pos = end
    return customs, exports, imports


def needed_libs(data):
    """Names listed in the dylink.0 'needed' subsection (WASM_DYLINK_NEEDED=2)."""
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, pos = leb128(data, pos + 1)
        end = pos + size
        if sid == 0:
            nlen, p = leb128(data, pos)
            if data[p:p + nlen] == b"dylink.0":
                p += nlen
                while p < end:
                    sub = data[p]
                    slen, p = leb128(data, p + 1)
                    if sub == 2:
                        count, q = leb128(data, p)
                        names = []
                        for _ in range(count):
                            l, q = leb128(data, q)
                            names.append(data[q:q + l].decode())
                            q += l
                        return names
                    p += slen
        pos = end
    return []


def identify(blob):
    """Map a decompressed frame to the file name we store it as (or None)."""
    if blob[:4] == b"\0asm":
        customs, exports, _ = wasm_summary(blob)
        if "dylink.0" not in customs:
            return "wasi_snapshot_preview1.reactor.wasm" if "fd_write" in exports else None
        if "PyInit_componentize_py_runtime" in exports:
            return None
        if "Py_Initialize" in exports:
            return "libpython3.14.so"
        if "__cxa_demangle" in exports:
            return "libc++abi.so"
        if "libc++abi.so" in needed_libs(blob):
            return "libc++.so"
        if "malloc" in exports and "printf" in exports:
            return "libc.so"
        for sym, name in (("mmap", "mman"), ("clock", "process-clocks"),
                          ("getpid", "getpid"), ("signal", "signal")):
            if sym in exports:
                return "libwasi-emulated-%s.so" % name
        return None
    try:
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            names = tar.getnames()
    except tarfile.TarError:
        return None
    if any(n.endswith("/os.py") or n == "os.py" for n in names) and \
            any("encodings/" in n for n in names):
        return "python-stdlib.tar"
    return None


def frames(data):
    """Yield every decodable zstd frame found in `data`."""
    dctx = zstandard.ZstdDecompressor()
    pos = data.find(MAGIC)
    while pos != -1:
        try:
            obj = dctx.decompressobj()
            out = obj.decompress(data[pos:pos + 64 * 1024 * 1024])
            if out:
                yield out
                consumed = len(data[pos:pos + 64 * 1024 * 1024]) - len(obj.unused_data)
                pos = data.find(MAGIC, pos + max(consumed, 4))
                continue
        except zstandard.ZstdError:
            pass
        pos = data.find(MAGIC, pos + 4)


REQUIRED = [
    "libpython3.14.so", "libc.so", "libc++.so", "libc++abi.so",
    "libwasi-emulated-mman.so", "libwasi-emulated-process-clocks.so",
    "libwasi-emulated-getpid.so", "libwasi-emulated-signal.so",
    "wasi_snapshot_preview1.reactor.wasm", "python-stdlib.tar",
]


def main():
    wheel, outdir = sys.argv[1], sys.argv[2]
    with zipfile.ZipFile(wheel) as zf:
        so = zf.read("componentize_py/componentize_py.abi3.so")
    os.makedirs(outdir, exist_ok=True)
    found = {}
    for blob in frames(so):
        name = identify(blob)
        if name and name not in found:
            found[name] = blob
            with open(os.path.join(outdir, name), "wb") as f:
                f.write(blob)
    missing = [n for n in REQUIRED if n not in found]
    if missing:
        sys.exit("extract_cpython: not found in %s: %s" % (wheel, ", ".join(missing)))
    for name in REQUIRED:
        print("  %-40s %9d bytes" % (name, len(found[name])))


if __name__ == "__main__":
    main()
