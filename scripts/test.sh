#!/usr/bin/env bash
# Run every test: set up and build (idempotent), check formatting and lints,
# then the test suites (real CPython in real wasmtime).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
"$ROOT/scripts/build.sh"
# C extensions cross-built from pinned PyPI sdists (host/tests/packages.rs).
"$ROOT/scripts/build-extension.sh" >/dev/null
# Compile the component and the stdlib bytecode once, before tests run in
# parallel (they share the on-disk cache): the library's default image
# (interruptible; the prompt, `-i`, selects it in the CLI) and the CLI's
# one-shot image (no interruption checks).
"$ROOT/target/release/eryx" -q -i -c 'pass' </dev/null
"$ROOT/target/release/eryx" -c 'pass'
cargo +1.95.0 fmt --all -- --check
# The library is the sandbox and nothing else: no CLI, MCP or HTTP crates
# (those belong to cli/, server/ and bindings/python/).
if cargo +1.95.0 tree -p eryx -e normal --prefix none | grep -E '^(rmcp|axum|rustyline|hyper|reqwest|pyo3) '; then
  echo "test.sh: the eryx library depends on a front end's crate (above)" >&2
  exit 1
fi
cargo +1.95.0 clippy --release --workspace --all-targets -- -D warnings
# The workspace includes server/ (eryx-server): its tests start the real
# binary on 127.0.0.1 and drive it with reqwest (server/tests/).
cargo +1.95.0 test --release --workspace
# Replicas sharing sessions through Redis under load, one SIGKILLed: 0 lost
# updates, failures only on the killed replica (~20 s; the full 60 s run is
# `scripts/cluster-bench.sh`).
"$ROOT/scripts/cluster-bench.sh" --short
# The Python package: wheel -> fresh venv -> pytest (bindings/python/tests).
"$ROOT/scripts/test-python.sh"
# `eryx mcp` with the official MCP Python SDK as client (pinned venv).
"$ROOT/scripts/test-mcp.sh"
# CPython's own regression tests in the sandbox: the CI subset (~5 min;
# the full run is `scripts/cpython-tests.sh`, its table in docs/cpython-suite.md).
"$ROOT/scripts/cpython-tests.sh" --ci
