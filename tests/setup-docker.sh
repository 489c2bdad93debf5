#!/usr/bin/env bash
# Prepares a Docker engine and the images adze's tests use, from Debian packages only (no
# registry is reachable here). Idempotent and cached: an image is rebuilt only when it is
# missing or was built from an older recipe (label adze.dev/recipe), so a second run takes
# seconds. The first run builds the Debian image with debootstrap (minutes).
#
#   bash tests/setup-docker.sh
#
# Images:
#   adze-test/busybox:latest      busybox-static, a shell and coreutils in ~2 MB
#   adze-test/nop:latest          the busybox image whose entrypoint exits 0 (Tekton's nop image)
#   adze-test/sleeper:latest      the busybox image whose entrypoint runs until SIGTERM
#   adze-test/debian:bookworm     minimal Debian (/bin/sh is dash, CMD bash) with bash, perl,
#                                 python3, node, git and OpenSSH: stands in for ubuntu, python, perl
#   adze-test/debian-ash:bookworm the Debian image with busybox ash as /bin/sh and `ash`, a
#                                 `nonroot` user (uid 1000) and sshd ready to start: stands in for
#                                 the alpine-based node, alpine/git and alpine-git-nonroot
#   adze-test/bash:latest         debian-ash with the bash image's docker-entrypoint.sh
#   adze-test/kube-tools:bookworm the Debian image with kubectl, jq, curl, openssl and the
#                                 recording fakes of tests/catalog/fakes (kubeadm, helm, ...)
#   adze-test/no-shell:latest     no files at all (the entrypoint's tests bind-mount it in)
#   adze-test/entrypoint:latest   only /adze-entrypoint, the static build of entrypoint/
#                                 (what the Kubernetes executor's init container `prepare` runs)
#
# It also starts a registry on 127.0.0.1:5000 (Debian's docker-registry, storage in
# ADZE_REGISTRY_DIR, default $TMPDIR/adze-registry) for the tests of digest-pinned images.
#
# Every image the upstream Tekton examples (tests/run_examples.rs) name is then tagged to one of
# these. Digest-pinned names (`repo@sha256:...`) cannot be tagged; the test rewrites them to
# `repo:adze-pinned`, which is tagged here. When the examples folder is present, a name it uses
# that is not tagged here fails the script, so new examples cannot go unnoticed.
set -euo pipefail

need() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }

# The tag the test gives digest-pinned images (keep in step with tests/run_examples.rs).
PINNED=adze-pinned

# tests/resolve serves repositories with `git daemon` and clones them with the git CLI.
if ! need git || [ ! -x "$(git --exec-path)/git-daemon" ]; then
  echo "== installing git (with git daemon)"
  apt_install git || { as_root apt-get update -qq && apt_install git; }
fi

# The engine itself, as the README's first command gets it.
bash "$(dirname "$0")/../scripts/install-prerequisites.sh" --engine-only

# fresh IMAGE RECIPE: the image exists and was built from this recipe.
fresh() {
  [ "$(docker image inspect -f '{{index .Config.Labels "adze.dev/recipe"}}' "$1" 2>/dev/null)" = "$2" ]
}

# --- adze-test/busybox:latest and adze-test/nop:latest ------------------------------------
BUSYBOX_RECIPE="busybox-static v3 CMD sh, applets in /bin and at their alpine paths"
if ! fresh adze-test/busybox:latest "$BUSYBOX_RECIPE"; then
  echo "== building adze-test/busybox:latest from busybox-static"
  bash "$(dirname "$0")/../scripts/build-busybox-image.sh" adze-test/busybox:latest "$BUSYBOX_RECIPE"
fi

NOP_RECIPE="busybox ENTRYPOINT true v1"
if ! fresh adze-test/nop:latest "$NOP_RECIPE"; then
  echo "== building adze-test/nop:latest"
  # The busybox image (tiny, already present) with an entrypoint that exits 0, like Tekton's nop.
  id=$(docker create adze-test/busybox:latest true)
  docker export "$id" | docker import -c 'ENV PATH=/bin' -c 'ENTRYPOINT ["/bin/true"]' \
    -c "LABEL adze.dev/recipe=\"$NOP_RECIPE\"" - adze-test/nop:latest >/dev/null
  docker rm "$id" >/dev/null
fi

SLEEPER_RECIPE="busybox ENTRYPOINT sh loop until TERM v1"
if ! fresh adze-test/sleeper:latest "$SLEEPER_RECIPE"; then
  echo "== building adze-test/sleeper:latest"
  # A server-like image: its own entrypoint runs until SIGTERM (then exits 0), so a container
  # without `command` runs until stopped (kube-sim's image-replacement tests).
  id=$(docker create adze-test/busybox:latest true)
  docker export "$id" | docker import -c 'ENV PATH=/bin' \
    -c 'ENTRYPOINT ["/bin/sh", "-c", "trap \"exit 0\" TERM; while :; do sleep 0.1; done"]' \
    -c "LABEL adze.dev/recipe=\"$SLEEPER_RECIPE\"" - adze-test/sleeper:latest >/dev/null
  docker rm "$id" >/dev/null
fi

# --- adze-test/debian:bookworm (debootstrap) ----------------------------------------------
# Only what the examples' scripts run: bash/perl/python3/node interpreters, git over ssh
# (sidecar sshd, ssh-keygen), busybox for the ash variant below.
DEBIAN_PACKAGES="bash,perl,python3,python-is-python3,nodejs,git,openssh-client,openssh-server,busybox-static"
DEBIAN_RECIPE="bookworm minbase $DEBIAN_PACKAGES CMD bash v2"
if ! fresh adze-test/debian:bookworm "$DEBIAN_RECIPE"; then
  echo "== building adze-test/debian:bookworm with debootstrap (minutes)"
  need debootstrap || apt_install debootstrap
  root=$(mktemp -d)
  if ! as_root debootstrap --variant=minbase --include="$DEBIAN_PACKAGES" bookworm "$root" >/tmp/adze-debootstrap.log 2>&1; then
    echo "debootstrap failed; see /tmp/adze-debootstrap.log" >&2
    tail -n 20 /tmp/adze-debootstrap.log >&2
    exit 1
  fi
  as_root rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  as_root tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/bin/bash"]' -c "LABEL adze.dev/recipe=\"$DEBIAN_RECIPE\"" \
    - adze-test/debian:bookworm >/dev/null
  as_root rm -rf "$root"
fi

# --- adze-test/debian-ash:bookworm (alpine-flavoured Debian) ------------------------------
# Alpine-based images run scripts without a shebang with busybox ash (`==` in `[`, `[[`), name
# `ash` in shebangs, and alpine-git-nonroot has a `nonroot` user. sshd needs its privilege
# separation directory, and the host keys are removed because the examples generate their own
# (ssh-keygen would otherwise ask before overwriting). `sshd` returns once it listens
# (tests/images/sshd-when-listening.sh): OpenSSH's forks before it binds, which an example
# that signals readiness right after it loses to under load.
ASH_RECIPE="$DEBIAN_RECIPE + busybox sh/ash, nonroot 1000, /run/sshd, sshd returns once listening v2"
if ! fresh adze-test/debian-ash:bookworm "$ASH_RECIPE"; then
  echo "== building adze-test/debian-ash:bookworm"
  id=$(docker create adze-test/debian:bookworm /bin/bash -c '
    set -e
    ln -sf /bin/busybox /bin/sh
    ln -sf /bin/busybox /usr/local/bin/ash
    useradd -u 1000 -m -s /bin/sh nonroot
    mkdir -p /run/sshd
    rm -f /etc/ssh/ssh_host_*
    mv /usr/sbin/sshd /usr/sbin/sshd.openssh')
  docker start -a "$id" >/dev/null
  # sshd returns only once it listens (see the script).
  docker cp "$(dirname "$0")/images/sshd-when-listening.sh" "$id:/usr/sbin/sshd"
  docker commit -c 'CMD ["/bin/sh"]' -c "LABEL adze.dev/recipe=\"$ASH_RECIPE\"" \
    "$id" adze-test/debian-ash:bookworm >/dev/null
  docker rm "$id" >/dev/null
fi

# --- adze-test/bash:latest (the official bash image's entrypoint) ---------------------------
# The bash image runs `docker-entrypoint.sh`: arguments that do not start with `-` run as a
# command (`args: [echo, hi]`), others go to bash. Steps with args and no command rely on it.
BASH_RECIPE="$ASH_RECIPE + docker-entrypoint.sh v1"
if ! fresh adze-test/bash:latest "$BASH_RECIPE"; then
  echo "== building adze-test/bash:latest"
  id=$(docker create adze-test/debian-ash:bookworm /bin/sh -c '
    set -e
    printf "%s\n" "#!/bin/sh" "set -e" \
      "if [ \"\$#\" -eq 0 ] || [ \"\${1#-}\" != \"\$1\" ]; then set -- bash \"\$@\"; fi" \
      "exec \"\$@\"" > /usr/local/bin/docker-entrypoint.sh
    chmod 755 /usr/local/bin/docker-entrypoint.sh')
  docker start -a "$id" >/dev/null
  docker commit -c 'ENTRYPOINT ["docker-entrypoint.sh"]' -c 'CMD ["bash"]' \
    -c "LABEL adze.dev/recipe=\"$BASH_RECIPE\"" "$id" adze-test/bash:latest >/dev/null
  docker rm "$id" >/dev/null
fi

# --- adze-test/kube-tools:bookworm (stands in for the catalog's toolbox image) --------------
# The catalog's tasks (tasks/, pipelines/) run kubectl, jq, curl, openssl and git from one
# toolbox image. This one has them from Debian (kubectl is the host's, a static Go binary), and
# the recording fakes of tests/catalog/fakes under the names of the tools kube-sim cannot stand
# in for (kubeadm, helm, ...). The recipe carries the fakes' and kubectl's digests.
kubectl_bin=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
[ -x "$kubectl_bin" ] || kubectl_bin=$(readlink -f "$(command -v kubectl)")
fakes="$(cd "$(dirname "$0")" && pwd)/catalog/fakes"
KUBE_TOOLS_RECIPE="$DEBIAN_RECIPE + jq curl openssl kubectl $(sha256sum "$kubectl_bin" | cut -c1-16) fakes $(cat "$fakes/fake-tool" "$fakes/names" | sha256sum | cut -c1-16) v1"
if ! fresh adze-test/kube-tools:bookworm "$KUBE_TOOLS_RECIPE"; then
  echo "== building adze-test/kube-tools:bookworm"
  id=$(docker create --network host adze-test/debian:bookworm /bin/bash -c '
    set -e
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      jq curl openssl ca-certificates >/dev/null
    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
    for name in $(cat /tmp/fakes/names); do ln -s /usr/local/bin/fake-tool "/usr/local/bin/$name"; done')
  docker cp "$kubectl_bin" "$id:/usr/local/bin/kubectl"
  docker cp "$fakes/." "$id:/tmp/fakes"
  docker cp "$fakes/fake-tool" "$id:/usr/local/bin/fake-tool"
  docker start -a "$id" >/dev/null
  docker commit -c 'CMD ["/bin/bash"]' -c "LABEL adze.dev/recipe=\"$KUBE_TOOLS_RECIPE\"" \
    "$id" adze-test/kube-tools:bookworm >/dev/null
  docker rm "$id" >/dev/null
fi

# --- adze-test/no-shell:latest (an image with no files) -----------------------------------
NO_SHELL_RECIPE="empty v1"
if ! fresh adze-test/no-shell:latest "$NO_SHELL_RECIPE"; then
  echo "== building adze-test/no-shell:latest"
  # An empty tar archive is two zero blocks.
  head -c 1024 /dev/zero | docker import -c "LABEL adze.dev/recipe=\"$NO_SHELL_RECIPE\"" \
    - adze-test/no-shell:latest >/dev/null
fi

# --- adze-test/entrypoint:latest (the static entrypoint, nothing else) ----------------------
# Built in the same target directory entrypoint/tests/in_containers.rs uses, so a test run and
# this script share one static build: <CARGO_TARGET_DIR or ./target>/static-entrypoint. The
# recipe label carries the binary's digest, so the image follows the source.
repo=$(cd "$(dirname "$0")/.." && pwd)
static_dir="${CARGO_TARGET_DIR:-$repo/target}/static-entrypoint"
case "$static_dir" in /*) ;; *) static_dir="$repo/$static_dir" ;; esac
need cargo || { echo "cargo is needed to build adze-entrypoint (https://rustup.rs)" >&2; exit 1; }
echo "== building the static adze-entrypoint ($static_dir)"
(cd "$repo" && RUSTFLAGS="-C target-feature=+crt-static" cargo build -q -p adze-entrypoint \
  --release --target x86_64-unknown-linux-gnu --target-dir "$static_dir")
entrypoint_bin="$static_dir/x86_64-unknown-linux-gnu/release/adze-entrypoint"
ENTRYPOINT_RECIPE="static adze-entrypoint sha256:$(sha256sum "$entrypoint_bin" | cut -d' ' -f1) v2"
if ! fresh adze-test/entrypoint:latest "$ENTRYPOINT_RECIPE"; then
  echo "== building adze-test/entrypoint:latest"
  root=$(mktemp -d)
  install -m 0755 "$entrypoint_bin" "$root/adze-entrypoint"
  tar -C "$root" --owner=0 --group=0 -c adze-entrypoint | docker import \
    -c "LABEL adze.dev/recipe=\"$ENTRYPOINT_RECIPE\"" \
    - adze-test/entrypoint:latest >/dev/null
  rm -rf "$root"
fi

# --- names the upstream Tekton examples use ------------------------------------------------
BUSYBOX_NAMES="
  mirror.gcr.io/alpine:latest mirror.gcr.io/alpine:$PINNED
  mirror.gcr.io/busybox:latest mirror.gcr.io/busybox:$PINNED
  cgr.dev/chainguard/busybox:$PINNED"
NOP_NAMES="
  ghcr.io/tektoncd/pipeline/nop-8eac7c133edad5df719dc37b36b62482:$PINNED"
DEBIAN_NAMES="
  mirror.gcr.io/ubuntu:latest mirror.gcr.io/ubuntu:$PINNED ubuntu:latest
  mirror.gcr.io/library/python:latest mirror.gcr.io/python:3.12.4 mirror.gcr.io/python:$PINNED
  mirror.gcr.io/perl:$PINNED"
BASH_NAMES="
  mirror.gcr.io/bash:latest mirror.gcr.io/bash:$PINNED"
ASH_NAMES="
  mirror.gcr.io/node:lts-alpine3.20 mirror.gcr.io/node:$PINNED
  mirror.gcr.io/alpine/git:v2.26.2 mirror.gcr.io/alpine/git:$PINNED
  ghcr.io/tektoncd/plumbing/alpine-git-nonroot:latest ghcr.io/tektoncd/plumbing/alpine-git-nonroot:$PINNED"

tag_all() {
  local source=$1 want
  want=$(docker image inspect -f '{{.Id}}' "$source")
  shift
  for name in "$@"; do
    [ "$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null)" = "$want" ] || docker tag "$source" "$name"
  done
}
# shellcheck disable=SC2086 # the lists are whitespace-separated on purpose
{
  tag_all adze-test/busybox:latest $BUSYBOX_NAMES
  tag_all adze-test/nop:latest $NOP_NAMES
  tag_all adze-test/debian:bookworm $DEBIAN_NAMES
  tag_all adze-test/debian-ash:bookworm $ASH_NAMES
  tag_all adze-test/bash:latest $BASH_NAMES
}

examples="${ADZE_TEKTON_EXAMPLES:-$(dirname "$0")/../../shared/examples/tekton}"
if [ -d "$examples" ]; then
  # `image: $(params.image)` takes its value from the params; `ubuntu` is the only one used.
  missing=$(grep -rhoE 'image: *[^ ]+' "$examples" | sed -E 's/image: *//; s/^["'\'']//; s/["'\'']$//' |
    grep -v '\$(' | sed -E "s/@sha256:[0-9a-f]+$/:$PINNED/" | sort -u |
    while read -r name; do docker image inspect "$name" >/dev/null 2>&1 || echo "$name"; done)
  if [ -n "$missing" ]; then
    echo "images the examples in $examples use but tests/setup-docker.sh does not provide:" >&2
    echo "$missing" >&2
    exit 1
  fi
fi

# --- a local OCI registry on loopback (tests/fidelity/images.rs) ---------------------------
# Debian's `docker-registry` (the reference registry) on 127.0.0.1:5000, run as the invoking
# user with filesystem storage under ADZE_REGISTRY_DIR, so the tests can push images, pull them
# by digest and tamper with the stored blobs. Docker talks plain HTTP to 127.0.0.0/8 registries
# without any configuration. A registry that already answers there is reused.
REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_DIR="${ADZE_REGISTRY_DIR:-${TMPDIR:-/tmp}/adze-registry}"
registry_answers() {
  # /dev/tcp: no curl or wget needed on a fresh machine.
  local reply
  reply=$( (exec 3<>"/dev/tcp/${REGISTRY_ADDR%:*}/${REGISTRY_ADDR#*:}" &&
    printf 'GET /v2/ HTTP/1.0\r\nHost: %s\r\n\r\n' "$REGISTRY_ADDR" >&3 &&
    timeout 5 head -n 1 <&3) 2>/dev/null) || return 1
  [[ "$reply" == *" 200 "* ]]
}
# tests/bundles_hub starts registries of its own (free ports, own storage), so the binary is
# needed even when a registry already answers here.
if ! need docker-registry; then
  echo "== installing docker-registry"
  apt_install docker-registry || { as_root apt-get update -qq && apt_install docker-registry; }
  # Under systemd the package starts its own service on :5000 (with htpasswd auth); the
  # tests need the one below, so that one is stopped and left disabled.
  if [ -d /run/systemd/system ]; then as_root systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
fi
if ! registry_answers; then
  echo "== starting docker-registry on $REGISTRY_ADDR (storage in $REGISTRY_DIR)"
  mkdir -p "$REGISTRY_DIR/data"
  # No blob descriptor cache: a test that changes a stored blob must see the registry serve it.
  cat >"$REGISTRY_DIR/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
CONFIG
  # Its own session: it outlives this script and whatever process group ran it.
  setsid nohup docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/registry.log" 2>&1 &
  for _ in $(seq 1 30); do registry_answers && break; sleep 0.5; done
  registry_answers || { echo "docker-registry did not start; see $REGISTRY_DIR/registry.log" >&2; exit 1; }
fi

docker run --rm adze-test/busybox:latest sh -c 'echo "docker ready: $(uname -m)"'
