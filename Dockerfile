# The adze image: `adze` (the controller, `adze controller`; and every other command) at
# /usr/local/bin/adze, and the static entrypoint that a TaskRun Pod's init container copies,
# at /adze-entrypoint. Both binaries are static (glibc, crt-static), so the image is FROM
# scratch: no shell, no libc, no package manager, nothing to patch but adze itself.
#
#   docker build -t adze/adze:0.1.0 .
#
# deploy/build-image.sh builds the same image without network access from binaries built
# locally (`docker import`); both lay the files out with its `layout` (--rootfs).
# docs/controller-deploy.md says why and what is verified.

ARG RUST_VERSION=1.95
FROM docker.io/library/rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# --target makes RUSTFLAGS apply to adze's code and dependencies only, not to build scripts
# and proc macros (which cannot be static).
RUN RUSTFLAGS="-C target-feature=+crt-static" cargo build --locked --release \
        -p adze -p adze-entrypoint --target x86_64-unknown-linux-gnu --target-dir /build \
    && ADZE_BIN=/build/x86_64-unknown-linux-gnu/release/adze \
       ADZE_ENTRYPOINT_BIN=/build/x86_64-unknown-linux-gnu/release/adze-entrypoint \
       bash deploy/build-image.sh --rootfs /rootfs

FROM scratch
COPY --from=build /rootfs/ /
# uid 65532 `nonroot`, as distroless images; the Deployment (deploy/deployment.yaml) says so too.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/adze"]
LABEL org.opencontainers.image.title=adze
