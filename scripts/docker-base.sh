#!/usr/bin/env bash
# Builds the lab's base image without a container registry: a minimal Debian (debootstrap from the
# machine's Debian mirror, scripts/apt-mirror.sh) with tcpdump, ethtool, iproute2, iptables, plus a
# Node 24 binary. Users with a registry do not need this: the Dockerfiles default to
# node:24-bookworm-slim and debian:bookworm-slim.
# Usage: bash scripts/docker-base.sh [IMAGE]   (AUDIOLAB_NODE=/path/to/node picks the Node 24 binary)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${1:-audiolab/base:bookworm-node24}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then echo "[docker-base] $IMAGE exists"; exit 0; fi
# Node 24 whatever the caller's PATH holds: the one scripts/setup.sh installed, else `node` if it is 24
NODE="${AUDIOLAB_NODE:-$(cat .cache/node 2>/dev/null || command -v node || true)}"
NODE_VERSION="$("$NODE" --version 2>/dev/null || true)"
case "$NODE_VERSION" in
  v24.*) ;;
  *) echo "[docker-base] AUDIOLAB_ERR_NOT_SET_UP: the base image needs Node 24, and ${NODE:-node} is ${NODE_VERSION:-missing}; run: bash scripts/setup.sh" >&2; exit 1 ;;
esac
MIRROR="$(bash scripts/apt-mirror.sh)"
ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT
echo "[docker-base] debootstrap bookworm from $MIRROR (about a minute)"
debootstrap --variant=minbase --include=tcpdump,ethtool,iproute2,iptables,libasound2,libpcap0.8 bookworm "$ROOTFS" "$MIRROR" >/dev/null
install -m 0755 "$NODE" "$ROOTFS/usr/local/bin/node"
chroot "$ROOTFS" useradd --create-home --uid 1000 node
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
echo "[docker-base] importing $IMAGE"
tar -C "$ROOTFS" -c . | docker import - "$IMAGE" >/dev/null
echo "[docker-base] $IMAGE ready (node $NODE_VERSION)"
