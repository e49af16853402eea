#!/usr/bin/env bash
# Builds the lab's base image without a container registry: a minimal Debian (debootstrap from the
# machine's Debian mirror) with tcpdump, ethtool, iproute2, plus the Node 24 binary this machine
# runs. Users with a registry do not need this: the Dockerfiles default to node:24-bookworm-slim
# and debian:bookworm-slim. Usage: bash scripts/docker-base.sh [IMAGE]
set -euo pipefail
IMAGE="${1:-audiolab/base:bookworm-node24}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then echo "$IMAGE exists"; exit 0; fi
MIRROR="${DEBIAN_MIRROR:-$(grep -hoE 'https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -v security | head -1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT
echo "[docker-base] debootstrap bookworm from $MIRROR"
debootstrap --variant=minbase --include=tcpdump,ethtool,iproute2,iptables,libasound2,libpcap0.8 bookworm "$ROOTFS" "$MIRROR" >/dev/null
install -m 0755 "$(command -v node)" "$ROOTFS/usr/local/bin/node"
chroot "$ROOTFS" useradd --create-home --uid 1000 node
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
echo "[docker-base] importing $IMAGE"
tar -C "$ROOTFS" -c . | docker import - "$IMAGE" >/dev/null
echo "[docker-base] $IMAGE ready ($(node --version))"
