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
hz=$(getconf CLK_TCK)
# load KIND SECONDS: runs the load, prints the number of successful requests
load() {
    sessiond_load "$1" "$2" "$port" "$token" "$session" "$work/req.bin" | load_succeeded "$1"
}
for kind in "${kinds[@]}"; do
    load "$kind" 2 >/dev/null
    before=$(cpu_ticks "$server")
    count=$(load "$kind" "$DURATION")
    after=$(cpu_ticks "$server")
    awk -v k="$kind" -v n="$count" -v d="$DURATION" -v t="$((after - before))" -v hz="$hz" \
        'BEGIN { printf "%-8s %8.0f req/s  %6.2f us CPU/request\n", k, n / d, n ? 1e6 * t / hz / n : 0 }'
done
