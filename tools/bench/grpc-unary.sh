#!/usr/bin/env bash
# First transport benchmark: unary gRPC calls against sessiond's grpc.health.v1.Health/Check
# (answered from memory), with h2load from Debian's nghttp2-client.
#   tools/bench/grpc-unary.sh            (DURATION=10 CONNS=8 STREAMS=32 SERVER_CPUS=0 CLIENT_CPUS=1)
# Prints h2load's summary, the server's CPU time per call (from /proc) and its peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
DURATION=${DURATION:-10}
CONNS=${CONNS:-8}
STREAMS=${STREAMS:-32}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}

run_sessiond "$SERVER_CPUS"

# HealthCheckRequest{} framed: flag 0, length 0.
printf '\x00\x00\x00\x00\x00' >"$work/req.bin"
url="http://127.0.0.1:$port/grpc.health.v1.Health/Check"
h2load_args=(-c "$CONNS" -m "$STREAMS" -t 1 -d "$work/req.bin" -H 'content-type: application/grpc' -H 'te: trailers')

taskset -c "$CLIENT_CPUS" h2load -D 2 "${h2load_args[@]}" "$url" >/dev/null  # warm-up
before=$(cpu_ticks "$server")
taskset -c "$CLIENT_CPUS" h2load -D "$DURATION" "${h2load_args[@]}" "$url" | tee "$work/h2load"
after=$(cpu_ticks "$server")
calls=$(awk '/^requests:/ {print $8}' "$work/h2load")
hz=$(getconf CLK_TCK)
echo "command: taskset -c $CLIENT_CPUS h2load -D $DURATION ${h2load_args[*]} $url"
awk -v t="$((after - before))" -v hz="$hz" -v n="$calls" \
    'BEGIN { printf "server CPU per call: %.2f us (%d calls, %.2f s CPU)\n", 1e6 * t / hz / n, n, t / hz }'
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status")"
