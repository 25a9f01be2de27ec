//! Native packages built by scripts/build-packages.sh from pinned sdists
//! into WASI wheels (target/wheelhouse), with real CPython in real wasmtime:
//! `regex` (C extension) imports, matches and passes its own test module;
//! `pydantic-core` (Rust/PyO3), taken from the wheelhouse by pip when
//! `pydantic` is required by name, validates and reports pydantic's own
//! `ValidationError`; Pillow (C, with zlib and libjpeg built from crates'
//! vendored sources) round-trips PNG and JPEG and survives corrupt input.
mod common;
use common::{native_python, wheel};
use eryx::Sandbox;

/// A sandbox with `packages` (wheels) on sys.path, their extensions linked.
async fn with_wheels(packages: Vec<std::path::PathBuf>) -> Sandbox {
    let mut b = Sandbox::builder();
    for p in packages {
        b = b.package(p);
    }
    b.build().await.expect("sandbox with the wheels")
}

#[test]
fn wheels_carry_the_wasi_tag() {
    for name in [
        "regex",
        "pydantic-core",
        "rpds-py",
        "markupsafe",
        "simplejson",
        "numpy",
        "pandas",
        "pillow",
        "kiwisolver",
        "contourpy",
        "matplotlib",
    ] {
        let w = wheel(name);
        let file = w.file_name().unwrap().to_str().unwrap();
        assert!(
            file.ends_with("-cp314-cp314-wasi_0_0_0_wasm32.whl"),
            "{file}"
        );
        assert!(w.starts_with(common::repo_root().join("target/wheelhouse")));
    }
}

#[tokio::test]
async fn regex_uses_its_c_engine() {
    let mut sb = with_wheels(vec![wheel("regex")]).await;
    let code = r#"
import regex
print(regex.findall(r"\p{Lu}\w+", "Élan and Über go"))
print(regex.search(r"(?:color){e<=1}", "a colour here").group())
print(regex.sub(r"(?<word>\w+)", r"<\g<word>>", "a bc"))
print(regex.search(r"(?r)\d+", "abc123").group())
try:
    regex.compile("(")
except regex.error as e:
    print(type(e).__name__, e)
"#;
    let expected = "['Élan', 'Über']\n\
                    colou\n\
                    <a> <bc>\n\
                    123\n\
                    error missing ) at position 1\n";
    assert_eq!(sb.execute(code).await.unwrap(), expected);
    let file = "import regex; print(regex._regex.__file__)";
    assert_eq!(
        sb.execute(file).await.unwrap(),
        "/site-packages/regex/_regex.cpython-314-wasm32-wasi.so\n"
    );
    // The same code under the host's python3, when it has regex.
    let native = native_python(&["-c", code], b"");
    if native.status.success() {
        assert_eq!(String::from_utf8_lossy(&native.stdout), expected);
    } else {
        eprintln!("native comparison skipped: the host's python3 has no regex module");
    }
}

/// regex's own test module (regex/tests/test_regex.py, shipped in the sdist
/// and the wheel) under unittest in the sandbox: all 103 tests run; every
/// one passes but test_shared_iterators, which starts threads (a WASI limit:
/// this CPython has no threads).
#[tokio::test]
async fn regex_passes_its_own_test_suite() {
    let mut sb = with_wheels(vec![wheel("regex")]).await;
    let code = r#"
import io, unittest
import regex.tests.test_regex as t
suite = unittest.defaultTestLoader.loadTestsFromModule(t)
out = io.StringIO()
r = unittest.TextTestRunner(stream=out, verbosity=0).run(suite)
print(r.testsRun, len(r.failures), len(r.errors), len(r.skipped))
for case, tb in r.failures + r.errors:
    print(case.id(), tb.splitlines()[-1])
"#;
    // The first line is test_debug's (regex.DEBUG prints the compiled pattern).
    assert_eq!(
        sb.execute(code).await.unwrap(),
        "CHARACTER MATCH 'a'\n\
         103 0 1 0\n\
         regex.tests.test_regex.RegexTests.test_shared_iterators \
         RuntimeError: can't start new thread\n"
    );
}

#[tokio::test]
async fn pydantic_reports_its_own_validation_error() {
    // Built (or found cached) first: pip then finds it in the wheelhouse.
    wheel("pydantic-core");
    let mut sb = Sandbox::builder()
        .requirements(["pydantic==2.14.4"])
        .build()
        .await
        .expect("sandbox with pydantic by name");
    let code = r#"
import pydantic_core, pydantic
from pydantic import BaseModel, ValidationError, Field
print(pydantic_core._pydantic_core.__file__, pydantic_core.__version__, pydantic.VERSION)
class User(BaseModel):
    name: str
    age: int = Field(gt=0)
    tags: list[str] = []
u = User.model_validate({"name": "ada", "age": "36", "tags": ["x"]})
print(u.model_dump_json())
try:
    User.model_validate({"name": 1, "age": "old"})
except ValidationError as e:
    print(e)
"#;
    assert_eq!(
        sb.execute(code).await.unwrap(),
        "/site-packages/pydantic_core/_pydantic_core.cpython-314-wasm32-wasi.so 2.50.5 2.14.4\n\
         {\"name\":\"ada\",\"age\":36,\"tags\":[\"x\"]}\n\
         2 validation errors for User\n\
         name\n  Input should be a valid string [type=string_type, input_value=1, input_type=int]\n    \
         For further information visit https://errors.pydantic.dev/2.14/v/string_type\n\
         age\n  Input should be a valid integer, unable to parse string as an integer \
         [type=int_parsing, input_value='old', input_type=str]\n    \
         For further information visit https://errors.pydantic.dev/2.14/v/int_parsing\n"
    );
}

/// Pillow: PNG and JPEG written and read back in memory and on the scratch
/// filesystem, resized and converted; a corrupt PNG is Pillow's own OSError
/// (zlib reports it); a corrupt JPEG takes libjpeg's error path, a longjmp
/// (WebAssembly SjLj, cross/include/setjmp.h) back into Pillow's decoder,
/// which raises its own OSError as natively — every time, with the decoder
/// still working afterwards.
#[tokio::test]
async fn pillow_round_trips_png_and_jpeg_and_survives_corrupt_input() {
    let mut sb = with_wheels(vec![wheel("pillow")]).await;
    let code = r#"
import io
from PIL import Image, ImageDraw, features
print(features.check("jpg"), features.check("zlib"))
im = Image.new("RGB", (64, 48), (10, 200, 30))
ImageDraw.Draw(im).rectangle([5, 5, 30, 30], fill=(255, 0, 0))
png, jpg = io.BytesIO(), io.BytesIO()
im.save(png, "PNG")
im.save(jpg, "JPEG", quality=95)
a, b = Image.open(io.BytesIO(png.getvalue())), Image.open(io.BytesIO(jpg.getvalue()))
print(a.format, a.size, a.getpixel((10, 10)), b.format, b.size, max(abs(x - y) for x, y in zip(b.getpixel((50, 40)), (10, 200, 30))) < 8)
im.resize((32, 24)).convert("L").save("/tmp/small.png")
print(Image.open("/tmp/small.png").size, Image.open("/tmp/small.png").mode)
try:
    Image.open(io.BytesIO(png.getvalue()[:60] + b"garbage" * 20)).load()
except OSError as e:
    print("corrupt png:", type(e).__name__)
"#;
    assert_eq!(
        sb.execute(code).await.unwrap(),
        "True True\n\
         PNG (64, 48) (255, 0, 0) JPEG (64, 48) True\n\
         (32, 24) L\n\
         corrupt png: OSError\n"
    );
    sb.execute("kept = 41").await.unwrap();
    let corrupt_jpeg = r#"
import io
from PIL import Image
buf = io.BytesIO()
Image.new("RGB", (32, 32), (200, 10, 10)).save(buf, "JPEG")
data = bytearray(buf.getvalue())
i = data.index(b"\xff\xc4")  # the first Huffman table: impossible code counts
data[i + 5:i + 21] = b"\xff" * 16
for _ in range(2):
    try:
        Image.open(io.BytesIO(bytes(data))).load()
    except OSError as e:
        print(type(e).__name__, e)
good = Image.open(io.BytesIO(buf.getvalue()))
print(good.size, good.getpixel((3, 3)), kept + 1)
"#;
    assert_eq!(
        sb.execute(corrupt_jpeg).await.unwrap(),
        "OSError broken data stream when reading image file\n\
         OSError broken data stream when reading image file\n\
         (32, 32) (200, 10, 12) 42\n"
    );
}

/// The C++ extensions (kiwisolver through setuptools, contourpy through
/// meson and pybind11) work on their normal paths, and a C++ exception
/// unwinds as natively (clang 22's wasm exception handling,
/// scripts/build_packages/cxx_eh.py): kiwi's DuplicateConstraint for a
/// constraint added twice arrives as kiwisolver's own Python exception, a
/// pybind11 `throw` as contourpy's ValueError, and every object lives on.
#[tokio::test]
async fn cpp_extensions_raise_their_own_exceptions_and_keep_their_objects() {
    let mut sb = with_wheels(vec![
        wheel("kiwisolver"),
        wheel("contourpy"),
        wheel("numpy"),
    ])
    .await;
    let code = r#"
import kiwisolver as k, contourpy, numpy as np
x = k.Variable("x")
s = k.Solver()
c = x >= 10
s.addConstraint(c)
s.addConstraint((x == 20) | "weak")
s.updateVariables()
print(x.value())
z = np.add.outer(np.arange(5.0), np.arange(5.0))
g = contourpy.contour_generator(z=z, name="serial")
(line,) = g.lines(3.5)
# z = x + y: every point of the 3.5 level line has x + y == 3.5
print(line.shape[0] > 2, bool(np.allclose(line.sum(axis=1), 3.5)), contourpy.max_threads())
"#;
    assert_eq!(sb.execute(code).await.unwrap(), "20.0\nTrue True 1\n");
    let again = r#"
try:
    s.addConstraint(c)
except k.DuplicateConstraint as e:
    print(type(e).__name__, e.constraint is c)
try:
    s.removeConstraint(x <= 1)
except k.UnknownConstraint:
    print("UnknownConstraint")
try:
    g.filled(5.0, 1.0)
except ValueError as e:
    print("ValueError:", e)
s.updateVariables()
print(s.hasConstraint(c), x.value(), len(g.lines(3.5)))
"#;
    assert_eq!(
        sb.execute(again).await.unwrap(),
        "DuplicateConstraint True\n\
         UnknownConstraint\n\
         ValueError: upper_level must be larger than lower_level\n\
         True 20.0 1\n"
    );
}

/// matplotlib (Agg; C++ through meson and pybind11, FreeType and Qhull
/// from crates) draws a figure with text into a PNG on the scratch
/// filesystem; a bad argument is matplotlib's own ValueError, FreeType's
/// missing file pybind11's FileNotFoundError (a C++ throw), and the figure
/// goes on being drawn afterwards; Qhull's and FreeType's longjmps land
/// where they should; figures left open become PNG displays.
#[tokio::test]
async fn matplotlib_saves_a_png_and_bad_arguments_keep_the_figure() {
    for name in ["numpy", "pillow", "kiwisolver", "contourpy", "matplotlib"] {
        wheel(name);
    }
    let mut sb = Sandbox::builder()
        .requirements(["matplotlib==3.10.9"])
        .build()
        .await
        .expect("sandbox with matplotlib by name");
    let code = r#"
import matplotlib, matplotlib.pyplot as plt, numpy as np
from PIL import Image
x = np.linspace(0, 2 * np.pi, 60)
fig, ax = plt.subplots(figsize=(4, 3), dpi=50)
ax.plot(x, np.sin(x), label="sin")
ax.set_title("eryx")
ax.legend()
fig.savefig("/tmp/a.png")
im = Image.open("/tmp/a.png")
print(matplotlib.get_backend(), im.format, im.size, len(im.getcolors(1 << 16)) > 20)
"#;
    assert_eq!(sb.execute(code).await.unwrap(), "agg PNG (200, 150) True\n");
    let bad = r#"
try:
    ax.plot([1, 2], [1, 2, 3])
except ValueError as e:
    print("ValueError:", e)
from matplotlib import ft2font
try:
    ft2font.FT2Font("/tmp/missing.ttf")
except FileNotFoundError as e:
    print("FileNotFoundError")
ax.set_title("again")
fig.savefig("/tmp/b.png")
print(Image.open("/tmp/b.png").size, len(ax.lines))
"#;
    assert_eq!(
        sb.execute(bad).await.unwrap(),
        "ValueError: x and y must have same first dimension, but have shapes (2,) and (3,)\n\
         FileNotFoundError\n\
         (200, 150) 1\n"
    );
    // Qhull and FreeType longjmp on these paths (qhull's error exit on
    // collinear points; the rasteriser's retry with smaller bands for a large
    // glyph): matplotlib's own error, and the glyph drawn, as natively.
    let jumps = r#"
import matplotlib.tri as mtri
try:
    mtri.Triangulation([0, 1, 2, 3], [0, 1, 2, 3])
except RuntimeError as e:
    print(str(e).splitlines()[0])
print(mtri.Triangulation([0, 1, 0], [0, 0, 1]).triangles.tolist())
big = plt.figure(figsize=(6, 6), dpi=100)
big.text(0.02, 0.05, "@", fontsize=400)
big.savefig("/tmp/big.png")
plt.close(big)
ink = int((np.asarray(Image.open("/tmp/big.png").convert("L")) < 128).sum())
print(60000 < ink < 80000)
"#;
    assert_eq!(
        sb.execute(jumps).await.unwrap(),
        "Error in qhull Delaunay triangulation calculation: singular input data (exitcode=2); \
         use python verbose option (-v) to see original qhull error.\n\
         [[0, 1, 2]]\n\
         True\n"
    );
    // A figure left open at the end of a call is a PNG display (then closed).
    let run = sb.run("plt.figure(); plt.bar(['a', 'b'], [3, 5])").await;
    assert!(run.is_ok(), "{:?}", run.error);
    let pngs: Vec<&[u8]> = run
        .displays()
        .filter_map(|d| d.bytes("image/png"))
        .collect();
    assert_eq!(
        pngs.len(),
        1,
        "the open figure (the earlier one closed with its call)"
    );
    assert!(pngs.iter().all(|p| p.starts_with(b"\x89PNG\r\n\x1a\n")));
    assert_eq!(
        sb.execute("print(plt.get_fignums())").await.unwrap(),
        "[]\n"
    );
}
