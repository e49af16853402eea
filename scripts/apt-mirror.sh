#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt uses: the first active entry (deb822 `URIs:` in
# /etc/apt/sources.list.d/*.sources, or a one-line `deb URL …` in sources.list and *.list),
# never a comment, never the security archive. DEBIAN_MIRROR overrides; deb.debian.org otherwise.
set -uo pipefail
if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; exit 0; fi
shopt -s nullglob
files=(${APT_SOURCES_FILES:-/etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list})
for f in "${files[@]}"; do
  [ -r "$f" ] || continue
  sed -e 's/#.*//' "$f" | awk '
    /^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) print $i; next }
    /^[[:space:]]*deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; break } }'
done | grep -E '^https?://[^ ]*/debian/?$' | head -1 | grep . || echo "http://deb.debian.org/debian"
