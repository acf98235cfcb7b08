#!/usr/bin/env bash
# Durable CreateSession through the real server (release, SQLite, fsync before every reply, a
# service JWT): one caller at a time (one transaction per request) beside CALLERS concurrent
# callers (group commit), in the same run. Server on CPU 0, the gRPC client on CPU 1.
#   tools/bench/creates.sh        (CALLERS=64 DURATION=10)
# PROFILE=1 also samples the server with perf during the concurrent phase and prints its CPU by
# thread and library (raw data in /tmp/sessiond-profile-creates.data for `perf report -i`). The
# SQLite writer shows as "oot.default-qos": Foundation's Thread.name does not reach the kernel's
# name, so it keeps its creator's (com.apple.root.default-qos, cut to 15 characters).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
CALLERS=${CALLERS:-64}
SECONDS_EACH=${DURATION:-10}
./tools/setup.sh >/dev/null
sessiond=$(release_build sessiond)
create_bench=$(release_build create-bench)
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
start_sessiond "$sessiond" "$work" 0
echo "command: tools/bench/creates.sh (create-bench --callers $CALLERS --seconds $SECONDS_EACH), $(date -u '+%Y-%m-%d %H:%M UTC')"
taskset -c 1 "$create_bench" --port "$port" --token "$token" --callers "$CALLERS" --seconds "$SECONDS_EACH" --server-pid "$server" &
bench=$!
if [[ ${PROFILE:-0} == 1 ]]; then
    sleep $((SECONDS_EACH + 2))  # into the concurrent phase
    perf record -q -F 2000 -g -p "$server" -o /tmp/sessiond-profile-creates.data -- sleep $((SECONDS_EACH - 4)) 2>/dev/null
fi
wait "$bench"
if [[ ${PROFILE:-0} == 1 ]]; then
    perf report -i /tmp/sessiond-profile-creates.data --no-children --sort pid,dso --stdio -g none 2>/dev/null \
        | grep -E '^ +[0-9]' | sed 's/[[:space:]]*$//' | head -16
fi
