#!/usr/bin/env bash
# Builds the adze image (adze/adze:<crate version>) WITHOUT network access, from static
# release binaries already built here, with `docker import` (the way tests/setup-docker.sh
# builds adze-test/entrypoint:latest). The Dockerfile at the repository root builds the same
# image from source; both lay the files out with `layout` below.
#
#   bash deploy/build-image.sh [TAG]           # default tag adze/adze:<version in Cargo.toml>
#   bash deploy/build-image.sh --rootfs DIR    # only lay the files out in DIR (the Dockerfile)
#
# The binaries (both static, so the image needs no libc; docs/controller-deploy.md):
#   ADZE_BIN             default <target>/static/x86_64-unknown-linux-gnu/release/adze
#   ADZE_ENTRYPOINT_BIN  default <target>/static/x86_64-unknown-linux-gnu/release/adze-entrypoint
# where <target> is $CARGO_TARGET_DIR or ./target. Build them (offline once the dependencies
# are fetched) with:
#   RUSTFLAGS="-C target-feature=+crt-static" cargo build --release -p adze -p adze-entrypoint \
#     --target x86_64-unknown-linux-gnu --target-dir <target>/static
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)
target="${CARGO_TARGET_DIR:-$repo/target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
release="$target/static/x86_64-unknown-linux-gnu/release"
adze_bin="${ADZE_BIN:-$release/adze}"
entrypoint_bin="${ADZE_ENTRYPOINT_BIN:-$release/adze-entrypoint}"

# static BINARY: fails unless BINARY exists and needs no dynamic loader (the image has none).
static() {
  [ -x "$1" ] || {
    echo "$1 is missing; build it with:" >&2
    echo "  RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build --release -p adze -p adze-entrypoint --target x86_64-unknown-linux-gnu --target-dir $target/static" >&2
    exit 1
  }
  if readelf -l "$1" | grep -q 'program interpreter'; then
    echo "$1 is dynamically linked; the image has no libc: build it with -C target-feature=+crt-static and --target x86_64-unknown-linux-gnu" >&2
    exit 1
  fi
}

# layout DIR ADZE ENTRYPOINT: the image's files. Nothing else: no shell, no libc, no CA bundle
# (the controller trusts the cluster's CA from its ServiceAccount).
layout() {
  local root=$1
  install -D -m 0755 "$2" "$root/usr/local/bin/adze"
  install -D -m 0755 "$3" "$root/adze-entrypoint"
  mkdir -p "$root/etc" "$root/tmp"
  # mktemp made the root 0700: as the image's /, it must let the non-root user in.
  chmod 0755 "$root" "$root/etc" "$root/usr" "$root/usr/local" "$root/usr/local/bin"
  chmod 1777 "$root/tmp"
  # As distroless images: uid 65532 `nonroot`, which the Deployment runs as.
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
}

if [ "${1:-}" = --rootfs ]; then
  [ -n "${2:-}" ] || { echo "usage: $0 --rootfs DIR" >&2; exit 2; }
  static "$adze_bin"
  static "$entrypoint_bin"
  layout "$2" "$adze_bin" "$entrypoint_bin"
  exit 0
fi

tag="${1:-adze/adze:$version}"
static "$adze_bin"
static "$entrypoint_bin"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
layout "$root" "$adze_bin" "$entrypoint_bin"
# Files owned by root: the user cannot replace its own binaries.
tar -C "$root" --owner=0 --group=0 -c . | docker import \
  -c 'USER 65532:65532' \
  -c 'ENTRYPOINT ["/usr/local/bin/adze"]' \
  -c "LABEL org.opencontainers.image.title=adze" \
  - "$tag" >/dev/null
echo "built $tag ($(docker image inspect -f '{{.Size}}' "$tag") bytes)"
