#!/bin/sh
# A client's network, set up before the client starts (this container owns the client's network
# namespace; the client joins it). Turns offloads off (wire-size segments), applies the impairment
# profile for this role, records what was applied and what this kernel could not do, reports ready,
# then waits for the client to finish.
#   usage: netsetup ROLE     (env: RUN_ID, LAB_PROFILE, HOST_UID, HOST_GID)
set -u
ROLE="$1"
IFACE="${LAB_IFACE:-eth0}"
PROFILE="${LAB_PROFILE:-clean}"
. /usr/local/bin/run-id.sh # RUN_ID, RUN_DIR
mkdir -p "$RUN_DIR/hosts"
PFILE="/etc/audiolab/profiles/$PROFILE.env"
if [ ! -f "$PFILE" ]; then
  echo "netsetup: unknown profile '$PROFILE' (profiles: $(ls /etc/audiolab/profiles | sed 's/\.env$//' | tr '\n' ' '))" >&2
  exit 2
fi
. "$PFILE"
P=$(echo "$ROLE" | tr 'a-z-' 'A-Z_')_
get() { eval "echo \${$P$1:-}"; }
APPLIED=""
UNAVAILABLE=""
add() { APPLIED="$APPLIED${APPLIED:+,}\"$1\""; }
miss() { UNAVAILABLE="$UNAVAILABLE${UNAVAILABLE:+,}\"$1\""; }

if ethtool -K "$IFACE" tso off gso off gro off 2>/dev/null; then OFFLOADS=off; else OFFLOADS=unchanged; fi

LOSS=$(get LOSS_EVERY); DELAY=$(get DELAY_MS); JITTER=$(get JITTER_MS); SEED=$(get SEED)
RATE=$(get RATE_KBIT); FALLBACK=$(get FALLBACK_RATE_KBIT)
if [ -n "$LOSS" ]; then
  # in this (the receiver's) INPUT chain: a drop in the sender's OUTPUT would be re-sent at once
  if iptables -A INPUT -i "$IFACE" -p tcp --sport 5050 -m statistic --mode nth --every "$LOSS" --packet 0 -j DROP 2>/dev/null; then
    add "loss: every ${LOSS}th packet from the server dropped (iptables statistic nth)"
  else miss "loss (iptables statistic)"; fi
fi
NETEM=""
if [ -n "$DELAY" ]; then
  ARGS="delay ${DELAY}ms${JITTER:+ ${JITTER}ms}"
  if [ -n "$SEED" ] && tc qdisc add dev "$IFACE" root netem $ARGS seed "$SEED" 2>/dev/null; then
    NETEM=1; add "netem $ARGS seed $SEED"
  elif tc qdisc add dev "$IFACE" root netem $ARGS 2>/dev/null; then
    NETEM=1; add "netem $ARGS${SEED:+ (this tc has no seed option)}"
  else
    miss "delay ${DELAY}ms${JITTER:+ ± ${JITTER}ms} (this kernel has no netem)"
    [ -z "$RATE" ] && RATE="$FALLBACK" && [ -n "$RATE" ] && add "fallback for the jitter: a ${RATE} kbit/s queue"
  fi
fi
if [ -n "$RATE" ]; then
  if [ -z "$NETEM" ] && tc qdisc add dev "$IFACE" root tbf rate "${RATE}kbit" burst 32kb latency 200ms 2>/dev/null; then
    add "rate: ${RATE} kbit/s out (tbf)"
  else miss "rate out (tbf)"; fi
  if tc qdisc add dev "$IFACE" handle ffff: ingress 2>/dev/null \
    && tc filter add dev "$IFACE" parent ffff: protocol ip prio 1 u32 match u32 0 0 police rate "${RATE}kbit" burst 64k drop flowid :1 2>/dev/null; then
    add "rate: ${RATE} kbit/s in (ingress police)"
  else miss "rate in (ingress police)"; fi
fi

IP=$(ip -4 -o addr show dev "$IFACE" | awk '{print $4}' | cut -d/ -f1)
MAC=$(cat "/sys/class/net/$IFACE/address" 2>/dev/null || echo "")
cat > "$RUN_DIR/hosts/$ROLE.json" <<JSON
{ "role": "$ROLE", "ip": "$IP", "mac": "$MAC", "interface": "$IFACE", "kernel": "$(uname -r)", "offloads": "$OFFLOADS",
  "impairments": { "profile": "$PROFILE", "applied": [$APPLIED], "unavailable": [$UNAVAILABLE] }, "at": "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" }
JSON
chown -R "${HOST_UID:-0}:${HOST_GID:-0}" "$RUN_DIR/hosts" 2>/dev/null || true
echo "netsetup: $ROLE $IP $MAC offloads $OFFLOADS, profile $PROFILE: applied [$APPLIED] unavailable [$UNAVAILABLE]"
touch /tmp/net-ready
trap 'exit 0' INT TERM
i=0
while [ ! -f "$RUN_DIR/$ROLE.done" ] && [ $i -lt 6000 ]; do
  sleep 0.2 &
  wait $! || true
  i=$((i + 1))
done
exit 0
