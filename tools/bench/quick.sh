#!/usr/bin/env bash
# sessiond alone, for trying a change: the three loads of compare.sh (gRPC GetSession, REST GET
# over h2 and over HTTP/1.1, with a service JWT), a 2 s warm-up and DURATION seconds each, server
# pinned to one core and load on the other; prints req/s and the server's CPU µs per request.
# Ratios against the peers come only from compare.sh.
#   tools/bench/quick.sh [grpc] [rest-h2] [rest-h1]     (DURATION=5)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
DURATION=${DURATION:-5}
kinds=("$@")
((${#kinds[@]})) || kinds=(grpc rest-h2 rest-h1)
run_sessiond 0
session=$(.venv/bin/python tools/bench/seed.py --port "$port" --token "$token" --sessions 10000 --req "$work/req.bin")
auth="authorization: Bearer $token"
ticks() { awk '{print $14+$15}' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
# load KIND SECONDS: runs the load, prints the number of successful requests
load() {
    case $1 in
        grpc) taskset -c 1 h2load -D "$2" -c 8 -m 32 -t 1 -d "$work/req.bin" -H 'content-type: application/grpc' \
                  -H 'te: trailers' -H "$auth" "http://127.0.0.1:$port/sessions.v1.SessionService/GetSession" \
                  | awk '/^requests:/ {print $8}' ;;
        rest-h2) taskset -c 1 h2load -D "$2" -c 8 -m 32 -t 1 -H "$auth" "http://127.0.0.1:$port/api/sessions/$session" \
                     | awk '/^status codes:/ {gsub(",", "", $3); print $3}' ;;
        rest-h1) taskset -c 1 wrk -t1 -c64 -d"$2s" -H "$auth" "http://127.0.0.1:$port/api/sessions/$session" \
                     | awk '/requests in/ {n=$1} /Non-2xx/ {n=0} END {print n}' ;;
        *) echo "unknown load $1" >&2; exit 2 ;;
    esac
}
for kind in "${kinds[@]}"; do
    load "$kind" 2 >/dev/null
    before=$(ticks)
    count=$(load "$kind" "$DURATION")
    after=$(ticks)
    awk -v k="$kind" -v n="$count" -v d="$DURATION" -v t="$((after - before))" -v hz="$hz" \
        'BEGIN { printf "%-8s %8.0f req/s  %6.2f us CPU/request\n", k, n / d, n ? 1e6 * t / hz / n : 0 }'
done
