#!/usr/bin/env bash
# Build the sandbox image without any image registry; idempotent.
#
# debootstrap a minimal Debian bookworm root filesystem with python3 (the same interpreter
# Debian 12 ships as /usr/bin/python3, which the local backends prefer), trim documentation
# and package caches, and `docker import` it. Skips everything when the image already exists,
# and skips debootstrap when a complete root filesystem is already there.
# Needs root and a running engine (see start_dockerd.sh). Environment overrides:
#   SANDBOX_IMAGE (default codeboost-sandbox:latest)
#   SANDBOX_ROOTFS (default docker/rootfs/sandbox, gitignored)
#   DEBIAN_MIRROR (default http://deb.debian.org/debian)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
IMAGE="${SANDBOX_IMAGE:-codeboost-sandbox:latest}"
ROOTFS="${SANDBOX_ROOTFS:-$(dirname "$HERE")/rootfs/sandbox}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DONE_MARKER="$ROOTFS/.codeboost-rootfs-complete"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "image $IMAGE already exists"
    exit 0
fi

if [ ! -f "$DONE_MARKER" ]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring >/dev/null
    fi
    rm -rf "$ROOTFS"
    mkdir -p "$(dirname "$ROOTFS")"
    echo "debootstrap bookworm into $ROOTFS"
    debootstrap --variant=minbase --include=python3-minimal,python3 bookworm "$ROOTFS" "$MIRROR" >/dev/null
    # Trim what a sandboxed program never needs: docs, manuals, translations, package caches.
    rm -rf "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
        "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/lib/apt/lists/* \
        "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/log/*
    touch "$DONE_MARKER"
fi

# Docker copies the image directory's mode onto a tmpfs mounted over it: make /sandbox 1777.
install -d -m 1777 "$ROOTFS/sandbox"

# The image must have a working interpreter with the full standard library.
chroot "$ROOTFS" /usr/bin/python3 -c "import ctypes, json, sqlite3, sys; print('python', sys.version.split()[0])"

echo "importing $IMAGE"
tar -C "$ROOTFS" --exclude=./.codeboost-rootfs-complete -c . \
    | docker import --change 'WORKDIR /sandbox' --change 'CMD ["/usr/bin/python3"]' - "$IMAGE" >/dev/null
docker image inspect "$IMAGE" --format '{{.RepoTags}} {{.Size}} bytes'
