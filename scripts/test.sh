#!/usr/bin/env bash
# Run every test: set up and build (idempotent), check formatting and lints,
# then the test suites (real CPython in real wasmtime).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# Each step's wall time, printed at the end (and on failure): CI keeps no
# log of a passing run, so the times are how its budget is watched.
TIMES=()
step_start=$SECONDS
lap() { TIMES+=("$(printf '%5ds  %s' $((SECONDS - step_start)) "$1")"); step_start=$SECONDS; }
report_times() { printf 'test.sh step times:\n' >&2; printf '  %s\n' "${TIMES[@]}" >&2; }
trap report_times EXIT
"$ROOT/scripts/build.sh"
lap "setup + build"
# Native packages cross-built from pinned PyPI sdists into WASI wheels
# (cached by content in ~/.cache/eryx-build; cold ~10 min on 2 cores, most of
# it numpy + pandas; host/tests/packages.rs, host/tests/native_packages.rs).
"$ROOT/scripts/build-packages.sh" >/dev/null
lap "native packages"
# Compile the component and the stdlib bytecode once, before tests run in
# parallel (they share the on-disk cache): the library's default image
# (interruptible; the prompt, `-i`, selects it in the CLI) and the CLI's
# one-shot image (no interruption checks).
"$ROOT/target/release/eryx" -q -i -c 'pass' </dev/null
"$ROOT/target/release/eryx" -c 'pass'
lap "compile images"
cargo +1.95.0 fmt --all -- --check
lap "fmt"
# The library is the sandbox and nothing else: no CLI, MCP or HTTP crates
# (those belong to cli/, server/ and bindings/python/).
if cargo +1.95.0 tree -p eryx -e normal --prefix none | grep -E '^(rmcp|axum|rustyline|hyper|reqwest|pyo3) '; then
  echo "test.sh: the eryx library depends on a front end's crate (above)" >&2
  exit 1
fi
# Every selection below resolves the library's dependencies alike, so
# wasmtime is compiled once (host/Cargo.toml, "Feature unification").
"$ROOT/scripts/check-features.sh"
cargo +1.95.0 clippy --release --workspace --all-targets -- -D warnings
lap "clippy"
# The workspace includes server/ (eryx-server): its tests start the real
# binary on 127.0.0.1 and drive it with reqwest (server/tests/).
cargo +1.95.0 test --release --workspace
lap "cargo test"
# Replicas sharing sessions through Redis under load, one SIGKILLed: 0 lost
# updates, failures only on the killed replica (~20 s; the full 60 s run is
# `scripts/cluster-bench.sh`).
"$ROOT/scripts/cluster-bench.sh" --short
lap "cluster-bench --short"
# The server under a mix of ordinary and failing work for 1 min: no
# unexpected answer, no lost update, RSS and fds flat after warm-up (the
# 10-minute run is `scripts/soak.sh`, its table in docs/security.md).
"$ROOT/scripts/soak.sh" --short
"$ROOT/scripts/soak.sh" --short --workers
lap "soak --short"
# The Python package: wheel -> fresh venv -> pytest (bindings/python/tests).
"$ROOT/scripts/test-python.sh"
lap "Python package"
# The Jupyter kernel and the agent-framework executors with the real
# clients and frameworks (jupyter_client, nbconvert, nbclient, smolagents,
# autogen-core, langchain-core; pinned venv): wheel -> venv -> pytest
# (bindings/python/tests_kernel). Before "docs": it makes the venv that
# the README's `python tested host kernel` blocks run in.
"$ROOT/scripts/test-kernel.sh"
lap "Jupyter kernel + executors"
# `eryx mcp` with the official MCP Python SDK as client (pinned venv).
"$ROOT/scripts/test-mcp.sh"
lap "MCP SDK"
# The same server through the MCP Inspector's CLI (pinned npm package).
"$ROOT/scripts/test-mcp-inspector.sh"
lap "MCP Inspector"
# Every fenced block marked `tested` in README.md and docs/ (run, output
# compared), so the guide cannot rot.
"$ROOT/scripts/test-docs.sh"
lap "docs"
# CPython's own regression tests in the sandbox: the CI subset (~5 min;
# the full run is `scripts/cpython-tests.sh`, its table in docs/cpython-suite.md).
"$ROOT/scripts/cpython-tests.sh" --ci
lap "CPython suite --ci"
# Packages' own test suites in the sandbox: the CI subsets (~3 min; the
# full run is `scripts/package-suites.sh`, its table in docs/package-suites.md).
"$ROOT/scripts/package-suites.sh" --ci
lap "package suites --ci"
# The data stack against native CPython: the pandas and matplotlib workflows
# print exactly what native CPython prints, and the chart passes matplotlib's
# image comparison against the native one (scripts/data_stack/compare.py).
python3 "$ROOT/scripts/data_stack/compare.py"
lap "data stack vs native"
