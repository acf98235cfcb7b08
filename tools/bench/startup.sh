#!/usr/bin/env bash
# Time to first reply after start on a big SQLite database (issue 20: ≤ 1 s at 1,000,000
# sessions): fills ROWS sessions with store-bench, then starts sessiond on that data directory
# RUNS times and measures, from the exec, until GET /api/sessions/<id> answers 200 (curl every
# 5 ms), with the page cache warm and, as root, dropped first (cold).
#   tools/bench/startup.sh          (ROWS=1000000 RUNS=5)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-5}
build_sessiond
store_bench=$(release_build store-bench)
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/data"
"$store_bench" --fill "$work/data/sessions.sqlite" --rows "$ROWS"
echo "database: $(du -h "$work/data/sessions.sqlite" | cut -f1)"
port=18799

measure() { # prints milliseconds from exec to the first 200
    local started now token
    started=$(date +%s%N)
    "$bin" serve --port "$port" --data-dir "$work/data" >"$work/out" 2>"$work/err" &
    server=$!
    token=$(cat "$work/token")
    until curl -sf -o /dev/null -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/sessions/sess_bulk000000042"; do
        kill -0 "$server" 2>/dev/null || { echo "sessiond exited: $(cat "$work/err")" >&2; exit 1; }
        sleep 0.005
    done
    now=$(date +%s%N)
    kill "$server"; wait "$server" 2>/dev/null || true
    echo $(((now - started) / 1000000))
}
# A first start creates the JWT secret the token is signed with.
"$bin" serve --port "$port" --data-dir "$work/data" >"$work/out" 2>"$work/err" &
server=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do sleep 0.05; done
kill "$server"; wait "$server" 2>/dev/null || true
"$bin" token --sub bench --role service --org bench --data-dir "$work/data" >"$work/token"
warm=(); cold=()
for _ in $(seq 1 "$RUNS"); do warm+=("$(measure)"); done
if [[ $(id -u) -eq 0 && -w /proc/sys/vm/drop_caches ]]; then
    for _ in $(seq 1 "$RUNS"); do sync; echo 3 >/proc/sys/vm/drop_caches; cold+=("$(measure)"); done
fi
echo "sessiond $("$bin" --version 2>/dev/null || true), $ROWS sessions"
echo "first reply after start, warm page cache (ms): ${warm[*]}"
[[ ${#cold[@]} -gt 0 ]] && echo "first reply after start, page cache dropped (ms): ${cold[*]}"
