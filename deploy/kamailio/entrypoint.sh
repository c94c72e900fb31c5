#!/bin/sh
# Starts Kamailio in the foreground and keeps its dispatcher list in step with the gateways
# registered in Redis (sync-dispatcher.sh every SYNC_INTERVAL seconds).
#
# Environment:
#   SIP_LISTEN_ADDR      address to bind (default: every local address)
#   SIP_ADVERTISED_ADDR  public address for Record-Route/Via when behind NAT (needs SIP_LISTEN_ADDR)
#   SIP_PORT             UDP/TCP port [5060]
#   TRUNK_SUBNETS        if set, only these comma-separated CIDRs may send INVITEs
#   KAMAILIO_DEBUG=1     verbose logging
#   SYNC_FROM_REDIS=0    use the list file as it is (no Redis): static gateways
#   KAMAILIO_CFG         [/etc/kamailio/kamailio.cfg]; DEFAULT_DISPATCHER_LIST: the list used
#                        until Redis has gateways [/etc/kamailio/dispatcher.list.default]
#   plus those of sync-dispatcher.sh (REDIS_URL, REDIS_PREFIX, SYNC_INTERVAL...)
#   Any arguments are passed on to kamailio (e.g. -A WITH_CALL_LOAD).
set -eu

export DISPATCHER_LIST="${DISPATCHER_LIST:-/var/lib/convene-kamailio/dispatcher.list}"
KAMAILIO_CFG="${KAMAILIO_CFG:-/etc/kamailio/kamailio.cfg}"
[ -f "$DISPATCHER_LIST" ] || cp "${DEFAULT_DISPATCHER_LIST:-/etc/kamailio/dispatcher.list.default}" "$DISPATCHER_LIST"

if [ "${SYNC_FROM_REDIS:-1}" = "1" ]; then
  # First list before Kamailio starts, so calls are routed from the first second.
  NO_RELOAD=1 sync-dispatcher.sh || true
fi

set -- -DD -E -f "$KAMAILIO_CFG" -A "DISPATCHER_LIST=\"$DISPATCHER_LIST\"" "$@"
[ -n "${SIP_PORT:-}" ] && set -- "$@" -A "SIP_PORT=$SIP_PORT"
[ -n "${SIP_LISTEN_ADDR:-}" ] && set -- "$@" -A "LISTEN_ADDR=$SIP_LISTEN_ADDR"
[ -n "${SIP_ADVERTISED_ADDR:-}" ] && set -- "$@" -A "ADVERTISED_ADDR=$SIP_ADVERTISED_ADDR"
[ -n "${TRUNK_SUBNETS:-}" ] && set -- "$@" -A WITH_TRUNK_ACL -A "TRUNK_SUBNETS=\"$TRUNK_SUBNETS\""
[ "${KAMAILIO_DEBUG:-0}" = "1" ] && set -- "$@" -A WITH_DEBUG

kamailio "$@" &
kamailio_pid=$!
trap 'kill -TERM "$kamailio_pid" 2>/dev/null' TERM INT

if [ "${SYNC_FROM_REDIS:-1}" = "1" ]; then
  sync-dispatcher.sh --loop &
  sync_pid=$!
fi

# Exit with Kamailio: the container restarts as a whole.
status=0
wait "$kamailio_pid" || status=$?
# A trapped signal interrupts `wait`: keep waiting until Kamailio itself has finished.
while kill -0 "$kamailio_pid" 2>/dev/null; do wait "$kamailio_pid" || status=$?; done
[ -n "${sync_pid:-}" ] && { kill "$sync_pid" 2>/dev/null || true; }
exit "$status"
