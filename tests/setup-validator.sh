#!/usr/bin/env bash
# Installs kubernetes-validate (PyPI; offline Kubernetes schemas), which tests/pod_translation.rs
# runs on every generated Pod, ConfigMap, Secret and claim. Does nothing when it is installed.
set -euo pipefail

VERSION=1.37.0
if command -v kubernetes-validate >/dev/null 2>&1 \
    && [ "$(kubernetes-validate --version 2>/dev/null)" = "$VERSION" ]; then
    exit 0
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
fi
# Debian's own Python refuses installs outside a virtual environment (PEP 668); the validator
# is a test tool of this machine, so it goes in anyway.
python3 -m pip install --quiet "kubernetes-validate==$VERSION" \
    || python3 -m pip install --quiet --break-system-packages "kubernetes-validate==$VERSION"
command -v kubernetes-validate >/dev/null 2>&1 || {
    echo "kubernetes-validate was installed but is not on PATH ($(python3 -m site --user-base)/bin?)" >&2
    exit 1
}
