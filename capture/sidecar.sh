#!/bin/sh
# The lab's capture: turn offloads off (wire-size segments), start tcpdump, report healthy only
# once it listens and the file header is on disk, stop when both clients are done (or on a
# signal), flush, and hand the file to the host user.
set -eu
IFACE="${CAPTURE_IFACE:-eth0}"
. /usr/local/bin/run-id.sh # RUN_ID, RUN_DIR
mkdir -p "$RUN_DIR/recordings"
chown -R "${HOST_UID:-0}:${HOST_GID:-0}" "$RUN_DIR"
OUT="$RUN_DIR/capture.pcap"
ethtool -K "$IFACE" tso off gso off gro off 2>/dev/null || echo "sidecar: could not turn offloads off on $IFACE" >&2
ethtool -k "$IFACE" 2>/dev/null | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):' > "$RUN_DIR/offloads.txt" || true
# -B 64 MiB and no --immediate-mode: no kernel drops; blocks are handed over within 1 s.
tcpdump -i "$IFACE" -B 65536 -U -Z root -w "$OUT" "${CAPTURE_FILTER:-tcp port 5050}" 2> "$RUN_DIR/tcpdump.log" &
PID=$!
i=0
until grep -q "listening on" "$RUN_DIR/tcpdump.log" 2>/dev/null && [ -s "$OUT" ]; do
  i=$((i + 1)); [ $i -gt 100 ] && { echo "sidecar: tcpdump did not start" >&2; cat "$RUN_DIR/tcpdump.log" >&2; exit 1; }
  sleep 0.1
done
tcpdump --version 2>&1 | head -1 > "$RUN_DIR/tcpdump-version.txt"
mkdir -p "$RUN_DIR/hosts"
IP=$(ip -4 -o addr show dev "$IFACE" | awk '{print $4}' | cut -d/ -f1)
MAC=$(cat "/sys/class/net/$IFACE/address" 2>/dev/null || echo "")
OFF=$(if grep -q ': on' "$RUN_DIR/offloads.txt" 2>/dev/null; then echo unchanged; else echo off; fi)
cat > "$RUN_DIR/hosts/server.json" <<JSON
{ "role": "server", "ip": "$IP", "mac": "$MAC", "interface": "$IFACE", "kernel": "$(uname -r)", "offloads": "$OFF",
  "capture": { "tool": "tcpdump", "version": "$(cat "$RUN_DIR/tcpdump-version.txt")", "interface": "$IFACE", "filter": "${CAPTURE_FILTER:-tcp port 5050}", "file": "capture.pcap" },
  "at": "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" }
JSON
chown -R "${HOST_UID:-0}:${HOST_GID:-0}" "$RUN_DIR/hosts" 2>/dev/null || true
touch /tmp/capture-ready
echo "sidecar: capturing $IFACE into $OUT"
stop() {
  sleep 1.5 # past tcpdump's 1 s block timeout: the last packets reach the file
  kill -INT $PID 2>/dev/null || true
  wait $PID 2>/dev/null || true
  chown "${HOST_UID:-0}:${HOST_GID:-0}" "$OUT" "$RUN_DIR"/*.txt "$RUN_DIR/tcpdump.log" 2>/dev/null || true
  touch "$RUN_DIR/capture.done"
  echo "sidecar: capture complete ($(wc -c < "$OUT") bytes)"
  exit 0
}
trap stop INT TERM
while [ ! -f "$RUN_DIR/client-a.done" ] || [ ! -f "$RUN_DIR/client-b.done" ]; do
  sleep 0.2 &
  wait $! || true
done
stop
