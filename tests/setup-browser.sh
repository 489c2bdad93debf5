#!/usr/bin/env bash
# Installs what the dashboard's browser test (tests/serve/dashboard.rs) drives: Debian's
# headless-capable Chromium and its chromedriver. Idempotent and quiet: nothing happens when
# both are already on PATH.
#
#   bash tests/setup-browser.sh
set -euo pipefail

need() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }

if ! need chromium || ! need chromedriver; then
  echo "== installing chromium and chromium-driver"
  apt_install chromium chromium-driver || { as_root apt-get update -qq && apt_install chromium chromium-driver; }
fi
echo "browser ready: $(chromium --version 2>/dev/null | head -n 1)"
