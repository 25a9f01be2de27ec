//! Build script for the guest runtime: runs bindgen over the CPython 3.14
//! headers (with our wasm32-wasi `pyconfig.h`) and over `wit_dylib.h`, and
//! compiles the C sources in `c/` with clang-16 for wasm32-wasi (-fPIC).
//! On a non-wasm target it does nothing (the crate is empty there).
use std::env;
use std::path::PathBuf;

const WASI_CFLAGS: &[&str] = &[
    "--target=wasm32-wasi",
    "-nostdlibinc",
    "-isystem",
    "/usr/include/wasm32-wasi",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=c");
    println!("cargo:rerun-if-changed=headers");
    println!("cargo:rerun-if-env-changed=ERYX_DEPS");
    if !env::var("TARGET").unwrap_or_default().starts_with("wasm32") {
        return;
    }
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let deps = env::var_os("ERYX_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/eryx-deps"));
    let include = deps.join("include/python3.14");
    if !include.join("Python.h").exists() {
        panic!(
            "CPython 3.14 headers not found at {}: run scripts/setup.sh first",
            include.display()
        );
    }
    if env::var_os("LIBCLANG_PATH").is_none() {
        env::set_var("LIBCLANG_PATH", "/usr/lib/llvm-16/lib");
    }
    let inc_flag = format!("-I{}", include.display());

    // CPython C API.
    let python = bindgen::Builder::default()
        .header(root.join("c/python_api.h").to_string_lossy())
        .clang_args(WASI_CFLAGS)
        .clang_arg(&inc_flag)
        .allowlist_function("Py.*|_Py_Dealloc")
        .allowlist_var("Py.*|_Py_NoneStruct|_Py_TrueStruct|_Py_FalseStruct")
        .allowlist_type("PyConfig|PyStatus|PyWideStringList")
        .blocklist_function("PyInit_eryx")
        .layout_tests(false)
        .derive_default(true)
        .generate()
        .expect("bindgen over the CPython headers failed");
    python
        .write_to_file(out.join("python_sys.rs"))
        .expect("write python_sys.rs");

    // wit-dylib ABI types (we define its functions ourselves, so types only).
    let wit_header = out.join("wit_dylib.h");
    std::fs::write(&wit_header, wit_dylib::C_HEADER).expect("write wit_dylib.h");
    let wit = bindgen::Builder::default()
        .header(wit_header.to_string_lossy())
        .clang_args(WASI_CFLAGS)
        .allowlist_type("wit_.*")
        .allowlist_var("WIT_.*")
        .layout_tests(false)
        .generate()
        .expect("bindgen over wit_dylib.h failed");
    wit.write_to_file(out.join("wit_dylib_sys.rs"))
        .expect("write wit_dylib_sys.rs");

    // C sources: the `eryx` extension module and libc stubs.
    // LLVM 16 only generates position-independent wasm code for the
    // Emscripten triple (other OSes are forced to the static relocation
    // model), so C is compiled with that triple but WASI's headers and
    // predefined macros; the object code is the same wasm32 C ABI.
    let mut build = pic_build();
    build
        .files(["c/eryx_module.c", "c/traceback.c", "c/stubs.c"])
        .include(&include)
        .warnings(true);
    build.compile("eryx_c");

    natives(&deps, &include);
}

/// Compile the builtin stdlib modules eryx adds (`c/natives/`) and the C
/// libraries under them, whose sources scripts/fetch-natives.sh unpacks.
fn natives(deps: &std::path::Path, include: &std::path::Path) {
    let src = deps.join("natives");
    println!("cargo:rerun-if-changed={}", src.display());
    let bzip2 = src.join("bzip2-1.0.8");
    if !bzip2.join("bzlib.c").exists() {
        panic!(
            "bzip2 sources not found at {}: run scripts/setup.sh first",
            bzip2.display()
        );
    }
    let mut lib = pic_build();
    lib.warnings(false).include(&bzip2);
    for f in [
        "blocksort.c",
        "huffman.c",
        "crctable.c",
        "randtable.c",
        "compress.c",
        "decompress.c",
        "bzlib.c",
    ] {
        lib.file(bzip2.join(f));
    }
    lib.compile("eryx_bzip2");

    let xz = src.join("xz-5.2/src");
    let api = xz.join("liblzma/api");
    let mut lzma = pic_build();
    lzma.warnings(false)
        .define("HAVE_CONFIG_H", "1")
        .flag("-std=c99")
        .include("c/natives/liblzma")
        .include(&api)
        .include(xz.join("common"));
    for dir in LZMA_DIRS {
        lzma.include(xz.join("liblzma").join(dir));
        let mut files: Vec<_> = std::fs::read_dir(xz.join("liblzma").join(dir))
            .unwrap_or_else(|e| panic!("xz sources ({}): {e}: run scripts/setup.sh", xz.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.ends_with(".c") && !LZMA_SKIP.iter().any(|s| name.contains(s))
            })
            .collect();
        files.sort();
        lzma.files(files);
    }
    lzma.file(xz.join("common/tuklib_physmem.c"))
        .file(xz.join("common/tuklib_cpucores.c"));
    lzma.compile("eryx_lzma");

    let mut modules = pic_build();
    modules
        .include(include)
        .include(&bzip2)
        .include(&api)
        .warnings(true)
        .flag("-Werror=implicit-function-declaration")
        .file("c/natives/bz2module.c")
        .file("c/natives/lzmamodule.c")
        .file("c/natives/lzma_filters.c");
    modules.compile("eryx_natives");
}

/// liblzma's source directories (under xz-5.2/src/liblzma).
const LZMA_DIRS: &[&str] = &[
    "common",
    "check",
    "lz",
    "lzma",
    "rangecoder",
    "delta",
    "simple",
];

/// liblzma sources left out: table generators, the small CRC variants (the
/// fast ones are used) and the threaded encoder (WASI has no threads).
const LZMA_SKIP: &[&str] = &["tablegen", "_small.c", "stream_encoder_mt.c", "outqueue.c"];

/// A cc build for position-independent wasm32-wasi objects (see above).
fn pic_build() -> cc::Build {
    let mut build = cc::Build::new();
    build
        .compiler("clang-16")
        .archiver("llvm-ar-16")
        .pic(true)
        .flag("-O2");
    for f in WASI_CFLAGS {
        build.flag(f);
    }
    for f in [
        "--target=wasm32-unknown-emscripten",
        "-U__EMSCRIPTEN__",
        "-D__wasi__",
        // The emscripten target rewrites integer-only printf-family calls
        // to emscripten's `fiprintf`/`__small_fprintf`, which WASI's libc
        // lacks (bzip2's error paths call fprintf).
        "-fno-builtin-printf",
        "-fno-builtin-fprintf",
        "-fno-builtin-sprintf",
    ] {
        build.flag(f);
    }
    // Source paths in the objects (`assert`'s __FILE__ in liblzma and in
    // CPython's inline headers) relative to the clone: the runtime's bytes,
    // hence the compiled-image cache key (host/build.rs), are the same in
    // every clone, so a clean CI clone reuses the images a run cached.
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    build.flag(format!("-ffile-prefix-map={root}=."));
    build
}
