"""Run the data-stack workflows natively and in the sandbox and compare.

    python3 scripts/data_stack/compare.py [--eryx PATH] [WORKFLOW...]

Each workflow (a script in this directory) runs under the host's python3 in
a venv with the pinned native wheels (requirements-native.txt) and in
`eryx --with ...` with our WASI builds (scripts/build-packages.sh makes
them first); the two standard outputs must be byte-identical, except lines
`PNG <base64>`: those images are compared with matplotlib's own image
comparison (`matplotlib.testing.compare.compare_images`, run natively) at
tolerance IMAGE_TOL. On a difference the unified diff (or the comparison's
message) is printed and the exit status is 1.
"""

import argparse
import base64
import difflib
import hashlib
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# name -> (script, packages by name for the sandbox, recipes to build first)
WORKFLOWS = {
    "pandas": ("pandas_workflow.py", ["pandas==3.1.1", "numpy==2.3.5"], ["pandas"]),
    "matplotlib": ("matplotlib_workflow.py", ["pandas==3.1.1", "numpy==2.3.5", "matplotlib==3.10.9"],
                   ["pandas", "pillow", "kiwisolver", "contourpy", "matplotlib"]),
}
# RMS over pixel values (0-255), matplotlib's measure (its default is 0).
# The sandbox's FreeType is matplotlib's own local build of the 2.6 line
# (2.6.5; its wheels have 2.6.1). Measured with the same wheels: RMS 0.10
# on the first run after the wheels were rebuilt (the font caches made
# anew; text identical), 0.0 on the runs after it (cause not pinned down);
# with FreeType 2.13 it was 0.11 (glyph-edge antialiasing only).
IMAGE_TOL = 0.2

COMPARE_IMAGES = """
import sys
from matplotlib.testing.compare import compare_images
err = compare_images(sys.argv[1], sys.argv[2], tol=float(sys.argv[3]), in_decorator=True)
print("rms", err["rms"] if err else 0.0)
sys.exit(1 if err else 0)
"""


def split_images(out):
    """(text without `PNG ` lines, [PNG bytes])."""
    text, images = [], []
    for line in out.splitlines(True):
        if line.startswith("PNG "):
            images.append(base64.b64decode(line[4:]))
        else:
            text.append(line)
    return "".join(text), images


def same_images(py, name, native, sandboxed):
    """Compare the images pairwise natively; prints the RMS of each."""
    if len(native) != len(sandboxed):
        print(f"data-stack: {name}: {len(native)} native images, {len(sandboxed)} from the sandbox",
              file=sys.stderr)
        return False
    ok = True
    out = ROOT / "target" / "data-stack" / name
    out.mkdir(parents=True, exist_ok=True)
    for i, (a, b) in enumerate(zip(native, sandboxed)):
        (out / f"native-{i}.png").write_bytes(a)
        (out / f"eryx-{i}.png").write_bytes(b)
        p = subprocess.run([str(py), "-c", COMPARE_IMAGES, str(out / f"native-{i}.png"),
                            str(out / f"eryx-{i}.png"), str(IMAGE_TOL)], capture_output=True, text=True)
        print(f"data-stack: {name}: image {i}: {p.stdout.strip() or p.stderr[-500:]} (tolerance {IMAGE_TOL}; "
              f"both in {out})", file=sys.stderr)
        ok = ok and p.returncode == 0
    return ok


def native_python():
    """The reference interpreter: a venv with the pinned native wheels."""
    req = HERE / "requirements-native.txt"
    venv = ROOT / "target" / "data-stack" / "native-venv"
    stamp = venv / ".requirements-sha256"
    digest = hashlib.sha256(req.read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        subprocess.run(["rm", "-rf", str(venv)], check=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--no-deps",
                        "--require-hashes", "-r", str(req)], check=True)
        stamp.write_text(digest)
    return venv / "bin" / "python"


def run(cmd):
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-4000:])
        raise SystemExit(f"data-stack: {' '.join(map(str, cmd))} exited with {p.returncode}")
    return p.stdout, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"workflows (default: all of {', '.join(WORKFLOWS)})")
    ap.add_argument("--eryx", default=str(ROOT / "target" / "release" / "eryx"))
    args = ap.parse_args()
    names = args.names or list(WORKFLOWS)
    builds = sorted({b for n in names for b in WORKFLOWS[n][2]})
    subprocess.run([str(ROOT / "scripts" / "build-packages.sh"), *builds], check=True,
                   stdout=subprocess.DEVNULL)
    py = native_python()
    bad = 0
    for name in names:
        script, packages, _ = WORKFLOWS[name]
        path = HERE / script
        native, t_native = run([str(py), str(path)])
        cmd = [args.eryx, "--timeout", "120"]
        for p in packages:
            cmd += ["--with", p]
        sandboxed, t_sandbox = run(cmd + [str(path)])
        (native, native_images), (sandboxed, sandbox_images) = split_images(native), split_images(sandboxed)
        same = native == sandboxed and native.strip() != ""
        if not same_images(py, name, native_images, sandbox_images):
            same = False
        print(f"data-stack: {name}: {'same output' if same else 'OUTPUT DIFFERS'} "
              f"({len(native.splitlines())} lines; native {t_native:.1f} s, sandbox {t_sandbox:.1f} s)",
              file=sys.stderr)
        if not same:
            bad += 1
            sys.stdout.writelines(difflib.unified_diff(native.splitlines(True), sandboxed.splitlines(True),
                                                       "native", "eryx"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
