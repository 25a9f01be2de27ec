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
# parallel (they share the on-disk cache).
"$ROOT/target/release/eryx" -c 'pass'
cargo +1.95.0 fmt --all -- --check
cargo +1.95.0 clippy --release --workspace --all-targets -- -D warnings
cargo +1.95.0 test --release --workspace
# CPython's own regression tests in the sandbox: the CI subset (~5 min;
# the full run is `scripts/cpython-tests.sh`, its table in README.md).
"$ROOT/scripts/cpython-tests.sh" --ci
