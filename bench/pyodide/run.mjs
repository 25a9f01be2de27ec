// The Pyodide side of the benchmark: runs the Python program given on stdin
// in Pyodide (CPython 3.14 on Emscripten, in Node's V8) and prints what it
// prints. Usage: node run.mjs PYODIDE_PACKAGE_DIR < program.py
// (the directory of the pinned npm package, installed by
// scripts/setup-pyodide.sh). The first stdout line is "loaded SECONDS":
// the time loadPyodide() took.
import { pathToFileURL } from "node:url";
import path from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node run.mjs PYODIDE_PACKAGE_DIR < program.py");
  process.exit(2);
}
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const code = Buffer.concat(chunks).toString("utf8");

const { loadPyodide } = await import(pathToFileURL(path.join(dir, "pyodide.mjs")).href);
const t0 = performance.now();
const py = await loadPyodide({ indexURL: dir + path.sep });
process.stdout.write(`loaded ${(performance.now() - t0) / 1000}\n`);
py.setStdout({ batched: (line) => process.stdout.write(line + "\n") });
py.setStderr({ batched: (line) => process.stderr.write(line + "\n") });
try {
  py.runPython(code);
} catch (e) {
  process.stderr.write(String(e) + "\n");
  process.exit(1);
}
