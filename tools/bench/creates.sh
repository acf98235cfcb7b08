#!/usr/bin/env bash
# Durable CreateSession through the real server (release, SQLite, fsync before every reply, a
# service JWT): one caller at a time (one transaction per request) beside CALLERS concurrent
# callers (group commit), in the same run. Server on CPU 0, the gRPC client on CPU 1.
#   tools/bench/creates.sh        (CALLERS=64 DURATION=10)
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLERS=${CALLERS:-64}
SECONDS_EACH=${DURATION:-10}
./tools/setup.sh >/dev/null
swift build -c release --product sessiond >/dev/null
swift build -c release --product create-bench >/dev/null
bins=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
taskset -c 0 "$bins/sessiond" serve --port 0 --data-dir "$work/data" >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 1 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/listening on .*:\([0-9]*\)/\1/p' "$work/out")
token=$("$bins/sessiond" token --sub bench --role service --org bench --data-dir "$work/data")
echo "command: tools/bench/creates.sh (create-bench --callers $CALLERS --seconds $SECONDS_EACH), $(date -u '+%Y-%m-%d %H:%M UTC')"
taskset -c 1 "$bins/create-bench" --port "$port" --token "$token" --callers "$CALLERS" --seconds "$SECONDS_EACH"
