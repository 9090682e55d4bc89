#!/usr/bin/env bash
# Start a Docker engine on a machine without systemd (CI, dev containers); idempotent.
#
# If an engine already answers `docker info`, do nothing. Otherwise install docker.io when
# dockerd is missing, start `dockerd` in the background (its own session, so it outlives this
# script), record its PID in $DOCKERD_PIDFILE and wait until `docker info` works.
# Needs root (apt-get and dockerd). Environment overrides:
#   DOCKERD_PIDFILE (default /var/run/codeboost-dockerd.pid)
#   DOCKERD_LOG     (default /var/log/codeboost-dockerd.log)
#   DOCKERD_WAIT_S  (default 60)
#   DOCKERD_ARGS    (extra dockerd flags, e.g. "--iptables=false --bridge=none" where the
#                    machine cannot program iptables; the sandbox itself needs no network)
set -euo pipefail

PIDFILE="${DOCKERD_PIDFILE:-/var/run/codeboost-dockerd.pid}"
LOG="${DOCKERD_LOG:-/var/log/codeboost-dockerd.log}"
WAIT_S="${DOCKERD_WAIT_S:-60}"

engine_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

if engine_answers; then
    echo "docker engine already answers"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    echo "installing docker.io"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io iptables ca-certificates >/dev/null
fi

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "dockerd already started (pid $(cat "$PIDFILE")), waiting for it"
else
    mkdir -p "$(dirname "$PIDFILE")" "$(dirname "$LOG")"
    # shellcheck disable=SC2086  # DOCKERD_ARGS is a list of flags
    setsid nohup dockerd ${DOCKERD_ARGS:-} >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    echo "started dockerd (pid $(cat "$PIDFILE")), log $LOG"
fi

for _ in $(seq "$WAIT_S"); do
    if engine_answers; then
        echo "docker engine ready"
        exit 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        echo "dockerd exited; last log lines:" >&2
        tail -n 20 "$LOG" >&2
        exit 1
    fi
    sleep 1
done
echo "docker engine did not answer within ${WAIT_S}s; last log lines:" >&2
tail -n 20 "$LOG" >&2
exit 1
