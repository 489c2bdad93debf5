#!/usr/bin/env bash
# The one test command (README): formatting, lints, and every test.
# Runs from any directory; installs nothing the Rust toolchain does not already have.
set -euo pipefail
cd "$(dirname "$0")/.."

export ADZE_TEKTON_EXAMPLES="${ADZE_TEKTON_EXAMPLES:-$(pwd)/../shared/examples/tekton}"
export INSTA_UPDATE=no

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings
echo "== cargo test"
cargo test
