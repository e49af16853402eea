#!/usr/bin/env bash
# Makes sure a Docker engine runs, with address pools in the benchmarking range (198.18.0.0/15) so
# no network lands on a LAN range, and that the lab's base images can be built (locally from
# debootstrap when no container registry is reachable). Idempotent.
#   AUDIOLAB_FRESH_BASE=1   remove the local base image first and build it anew (CI does: a missing
#                           install step must fail there, not hide behind an image left by a run)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[docker]\033[0m %s\n' "$*"; }
if ! docker info >/dev/null 2>&1; then
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
  say "starting dockerd"
  nohup dockerd --bip 198.19.255.1/24 --default-address-pool base=198.19.0.0/16,size=24 > /tmp/audiolab-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /tmp/audiolab-dockerd.log; exit 1; }
fi
# Base images: the official ones when a registry answers, else a local one.
if docker image inspect node:24-bookworm-slim >/dev/null 2>&1 || timeout 20 docker pull -q node:24-bookworm-slim >/dev/null 2>&1; then
  printf 'BASE_IMAGE=node:24-bookworm-slim\nCAPTURE_BASE_IMAGE=debian:bookworm-slim\n' > .cache/docker.env
else
  say "no container registry: building the base image locally"
  if [ "${AUDIOLAB_FRESH_BASE:-0}" = 1 ]; then docker image rm -f audiolab/base:bookworm-node24 >/dev/null 2>&1 || true; fi
  bash scripts/docker-base.sh audiolab/base:bookworm-node24
  printf 'BASE_IMAGE=audiolab/base:bookworm-node24\nCAPTURE_BASE_IMAGE=audiolab/base:bookworm-node24\n' > .cache/docker.env
fi
say "ready ($(docker version --format '{{.Server.Version}}'); $(tr '\n' ' ' < .cache/docker.env))"
