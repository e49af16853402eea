# Sourced by every container of the lab: sets RUN_ID and RUN_DIR for this run.
#
# `npm run lab` names the run itself (RUN_ID). A plain `docker compose up` leaves it unset (or
# "auto"): then the `run` service, a one-shot container every other one waits for, claims a new
# folder runs/<time> and writes its name to runs/.current; the others, started after it, read that.
# So every plain run gets its own folder and never writes into an earlier run's.
# Once the run is complete, the `finish` service points runs/latest at it.
#   usage: run-id.sh claim | run-id.sh latest   (the run and finish services, as root)
#          . run-id.sh                          (every other container: sets RUN_ID and RUN_DIR)
run_id_claim() {
  if [ -n "${RUN_ID:-}" ] && [ "$RUN_ID" != auto ]; then
    mkdir -p "/runs/$RUN_ID"
    return
  fi
  # sorts by time, a valid folder name, the wrapper's form: 2026-12-02T15-04-05-123Z
  RUN_ID=$(date -u +%Y-%m-%dT%H-%M-%S-%3NZ)
  while ! mkdir "/runs/$RUN_ID" 2>/dev/null; do RUN_ID="$RUN_ID-x"; done
  echo "$RUN_ID" > "/runs/.current.$$"
  mv -f "/runs/.current.$$" /runs/.current
}

run_id_read() {
  if [ -n "${RUN_ID:-}" ] && [ "$RUN_ID" != auto ]; then return; fi
  if [ ! -f /runs/.current ]; then
    echo "lab: no run folder: the server container claims it (runs/.current) before the others start" >&2
    exit 1
  fi
  RUN_ID=$(cat /runs/.current)
}

# runs/latest -> this run, replaced atomically; a folder of that name from an older layout is kept aside
run_id_point_latest() {
  if [ -d /runs/latest ] && [ ! -L /runs/latest ]; then mv /runs/latest "/runs/latest-before-$RUN_ID"; fi
  ln -sfn "$RUN_ID" "/runs/.latest.$$"
  mv -fT "/runs/.latest.$$" /runs/latest
  chown -h "${HOST_UID:-0}:${HOST_GID:-0}" /runs/latest 2>/dev/null || true
}

case "${1:-}" in
  claim)
    run_id_claim
    chown "${HOST_UID:-0}:${HOST_GID:-0}" "/runs/$RUN_ID"
    echo "lab: this run is runs/$RUN_ID" ;;
  latest)
    run_id_read
    # npm run lab points runs/latest itself, after its checks (LAB_POINT_LATEST=0)
    if [ "${LAB_POINT_LATEST:-1}" != 0 ]; then
      run_id_point_latest
      echo "lab: runs/latest is runs/$RUN_ID"
    fi
    # the run is over: its name is no longer current (unless a newer run claimed the name since)
    if [ "$(cat /runs/.current 2>/dev/null)" = "$RUN_ID" ]; then rm -f /runs/.current; fi ;;
  *)
    run_id_read ;;
esac
RUN_DIR="/runs/$RUN_ID"
export RUN_ID RUN_DIR
