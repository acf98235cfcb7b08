#!/usr/bin/env bash
# Where the server's CPU goes under load: perf (Debian linux-perf) samples a release sessiond,
# pinned to one core and loaded from the other exactly as compare.sh does, and prints the top
# symbols (self time) for one kind of request.
#   tools/bench/profile.sh grpc|rest-h2|rest-h1|connect-h2|connect-h1
#                                                   (DURATION=10 SERVER_CPUS=0 CLIENT_CPUS=1 TOP=40)
# CALLGRAPH=dwarf unwinds through libraries built without frame pointers (the Swift runtime), to
# see who calls swift_retain: `perf report -i … --no-children -S swift_retain -G`.
# Leaves the raw profile in /tmp/sessiond-profile-KIND.data for `perf report -i`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
kind=${1:-grpc}
DURATION=${DURATION:-10}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
TOP=${TOP:-40}
CALLGRAPH=${CALLGRAPH:-fp}
run_sessiond "$SERVER_CPUS"
session=$(.venv/bin/python tools/bench/seed.py --port "$port" --token "$token" --sessions 10000 --req "$work/req.bin")
auth="authorization: Bearer $token"
load() {
    case $kind in
        grpc) taskset -c "$CLIENT_CPUS" h2load -D "$1" -c 8 -m 32 -t 1 -d "$work/req.bin" -H 'content-type: application/grpc' \
                  -H 'te: trailers' -H "$auth" "http://127.0.0.1:$port/sessions.v1.SessionService/GetSession" ;;
        rest-h2) taskset -c "$CLIENT_CPUS" h2load -D "$1" -c 8 -m 32 -t 1 -H "$auth" "http://127.0.0.1:$port/api/sessions/$session" ;;
        rest-h1) taskset -c "$CLIENT_CPUS" wrk -t1 -c64 -d"$1s" -H "$auth" "http://127.0.0.1:$port/api/sessions/$session" ;;
        connect-h2) tail -c +6 "$work/req.bin" >"$work/connect-req.bin"
            taskset -c "$CLIENT_CPUS" h2load -D "$1" -c 8 -m 32 -t 1 -d "$work/connect-req.bin" -H 'content-type: application/proto' \
                -H 'connect-protocol-version: 1' -H "$auth" "http://127.0.0.1:$port/sessions.v1.SessionService/GetSession" ;;
        connect-h1) message=$(tail -c +6 "$work/req.bin" | base64 -w0 | tr '+/' '-_' | tr -d '=')
            taskset -c "$CLIENT_CPUS" wrk -t1 -c64 -d"$1s" -H "$auth" \
                "http://127.0.0.1:$port/sessions.v1.SessionService/GetSession?encoding=proto&base64=1&message=$message" ;;
        *) echo "unknown kind $kind" >&2; exit 2 ;;
    esac
}
load 2 >/dev/null  # warm-up
data=/tmp/sessiond-profile-$kind.data
perf record -q -F "$([[ $CALLGRAPH == dwarf ]] && echo 500 || echo 2000)" --call-graph "$CALLGRAPH" -p "$server" -o "$data" -- sleep "$DURATION" 2>/dev/null &
recorder=$!
load "$DURATION" | grep -E '^(finished in|requests:|Requests/sec)'
wait "$recorder"
perf report -i "$data" --no-children --percent-limit 0.4 --stdio -g none --sort symbol 2>/dev/null \
    | grep -E '^ +[0-9]' | sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//' | head -"$TOP"
