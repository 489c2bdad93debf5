#!/usr/bin/env bash
# The one test command (README): formatting, lints, and every test.
# Runs from any directory; installs what the tests need (a Docker engine and test images,
# from Debian packages) through tests/setup-docker.sh, and the Kubernetes schema validator
# (PyPI) through tests/setup-validator.sh, Chromium with chromedriver (Debian) through
# tests/setup-browser.sh, and zsh and fish (Debian) through tests/setup-shells.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

export ADZE_TEKTON_EXAMPLES="${ADZE_TEKTON_EXAMPLES:-$(pwd)/../shared/examples/tekton}"
export INSTA_UPDATE=no

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== Docker engine and test images (tests/setup-docker.sh)"
bash tests/setup-docker.sh
# The Docker executor starts a TaskRun's steps at once through the static entrypoint that
# setup-docker.sh built (the dynamic one `cargo test` puts beside adze would not run in busybox).
export ADZE_ENTRYPOINT="${ADZE_ENTRYPOINT:-${CARGO_TARGET_DIR:-$(pwd)/target}/static-entrypoint/x86_64-unknown-linux-gnu/release/adze-entrypoint}"
echo "== kubernetes-validate for tests/pod_translation.rs (tests/setup-validator.sh)"
bash tests/setup-validator.sh
echo "== Chromium and chromedriver for tests/serve/dashboard.rs (tests/setup-browser.sh)"
bash tests/setup-browser.sh
echo "== zsh and fish for tests/cli/shell.rs (tests/setup-shells.sh)"
bash tests/setup-shells.sh
echo "== cargo test --workspace"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace 2>&1 | tee "$log"
# One closing line over every test binary, for readers and CI alike.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f; if (p == 0) exit 1 }' "$log"
