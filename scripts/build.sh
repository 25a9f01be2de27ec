#!/usr/bin/env bash
# Set up (idempotent), build the guest runtime, then the host binary
# target/release/eryx with the guest embedded. Output goes to stderr.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build-guest.sh"
cd "$ROOT"
cargo +1.95.0 build --release -p eryx-cli >&2
