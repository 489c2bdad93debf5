#!/usr/bin/env bash
# Prepares a Docker engine and the images adze's executor tests use, from Debian packages
# only (no registry is reachable here). Idempotent: cached images are reused.
#
#   bash tests/setup-docker.sh          # engine + busybox image (seconds)
#   ADZE_DEBIAN_IMAGE=1 bash tests/setup-docker.sh   # also bash/perl/python3 (debootstrap, minutes)
#
# Images:
#   adze-test/busybox:latest   busybox-static, a shell and coreutils in ~1 MB
#   adze-test/debian:bookworm  minimal Debian with bash, perl and python3
set -euo pipefail

need() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! need dockerd || ! need docker; then
  echo "== installing docker.io"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "== starting dockerd"
  as_root rm -f /var/run/docker.pid
  as_root sh -c 'nohup dockerd >/tmp/adze-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /tmp/adze-dockerd.log" >&2; exit 1; }
fi

if ! docker image inspect adze-test/busybox:latest >/dev/null 2>&1; then
  echo "== building adze-test/busybox:latest from busybox-static"
  [ -x /bin/busybox ] || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' - adze-test/busybox:latest >/dev/null
  rm -rf "$root"
fi

if [ "${ADZE_DEBIAN_IMAGE:-0}" = 1 ] && ! docker image inspect adze-test/debian:bookworm >/dev/null 2>&1; then
  echo "== building adze-test/debian:bookworm with debootstrap"
  need debootstrap || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  root=$(mktemp -d)
  as_root debootstrap --variant=minbase --include=bash,perl,python3 bookworm "$root" >/tmp/adze-debootstrap.log
  as_root tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - adze-test/debian:bookworm >/dev/null
  as_root rm -rf "$root"
fi

docker run --rm adze-test/busybox:latest sh -c 'echo "docker ready: $(uname -m)"'
