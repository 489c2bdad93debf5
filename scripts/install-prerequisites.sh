#!/usr/bin/env bash
# Gets this Debian or Ubuntu machine ready for `adze run`: a container engine that answers,
# and a Rust toolchain new enough to build adze. The README's first command runs it.
#
#   bash scripts/install-prerequisites.sh [--engine-only]
#
# - An engine that already answers (`docker info`, through $DOCKER_HOST when set: Docker, or
#   Podman's Docker socket) is left alone.
# - Otherwise Debian's `docker.io` is installed when missing, and `dockerd` started: through
#   systemd when it runs the machine, else in the background (clearing a stale pid file), with
#   its log in /tmp/adze-dockerd.log.
# - A user other than root joins the `docker` group (for later logins) and is given access to
#   the socket now (an ACL), so the command that follows works in this same shell.
# - Rust: when `cargo` is missing or older than adze's minimum, it says how to install it
#   (rustup) and fails, since Debian's own `cargo` is too old.
# - The example's image (busybox): pulled, or built from Debian's busybox-static when Docker
#   Hub does not answer (scripts/build-busybox-image.sh).
#
# `--engine-only` (what tests/setup-docker.sh uses) stops after the engine.
#
# Root is needed only to install and start; sudo is used for that when not root. Idempotent:
# a second run only checks.
set -euo pipefail

need() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

# The `rust-version` of Cargo.toml.
RUST_MIN=1.85
# Docker's default socket, when $DOCKER_HOST does not name another.
SOCKET=/var/run/docker.sock

engine_answers() { need docker && docker info >/dev/null 2>&1; }

if engine_answers; then
  echo "== container engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo answering) at ${DOCKER_HOST:-unix://$SOCKET}"
else
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix://$SOCKET" ]; then
    echo "error: DOCKER_HOST=$DOCKER_HOST does not answer" >&2
    echo "  help: start the engine it names (Podman: systemctl --user start podman.socket)," >&2
    echo "        or unset DOCKER_HOST to use a local Docker engine, and run this again" >&2
    exit 1
  fi
  if ! need dockerd || ! need docker; then
    echo "== installing docker.io (Debian's Docker engine)"
    apt_install docker.io
  fi
  if ! as_root docker info >/dev/null 2>&1; then
    echo "== starting dockerd"
    if [ -d /run/systemd/system ] && need systemctl; then
      as_root systemctl start docker || true
    fi
    if ! as_root docker info >/dev/null 2>&1; then
      # No systemd (a container, WSL): run it in the background. A pid file left by a daemon
      # that died would stop the new one from starting.
      as_root rm -f /var/run/docker.pid
      as_root sh -c 'nohup dockerd >/tmp/adze-dockerd.log 2>&1 &'
    fi
    for _ in $(seq 1 60); do as_root docker info >/dev/null 2>&1 && break; sleep 1; done
    as_root docker info >/dev/null 2>&1 ||
      { echo "error: dockerd did not start; see /tmp/adze-dockerd.log (or journalctl -u docker)" >&2; exit 1; }
  fi
  if [ "$(id -u)" != 0 ] && ! docker info >/dev/null 2>&1; then
    echo "== giving $USER access to the engine (the docker group, and an ACL on $SOCKET for this session)"
    as_root usermod -aG docker "$USER"
    need setfacl || apt_install acl
    as_root setfacl -m "u:$USER:rw" "$SOCKET"
  fi
  engine_answers || { echo "error: the engine started but does not answer $USER; run \`adze doctor\`" >&2; exit 1; }
  echo "== container engine: $(docker version --format '{{.Server.Version}}') at unix://$SOCKET"
fi

# Rust: `cargo run` in the README's first command builds adze.
version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
[ "${1:-}" = --engine-only ] && exit 0
if ! need cargo && [ -x "$HOME/.cargo/bin/cargo" ]; then
  echo "error: Rust is installed in $HOME/.cargo/bin, which is not on PATH" >&2
  echo "  help: run \`. \$HOME/.cargo/env\` (or open a new shell) and run this again" >&2
  exit 1
fi
if ! need cargo || ! version_at_least "$(rustc --version | awk '{print $2}')" "$RUST_MIN"; then
  echo "error: adze needs Rust $RUST_MIN or newer (found: $(rustc --version 2>/dev/null || echo none))" >&2
  echo "  help: install it with rustup, then open a new shell (or \`. \$HOME/.cargo/env\`) and run this again:" >&2
  echo "        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y" >&2
  exit 1
fi
echo "== rust: $(rustc --version)"

# The image of examples/build-and-release.yaml: `adze run` pulls it when missing, but a
# machine that cannot reach Docker Hub gets the same busybox built from Debian's package.
EXAMPLE_IMAGE=busybox:latest
if ! docker image inspect "$EXAMPLE_IMAGE" >/dev/null 2>&1 &&
  ! timeout 120 docker pull -q "$EXAMPLE_IMAGE" >/dev/null 2>&1; then
  echo "== Docker Hub does not answer: building $EXAMPLE_IMAGE from Debian's busybox-static"
  bash "$(dirname "$0")/build-busybox-image.sh" "$EXAMPLE_IMAGE"
fi
echo "== example image: $EXAMPLE_IMAGE"
