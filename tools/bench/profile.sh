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
load() {
    sessiond_load "$kind" "$1" "$port" "$token" "$session" "$work/req.bin" "$CLIENT_CPUS"
}
load 2 >/dev/null  # warm-up
data=/tmp/sessiond-profile-$kind.data
perf record -q -F "$([[ $CALLGRAPH == dwarf ]] && echo 500 || echo 2000)" --call-graph "$CALLGRAPH" -p "$server" -o "$data" -- sleep "$DURATION" 2>/dev/null &
recorder=$!
load "$DURATION" | grep -E '^(finished in|requests:|Requests/sec)'
wait "$recorder"
perf report -i "$data" --no-children --percent-limit 0.4 --stdio -g none --sort symbol 2>/dev/null \
    | grep -E '^ +[0-9]' | sed 's/[[:space:]]*-[[:space:]]*-[[:space:]]*$//' | head -"$TOP"
