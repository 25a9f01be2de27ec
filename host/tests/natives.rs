//! The stdlib modules this CPython-for-WASI build lacks and eryx provides in
//! every sandbox with no flags (c/natives/, guest/stdlib/): `bz2` over a
//! real bzip2, `mmap` emulated over WASI files.
mod common;
use common::{expect_py_err, sandbox};

#[tokio::test]
async fn bz2_round_trips_and_matches_the_format() {
    let mut sb = sandbox().await;
    let out = sb
        .execute(
            "import bz2\n\
             data = b'eryx sandbox ' * 5000 + bytes(range(256)) * 40\n\
             packed = bz2.compress(data, 9)\n\
             assert packed.startswith(b'BZh9'), packed[:4]\n\
             assert len(packed) < len(data) // 20, len(packed)\n\
             assert bz2.decompress(packed) == data\n\
             # The empty stream's exact bytes (identical for every bzip2).\n\
             print(bz2.compress(b'').hex())\n\
             print(len(packed) < 2000, bz2.decompress(packed * 3) == data * 3)",
        )
        .await
        .unwrap();
    assert_eq!(out, "425a683917724538509000000000\nTrue True\n");
}

#[tokio::test]
async fn bz2_streaming_api_follows_cpython() {
    let mut sb = sandbox().await;
    let out = sb
        .execute(
            "import bz2\n\
             c = bz2.BZ2Compressor(1)\n\
             parts = [c.compress(b'abc' * 10000) for _ in range(5)]\n\
             parts.append(c.flush())\n\
             stream = b''.join(parts)\n\
             d = bz2.BZ2Decompressor()\n\
             got = [d.decompress(stream[:50], max_length=100)]\n\
             print(len(got[0]) <= 100, d.needs_input, d.eof)\n\
             got.append(d.decompress(stream[50:] + b'TRAILER', 1000))\n\
             while not d.eof:\n\
             \x20   got.append(d.decompress(b'', 1000))\n\
             print(b''.join(got) == b'abc' * 50000, d.unused_data, d.needs_input)\n\
             for f, err in [(lambda: c.compress(b'x'), ValueError), (lambda: d.decompress(b'x'), EOFError),\n\
             \x20              (lambda: bz2.decompress(b'BZh9notreally'), OSError),\n\
             \x20              (lambda: bz2.BZ2Compressor(10), ValueError)]:\n\
             \x20   try:\n\
             \x20       f()\n\
             \x20   except err as e:\n\
             \x20       print(type(e).__name__, e)",
        )
        .await
        .unwrap();
    // CPython 3.11's own _bz2 prints the same (50 bytes of input already
    // give 100 bytes out, so it needs no input yet).
    assert_eq!(
        out,
        "True False False\n\
         True b'TRAILER' False\n\
         ValueError Compressor has been flushed\n\
         EOFError End of stream already reached\n\
         OSError Invalid data stream\n\
         ValueError compresslevel must be between 1 and 9\n"
    );
}

#[tokio::test]
async fn bz2_files_work_in_the_virtual_filesystem() {
    let mut sb = sandbox().await;
    let out = sb
        .execute(
            "import bz2, tarfile, io\n\
             with bz2.open('/tmp/t.txt.bz2', 'wt') as f:\n\
             \x20   f.write('line\\n' * 1000)\n\
             with bz2.open('/tmp/t.txt.bz2', 'rt') as f:\n\
             \x20   print(len(f.readlines()))\n\
             with tarfile.open('/tmp/a.tar.bz2', 'w:bz2') as t:\n\
             \x20   info = tarfile.TarInfo('hello.txt'); info.size = 5\n\
             \x20   t.addfile(info, io.BytesIO(b'hello'))\n\
             with tarfile.open('/tmp/a.tar.bz2') as t:\n\
             \x20   print(t.extractfile('hello.txt').read())",
        )
        .await
        .unwrap();
    assert_eq!(out, "1000\nb'hello'\n");
}

#[tokio::test]
async fn mmap_reads_and_writes_files_through() {
    let mut sb = sandbox().await;
    let out = sb
        .execute(
            "import mmap, re, os\n\
             with open('/tmp/m.bin', 'wb') as f:\n\
             \x20   f.write(b'hello world\\nsecond line\\n')\n\
             with open('/tmp/m.bin', 'r+b') as f:\n\
             \x20   m = mmap.mmap(f.fileno(), 0)\n\
             \x20   print(len(m), m[:5], m.find(b'world'), m.readline())\n\
             \x20   m[0:5] = b'HELLO'\n\
             \x20   m.seek(0, 2); print(m.tell(), m.size())\n\
             \x20   print(re.search(rb'sec\\w+', m).group())\n\
             \x20   memoryview(m)[6:11] = b'WORLD'\n\
             \x20   m.close()\n\
             print(open('/tmp/m.bin', 'rb').read())\n\
             with open('/tmp/m.bin', 'rb') as f:\n\
             \x20   r = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n\
             \x20   try:\n\
             \x20       r[0] = 1\n\
             \x20   except TypeError as e:\n\
             \x20       print(e)\n\
             a = mmap.mmap(-1, 16)\n\
             a.write(b'anon'); print(a[:6], len(a))",
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "24 b'hello' 6 b'hello world\\n'\n\
         24 24\n\
         b'second'\n\
         b'HELLO WORLD\\nsecond line\\n'\n\
         mmap can't modify a readonly memory map.\n\
         b'anon\\x00\\x00' 16\n"
    );
}

#[tokio::test]
async fn mmap_refuses_what_it_cannot_map() {
    let mut sb = sandbox().await;
    expect_py_err(
        sb.execute("import mmap, sys\nmmap.mmap(sys.stdin.fileno(), 10)")
            .await,
        "OSError",
    );
    expect_py_err(
        sb.execute(
            "open('/tmp/e', 'wb').close()\nf = open('/tmp/e', 'rb')\nmmap.mmap(f.fileno(), 0)",
        )
        .await,
        "ValueError",
    );
}

#[tokio::test]
async fn lzma_round_trips_in_every_format() {
    let mut sb = sandbox().await;
    let out = sb
        .execute(
            "import lzma\n\
             data = b'eryx lzma ' * 4000\n\
             xz = lzma.compress(data)\n\
             print(xz[:6] == b'\\xfd7zXZ\\x00', lzma.decompress(xz) == data, len(xz) < 1000)\n\
             alone = lzma.compress(data, format=lzma.FORMAT_ALONE)\n\
             print(lzma.decompress(alone) == data)\n\
             f = [{'id': lzma.FILTER_DELTA, 'dist': 4}, {'id': lzma.FILTER_LZMA2, 'preset': 1}]\n\
             raw = lzma.compress(data, format=lzma.FORMAT_RAW, filters=f)\n\
             print(lzma.decompress(raw, format=lzma.FORMAT_RAW, filters=f) == data)\n\
             d = lzma.LZMADecompressor()\n\
             print(d.decompress(lzma.compress(b'x', check=lzma.CHECK_SHA256) + b'tail') == b'x',\n\
             \x20     d.check == lzma.CHECK_SHA256, d.eof, d.unused_data)\n\
             try:\n\
             \x20   lzma.decompress(b'not xz at all')\n\
             except lzma.LZMAError as e:\n\
             \x20   print(e)",
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "True True True\nTrue\nTrue\nTrue True True b'tail'\nInput format not supported by decoder\n"
    );
}

#[tokio::test]
async fn ctypes_data_types_work_and_native_code_is_refused() {
    let mut sb = sandbox().await;
    let out = sb
        .execute(
            "import ctypes\n\
             print(ctypes.sizeof(ctypes.c_long), ctypes.sizeof(ctypes.c_void_p), ctypes.sizeof(ctypes.c_double))\n\
             class Point(ctypes.Structure):\n\
             \x20   _fields_ = [('x', ctypes.c_int), ('y', ctypes.c_double), ('tag', ctypes.c_char * 4)]\n\
             p = Point(3, 1.5, b'ab')\n\
             print(ctypes.sizeof(Point), ctypes.alignment(Point), p.x, p.y, p.tag)\n\
             copy = Point.from_buffer_copy(bytes(p))\n\
             print(copy.x, copy.y, copy.tag)\n\
             arr = (ctypes.c_int * 3)(10, 20, 30)\n\
             ip = ctypes.cast(arr, ctypes.POINTER(ctypes.c_int))\n\
             ip[1] = 99\n\
             print(list(arr), ctypes.pointer(p).contents.x)\n\
             try:\n\
             \x20   ctypes.CDLL('libc.so.6')\n\
             except OSError as e:\n\
             \x20   print('OSError')",
        )
        .await
        .unwrap();
    assert_eq!(
        out,
        "4 4 8\n24 8 3 1.5 b'ab'\n3 1.5 b'ab'\n[10, 99, 30] 3\nOSError\n"
    );
}
