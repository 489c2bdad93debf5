#!/usr/bin/env bash
# Builds a busybox image from Debian's busybox-static, for machines that cannot pull one:
# the applets in /bin and at their alpine paths, /etc/passwd and /etc/group, CMD sh (~2 MB).
#
#   bash scripts/build-busybox-image.sh IMAGE [RECIPE]
#
# RECIPE, when given, is stored in the label adze.dev/recipe so a caller can tell an image
# built from an older recipe (tests/setup-docker.sh does).
set -euo pipefail

image=${1:?usage: build-busybox-image.sh IMAGE [RECIPE]}
recipe=${2:-}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /bin/busybox ]; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null ||
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null; }
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/tmp" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
# Also where alpine has them: shebangs name `/usr/bin/env`.
for path in $("$root/bin/busybox" --list-full); do
  case "$path" in bin/* | linuxrc) ;; *) ln -sf /bin/busybox "$root/$path" ;; esac
done
# Real busybox/alpine images have these; `whoami`, `id -un` and `ls -l` read them.
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
mkdir -p "$root/root"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["sh"]' ${recipe:+-c "LABEL adze.dev/recipe=\"$recipe\""} \
  - "$image" >/dev/null
