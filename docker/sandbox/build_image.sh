#!/usr/bin/env bash
# Build the sandbox image without any image registry; idempotent.
#
# debootstrap a minimal Debian bookworm root filesystem with python3 (the same interpreter
# Debian 12 ships as /usr/bin/python3, which the local backends' runtime is built on) and
# libfaketime (the determinism certificate's clock shift, core/sandbox/variation.py), trim
# documentation and package caches, install the sandbox runtime's lock into its /usr/local
# (core/sandbox/runtime_build.py, the same command `make` uses for .sandbox-runtime), and `docker
# import` it, labelled with its recipe (Debian packages and the lock's digest). Skips everything
# when the image exists with that label, skips debootstrap when a root filesystem of the same
# Debian packages is already there, and reinstalls the Python packages only when the lock changed. Needs root, a running engine (see start_dockerd.sh) and
# the project's .venv. Environment overrides:
#   SANDBOX_IMAGE (default codeboost-sandbox:latest)
#   SANDBOX_ROOTFS (default docker/rootfs/sandbox, gitignored)
#   DEBIAN_MIRROR (default http://deb.debian.org/debian)
#   PYTHON_BIN (default .venv/bin/python)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
IMAGE="${SANDBOX_IMAGE:-codeboost-sandbox:latest}"
ROOTFS="${SANDBOX_ROOTFS:-$(dirname "$HERE")/rootfs/sandbox}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DONE_MARKER="$ROOTFS/.codeboost-rootfs-complete"
REPO="$(dirname "$(dirname "$HERE")")"
PYTHON_BIN="${PYTHON_BIN:-$REPO/.venv/bin/python}"
RUNTIME=(env -C "$REPO" "$PYTHON_BIN" -m codeboost_dagster.core.sandbox.runtime_build)
LOCK_DIGEST="$("${RUNTIME[@]}" digest)"
SITE_PACKAGES="$ROOTFS/usr/local/lib/python3.11/dist-packages"
DEBIAN_PACKAGES="python3-minimal,python3,libfaketime"
LABEL="codeboost.sandbox.recipe"
RECIPE="$DEBIAN_PACKAGES lock=$LOCK_DIGEST"

if [ "$(docker image inspect "$IMAGE" --format "{{index .Config.Labels \"$LABEL\"}}" 2>/dev/null)" = "$RECIPE" ]; then
    echo "image $IMAGE already exists ($RECIPE)"
    exit 0
fi

if [ "$(cat "$DONE_MARKER" 2>/dev/null)" != "$DEBIAN_PACKAGES" ]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring >/dev/null
    fi
    rm -rf "$ROOTFS"
    mkdir -p "$(dirname "$ROOTFS")"
    echo "debootstrap bookworm into $ROOTFS"
    debootstrap --variant=minbase --include="$DEBIAN_PACKAGES" bookworm "$ROOTFS" "$MIRROR" >/dev/null
    # Trim what a sandboxed program never needs: docs, manuals, translations, package caches.
    rm -rf "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
        "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/lib/apt/lists/* \
        "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/log/*
    echo "$DEBIAN_PACKAGES" >"$DONE_MARKER"
fi

if [ ! -f "$SITE_PACKAGES/.lock-$LOCK_DIGEST" ]; then
    echo "installing the sandbox runtime (lock $LOCK_DIGEST) into $SITE_PACKAGES"
    rm -rf "$SITE_PACKAGES"
    "${RUNTIME[@]}" install "$SITE_PACKAGES"
    touch "$SITE_PACKAGES/.lock-$LOCK_DIGEST"
fi

# Docker copies the image directory's mode onto a tmpfs mounted over it: make /sandbox 1777.
install -d -m 1777 "$ROOTFS/sandbox"

# The image must have a working interpreter with the full standard library.
chroot "$ROOTFS" /usr/bin/python3 -c "import ctypes, json, sqlite3, sys; print('python', sys.version.split()[0])"
chroot "$ROOTFS" /usr/bin/python3 -c "import numpy, pandas, scipy, sympy, networkx; print('runtime packages import')"

echo "importing $IMAGE"
tar -C "$ROOTFS" --exclude=./.codeboost-rootfs-complete -c . \
    | docker import --change 'WORKDIR /sandbox' --change 'CMD ["/usr/bin/python3"]' \
        --change "LABEL $LABEL=\"$RECIPE\"" - "$IMAGE" >/dev/null
docker image inspect "$IMAGE" --format '{{.RepoTags}} {{.Size}} bytes'
