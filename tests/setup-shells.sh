#!/usr/bin/env bash
# Installs the shells whose completion scripts tests/cli/shell.rs checks (bash is already
# there): Debian's zsh (`zsh -n`) and fish (`fish -n`, and `complete -C` answering through the
# script). Idempotent and quiet: nothing happens when both are on PATH.
#
#   bash tests/setup-shells.sh
set -euo pipefail

need() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }

if ! need zsh || ! need fish; then
  echo "== installing zsh and fish"
  apt_install zsh fish || { as_root apt-get update -qq && apt_install zsh fish; }
fi
echo "shells ready: $(zsh --version), $(fish --version)"
