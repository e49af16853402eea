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
# Base images: the official ones when a registry answers, else a local one, which is also tagged
# with the names the Dockerfiles default to, so a plain `docker compose up` builds offline too.
LOCAL=audiolab/base:bookworm-node24
OFFICIAL="node:24-bookworm-slim debian:bookworm-slim"
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
# a default name that is our local image under another tag
is_local() { [ -n "$(image_id "$LOCAL")" ] && [ "$(image_id "$1")" = "$(image_id "$LOCAL")" ]; }
if [ "${AUDIOLAB_FRESH_BASE:-0}" = 1 ] && [ -n "$(image_id "$LOCAL")" ]; then
  docker image rm -f "$(image_id "$LOCAL")" >/dev/null 2>&1 || true # with every tag it has
fi
if { [ -n "$(image_id node:24-bookworm-slim)" ] && ! is_local node:24-bookworm-slim; } || timeout 20 docker pull -q node:24-bookworm-slim >/dev/null 2>&1; then
  printf 'BASE_IMAGE=node:24-bookworm-slim\nCAPTURE_BASE_IMAGE=debian:bookworm-slim\n' > .cache/docker.env
else
  say "no container registry: building the base image locally"
  bash scripts/docker-base.sh "$LOCAL"
  for name in $OFFICIAL; do
    if [ -z "$(image_id "$name")" ] || is_local "$name"; then docker tag "$LOCAL" "$name"; fi
  done
  printf 'BASE_IMAGE=%s\nCAPTURE_BASE_IMAGE=%s\n' "$LOCAL" "$LOCAL" > .cache/docker.env
fi
say "ready ($(docker version --format '{{.Server.Version}}'); $(tr '\n' ' ' < .cache/docker.env))"
